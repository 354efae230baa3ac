#!/usr/bin/env bash
# One screenshot per panel of the GUI under Xvfb, with the sample book project (samples/make_sample_book.sh: the
# novel, its characters with aliases, facts with chapter ranges; plus one consistency finding) and a 红楼梦
# chapter open in the editor; checks that each PNG shows the chapter's text (ink in the editor column), that the
# editor drew its lines, and that no character lacked a glyph. The PNGs stay in <build>/screenshots/ for a person to look at.
set -u
BIN=$1
SRC=$2
command -v xvfb-run >/dev/null || { echo "ui_screenshots: xvfb-run missing (scripts/setup.sh installs it)"; exit 1; }
OUT=$(cd "$BIN/.." && pwd)/screenshots
mkdir -p "$OUT"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export XDG_CONFIG_HOME=$tmp/config
db=$tmp/hlm.cjbook
C="$BIN/changjuan-cli"
book=$(bash "$SRC/samples/make_sample_book.sh" "$C" "$db") || { echo "ui_screenshots: building the sample project failed"; exit 1; }
[ "$book" = 1 ] || { echo "ui_screenshots: unexpected book id '$book'"; exit 1; }
# storage has no command for findings yet (the checker adds them); one row stands in for a checker's result.
python3 - "$db" <<'PY' || { echo "ui_screenshots: cannot add a finding"; exit 1; }
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
body = db.execute("select body from chapters where book_id=1 and ordinal=3").fetchone()[0]
i = body.find('林黛玉'); now = int(time.time() * 1000)
db.execute("insert into findings(book_id, chapter, span_begin, span_end, kind, message, evidence, status, created_at,"
           " updated_at) values (1, 3, ?, ?, 'timeline', ?, '第二回', 'open', ?, ?)",
           (i, i + 3, '此处称黛玉“年方五岁”，与第二回贾敏病故时所述年纪不合。', now, now))
db.commit()
PY
fails=0
for panel in chapters editor ai entities outline findings search jobs context engine; do
  png=$OUT/panel_$panel.png
  rm -f "$png"
  if [ "$panel" = search ]; then  # the search panel with results of a real query
    printf 'wait 3\nkey ctrl+f\nwait 2\ntype 黛玉\nkey enter\nwait 3\nscreenshot %s\nquit\n' "$png" > "$tmp/search.script"
    log=$(xvfb-run -a -s "-screen 0 1280x800x24" "$BIN/changjuan" --db "$db" --book 1 --chapter 3 --no-restore \
          --script "$tmp/search.script" 2>&1)
  else
    log=$(xvfb-run -a -s "-screen 0 1280x800x24" "$BIN/changjuan" --db "$db" --book 1 --chapter 3 --no-restore \
          --panel "$panel" --screenshot "$png" --frames 4 2>&1)
  fi
  rc=$?
  if [ $rc -ne 0 ] || [ ! -s "$png" ]; then echo "FAIL $panel: exit $rc: $log"; fails=$((fails+1)); continue; fi
  lines=$(sed -n 's/.*editor shows \([0-9]*\) lines.*/\1/p' <<<"$log")
  missing=$(sed -n 's/.*; \([0-9]*\) characters lack a glyph.*/\1/p' <<<"$log")
  if [ "${lines:-0}" -lt 15 ]; then echo "FAIL $panel: the editor drew ${lines:-0} lines"; fails=$((fails+1)); fi
  if [ "${missing:-1}" -ne 0 ]; then echo "FAIL $panel: ${missing:-?} characters without a glyph: $log"; fails=$((fails+1)); fi
  python3 - "$png" <<'PY' || fails=$((fails+1))
import sys, zlib, struct
data = open(sys.argv[1], 'rb').read()
assert data[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
w, h = struct.unpack('>II', data[16:24])
idat = b''; i = 8
while i < len(data):
    n = struct.unpack('>I', data[i:i+4])[0]; t = data[i+4:i+8]
    if t == b'IDAT': idat += data[i+8:i+8+n]
    i += 12 + n
raw = zlib.decompress(idat)
stride = w * 4 + 1
assert all(raw[r * stride] == 0 for r in range(h)), 'rows are filtered (changjuan writes unfiltered PNGs)'
def ink(x0, x1, y0, y1):  # dark pixels (text) in a box
    n = 0
    for y in range(y0, y1):
        row = raw[y * stride + 1 + x0 * 4: y * stride + 1 + x1 * 4]
        n += sum(1 for k in range(0, len(row), 4) if row[k] < 110 and row[k + 1] < 110 and row[k + 2] < 110)
    return n
editor = ink(w * 30 // 100, w * 64 // 100, 120, h - 80)
right = ink(w * 70 // 100, w - 10, 40, h - 80)
left = ink(10, w * 20 // 100, 40, h - 80)
name = sys.argv[1]
if editor < 3000: sys.exit(f'FAIL {name}: editor column nearly empty ({editor} ink pixels)')
if left < 1000: sys.exit(f'FAIL {name}: chapter tree nearly empty ({left} ink pixels)')
if right < 200: sys.exit(f'FAIL {name}: right panel nearly empty ({right} ink pixels)')
PY
done
echo "ui_screenshots: $fails failed (PNGs in $OUT)"
[ $fails -eq 0 ]
