#!/usr/bin/env bash
# Frame time while editing a 20,000-字 chapter under Xvfb: one chapter made of 第一回–第三回 of the sample
# (about 22,000 字), paged through, typed into in the middle (each keystroke re-lays out one paragraph) and
# scrolled with the wheel. Prints changjuan's --frame-stats line (a measurement, not a pass/fail on time: the
# software renderer of Xvfb is far slower than a GPU); fails only if the run fails or the chapter is not the
# size it should be.
set -u
BIN=$1
SRC=$2
command -v xvfb-run >/dev/null || { echo "ui_frame_time: xvfb-run missing (scripts/setup.sh installs it)"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export XDG_CONFIG_HOME=$tmp/config
python3 - "$SRC/samples/book/hongloumeng-1-20.txt" "$tmp/long.txt" <<'PY'
import sys, re
t = open(sys.argv[1], encoding='utf-8').read().replace('\r\n', '\n')
a = t.index('第一回'); b = t.index('第四回')
body = re.sub(r'^第[一二三]回.*$', '', t[a:b], flags=re.M)
open(sys.argv[2], 'w', encoding='utf-8').write('第一章  长章\n' + body)
PY
cat > "$tmp/perf.script" <<'S'
wait 5
click 560 400
repeat 120 key pagedown
repeat 60 type 字
repeat 30 key backspace
repeat 120 wheel 3
repeat 120 key pageup
repeat 60 key down
expect-text 字字字
quit
S
log=$(xvfb-run -a -s "-screen 0 1280x800x24" "$BIN/changjuan" --open "$tmp/long.txt" --no-restore --frame-stats \
      --script "$tmp/perf.script" 2>&1)
rc=$?
echo "$log" | grep frame-stats
fails=0
[ $rc -eq 0 ] || { echo "FAIL: exit $rc: $log"; fails=1; }
zi=$(sed -n 's/.*chapter_zi=\([0-9]*\).*/\1/p' <<<"$log")
[ "${zi:-0}" -ge 20000 ] || { echo "FAIL: the chapter has ${zi:-?} 字, not >= 20000"; fails=1; }
echo "ui_frame_time: $fails failed"
[ $fails -eq 0 ]
