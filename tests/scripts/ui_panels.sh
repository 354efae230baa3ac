#!/usr/bin/env bash
# The jobs and findings panels with what a real project holds: jobs made by the CLI (a 续写, a draft, one that
# failed) and a book with hundreds of findings. Without a model and with one, the jobs panel shows each CLI job's
# 字 (it used to say 0) and a failure's reason in Chinese, with no 继续 for a failure; the findings panel groups
# ~600 findings by kind and name with counts, a click on an occurrence selects its span in the editor, and
# 全部忽略 dismisses one name's findings and nothing else. Screenshots: build/screenshots/panels_*.png; frame times
# with the findings panel open are printed (a measurement, not a pass/fail bound).
set -u
BIN=$1
SRC=$2
command -v xvfb-run >/dev/null || { echo "ui_panels: xvfb-run missing"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export HOME=$tmp XDG_CONFIG_HOME=$tmp/config
CLI=$BIN/changjuan-cli
MODEL=$SRC/samples/model/changjuan-sample-qwen3.gguf
db=$tmp/p.cjbook
OUT=$(cd "$BIN/.." && pwd)/screenshots; mkdir -p "$OUT"
"$CLI" import --db "$db" --file "$SRC/samples/book/hongloumeng-1-20.txt" --no-summaries --json >/dev/null || { echo "FAIL: import"; exit 1; }
# Jobs made from the command line: a 续写, a draft of a new chapter, and one that fails (a 128-token window cannot
# hold the request).
"$CLI" continue --db "$db" --book 1 --chapter 3 --model "$MODEL" --tokens 40 --seed 5 >/dev/null 2>&1 || { echo "FAIL: continue"; exit 1; }
"$CLI" draft --db "$db" --book 1 --chapters 21 --outline-file "$SRC/samples/book/outline-21.txt" --words 150 \
  --model "$MODEL" --seed 7 >/dev/null 2>&1 || { echo "FAIL: draft"; exit 1; }
"$CLI" continue --db "$db" --book 1 --chapter 3 --ctx 128 --model "$MODEL" --tokens 8 >/dev/null 2>&1
[ "$(sqlite3 "$db" "select count(*) from jobs where status='failed'")" = 1 ] || { echo "FAIL: the 128-token job should fail"; exit 1; }
# Hundreds of findings (as a checker run on a long book leaves them): five names and two kinds, at real spans.
/usr/bin/python3 - "$db" > "$tmp/facts.txt" <<'PY'
import random, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1]); random.seed(3); now = int(time.time() * 1000)
chapters = db.execute("select c.ordinal, r.body from chapters c join chapter_revisions r on r.id = c.revision_id where c.book_id = 1 and c.ordinal between 1 and 20").fetchall()
groups = [("name_variant", "宝王", "「宝王」疑为「宝玉」的误写", 180), ("name_variant", "黛王", "「黛王」疑为「黛玉」的误写", 120),
          ("name_variant", "凤组", "「凤组」疑为「凤姐」的误写", 90), ("after_death", "秦可卿", "秦可卿已死，此处又出场", 110),
          ("timeline", "", "时间倒退：前文已入冬，此处又是春天", 100)]
first = None
for kind, subject, msg, n in groups:
    for _ in range(n):
        ordinal, body = random.choice(chapters)
        b = random.randint(0, len(body) - 10)
        cur = db.execute("insert into findings(book_id, chapter, span_begin, span_end, kind, message, evidence, status, created_at, updated_at, subject) values (1, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?)",
                         (ordinal, b, b + 4, kind, msg, body[max(0, b - 10):b + 14], now, now, subject))
        if subject == "黛王" and (first is None or (ordinal, b) < first[0]): first = ((ordinal, b), cur.lastrowid, body[b:b + 4])
db.commit()
print(first[1]); print(first[2])  # the first 「黛王」 finding in the list's order (chapter, span)
PY
fid=$(sed -n 1p "$tmp/facts.txt"); fspan=$(sed -n 2p "$tmp/facts.txt")
jq() { /usr/bin/python3 -c "import sqlite3,json,sys; r=sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone(); print(r[0])" "$db" "$1"; }
cont_zi=$(jq "select json_extract(result,'\$.chars') from jobs where kind='workflow:continue' and status='done'")
draft_zi=$(jq "select json_extract(result,'\$.chars') from jobs where kind='workflow:draft'")
[ "$cont_zi" -gt 0 ] && [ "$draft_zi" -gt 0 ] || { echo "FAIL: the CLI jobs wrote nothing ($cont_zi, $draft_zi)"; exit 1; }

# Without a model: the jobs the project records, with their figures.
cat > "$tmp/a.script" <<EOF
wait 3
open 2
panel jobs
wait 5
expect-ui-text 写了 $cont_zi 字
expect-ui-text 写了 $draft_zi 字
expect-ui-text 上下文窗口放不下这个请求
screenshot $OUT/panels_jobs_no_model.png
panel findings
wait 5
expect-label 「宝王」 180 处
expect-label 「黛王」 120 处
expect-label 「秦可卿」 110 处
expect-ui-text 600 条待处理
screenshot $OUT/panels_findings.png
click-label 「黛王」 120 处
wait 3
click-label finding $fid
wait 5
expect-selection $fspan
screenshot $OUT/panels_findings_open.png
click-label 全部忽略 「宝王」
wait 5
expect-no-label 「宝王」 180 处
expect-ui-text 420 条待处理
repeat 60 wheel -1
wait 3
EOF
timeout 300 xvfb-run -a -s "-screen 0 1280x800x24" "$BIN/changjuan" --db "$db" --book 1 --script "$tmp/a.script" \
  --frame-stats >"$tmp/log" 2>&1
rc=$?
grep frame-stats "$tmp/log"
[ $rc -eq 0 ] || { echo "FAIL: the script exited $rc"; cat "$tmp/log"; exit 1; }
/usr/bin/python3 - "$db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
by = dict(db.execute("select subject || '/' || status, count(*) from findings group by 1").fetchall())
assert by.get("宝王/dismissed") == 180 and "宝王/open" not in by, by
assert by.get("黛王/open") == 120 and by.get("秦可卿/open") == 110 and by.get("/open") == 100, by
print("ui_panels: 全部忽略 dismissed the 180 「宝王」 findings and nothing else")
PY
[ $? -eq 0 ] || { echo "FAIL: the findings after 全部忽略"; exit 1; }

# With the model loaded: the queue lists the same CLI jobs with the same figures; a failure offers no 继续.
cat > "$tmp/b.script" <<EOF
wait 3
wait-ai ready
panel jobs
wait 5
expect-ui-text 写了 $cont_zi 字
expect-ui-text 写了 $draft_zi 字
expect-ui-text 上下文窗口放不下这个请求
expect-no-label 继续
expect-no-label 接着写
screenshot $OUT/panels_jobs_model.png
EOF
timeout 300 xvfb-run -a -s "-screen 0 1280x800x24" "$BIN/changjuan" --db "$db" --book 1 --model "$MODEL" \
  --script "$tmp/b.script" >"$tmp/log2" 2>&1 || { echo "FAIL: the second script"; cat "$tmp/log2"; exit 1; }
echo "ui_panels: CLI jobs show $cont_zi 字 and $draft_zi 字 with and without a model"
