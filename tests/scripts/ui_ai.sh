#!/usr/bin/env bash
# The AI panel under Xvfb with the sample Qwen3 model: continue streams text, Esc cancels it (the job is
# cancelled, the chapter untouched), a second continue runs to the end and is accepted (a new current revision).
# Then a draft made outside the GUI (the CLI) waits in chapter 5: opening that chapter offers it, and 接受 takes it.
set -u
BIN=$1
SRC=$2
command -v xvfb-run >/dev/null || { echo "ui_ai: xvfb-run missing"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export XDG_CONFIG_HOME=$tmp/config
db=$tmp/p.cjbook
"$BIN/changjuan-cli" import --db "$db" --file "$SRC/samples/book/hongloumeng-1-20.txt" >/dev/null || { echo "ui_ai: import failed"; exit 1; }
# The project's sample model (samples/model): a real Qwen3-architecture model, so the streamed text is Chinese.
cp "$SRC/samples/model/changjuan-sample-qwen3.gguf" "$tmp/m.gguf" || { echo "ui_ai: the sample model is missing"; exit 1; }
OUT=$(cd "$BIN/.." && pwd)/screenshots; mkdir -p "$OUT"
cat > "$tmp/a.script" <<S
wait 3
open 2
wait 3
wait-ai model
ai continue 4000
wait-ai streaming
wait 40
screenshot $OUT/panel_ai_streaming.png
key escape
wait-ai cancelled
wait 2
ai continue 64
wait-ai done
wait 2
screenshot $OUT/panel_ai_done.png
ai accept
wait 3
panel context
sleep 1500
wait 3
screenshot $OUT/panel_context_ai.png
panel engine
wait 3
screenshot $OUT/panel_engine_ai.png
panel jobs
wait 3
screenshot $OUT/panel_jobs_ai.png
quit
S
before=$(/usr/bin/python3 -c "import sqlite3,sys;print(sqlite3.connect(sys.argv[1]).execute('select revision_id from chapters where book_id=1 and ordinal=3').fetchone()[0])" "$db")
timeout 300 xvfb-run -a -s "-screen 0 1280x800x24" "$BIN/changjuan" --db "$db" --book 1 --model "$tmp/m.gguf" --script "$tmp/a.script" \
  --frame-stats >"$tmp/log" 2>&1
rc=$?
grep frame-stats "$tmp/log"
[ $rc -eq 0 ] || { echo "FAIL: the script exited $rc"; cat "$tmp/log"; exit 1; }
/usr/bin/python3 - "$db" "$before" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1]); before = int(sys.argv[2])
jobs = db.execute("select id, status, result from jobs order by id").fetchall()
assert [j[1] for j in jobs] == ["cancelled", "done"], jobs
import json
rev = json.loads(jobs[1][2])["revision_id"]
cur, = db.execute("select revision_id from chapters where book_id=1 and ordinal=3").fetchone()
assert cur == rev and cur != before, (cur, rev, before)
src, = db.execute("select source from chapter_revisions where id=?", (cur,)).fetchone()
assert src == "ai", src
# the cancelled run wrote nothing: the only ai revision is the accepted one
n, = db.execute("select count(*) from chapter_revisions where source='ai'").fetchone()
assert n == 1, n
print("ui_ai: cancelled job left the chapter untouched; accepted revision", cur, "is current")
PY

# A revision the CLI made waits in chapter 5; the GUI offers it when the chapter opens.
"$BIN/changjuan-cli" continue --db "$db" --book 1 --chapter 5 --model "$tmp/m.gguf" --tokens 32 --seed 2 --json \
  > "$tmp/cont.json" || { echo "FAIL: changjuan-cli continue"; exit 1; }
waiting=$(/usr/bin/python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['revision_id'])" "$tmp/cont.json")
cat > "$tmp/b.script" <<S
wait 3
open 4
wait 5
ai accept
wait 3
quit
S
timeout 120 xvfb-run -a -s "-screen 0 1280x800x24" "$BIN/changjuan" --db "$db" --book 1 --model "$tmp/m.gguf" \
  --script "$tmp/b.script" >"$tmp/log2" 2>&1 || { echo "FAIL: the second script"; cat "$tmp/log2"; exit 1; }
cur=$(/usr/bin/python3 -c "import sqlite3,sys;print(sqlite3.connect(sys.argv[1]).execute('select revision_id from chapters where book_id=1 and ordinal=5').fetchone()[0])" "$db")
[ "$cur" = "$waiting" ] || { echo "FAIL: the waiting revision $waiting was not offered and accepted (current $cur)"; cat "$tmp/log2"; exit 1; }
echo "ui_ai: the CLI's waiting revision $waiting was offered on opening chapter 5 and accepted"
