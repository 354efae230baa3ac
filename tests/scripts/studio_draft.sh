#!/usr/bin/env bash
# Batch drafting end to end: import a two-chapter book, draft chapters 3-5 from an outline with a tiny
# random-weight Qwen3 model, interrupt the run with SIGINT mid-chapter (exit 130, text checkpointed), re-run the
# same command (it skips finished chapters and continues the interrupted one from its text), then check the
# revisions, the writer's chapters and `jobs list/cancel/resume --json`; continue and rewrite once each.
set -u
BIN=$1; SRC=$2
CLI=$BIN/changjuan-cli
PY=/usr/bin/python3
fails=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fails=$((fails+1)); fi; }
tmp=$(mktemp -d); [ -n "${KEEP:-}" ] || trap 'rm -rf "$tmp"' EXIT; echo "tmp=$tmp"

"$CLI" make-model --arch qwen3 --layers 2 --embd 64 --heads 4 --kv-heads 2 --ff 128 --type q8_0 \
  --tokenizer "$SRC/samples/tokenizer/qwen3/tokenizer.json" --seed 3 --out "$tmp/q.gguf" 2>/dev/null
check "make-model exits 0" '[ $? -eq 0 ]'
printf '《试稿》无名氏\n\n第一章 起\n林冲夜奔，风雪满山。\n\n第二章 承\n鲁智深倒拔垂杨柳。\n' > "$tmp/book.txt"
"$CLI" import --db "$tmp/p.cjdb" --file "$tmp/book.txt" >/dev/null
check "import exits 0" '[ $? -eq 0 ]'
printf '## 3 风雪山神庙\n林冲在草料场，风雪压塌草厅。\n## 4 智取生辰纲\n吴用定计。\n## 5 景阳冈\n武松打虎。\n' > "$tmp/outline.txt"
DRAFT=("$CLI" draft --db "$tmp/p.cjdb" --book 1 --chapters 3-5 --outline-file "$tmp/outline.txt" --model "$tmp/q.gguf"
       --words 600 --threads 1 --checkpoint-every 4 --seed 1)
before=$(sqlite3 "$tmp/p.cjdb" "SELECT group_concat(id || ':' || revision_id || ':' || hex(body), ',') FROM chapters")

# First run: interrupted once chapter 3 has some checkpointed text.
"${DRAFT[@]}" 2> "$tmp/err1.txt" &
pid=$!
for i in $(seq 1 300); do
  n=$(sqlite3 "$tmp/p.cjdb" "SELECT coalesce(max(json_extract(checkpoint,'\$.chars')),0) FROM jobs" 2>/dev/null || echo 0)
  [ "${n:-0}" -ge 30 ] && break
  sleep 0.05
done
kill -INT $pid
wait $pid; rc=$?
check "interrupted draft exits 130 (rc $rc; $(tail -n 2 "$tmp/err1.txt" | tr '\n' ' '))" '[ $rc -eq 130 ]'
check "stderr says how to continue" 'grep -q "run the same command again" "$tmp/err1.txt"'
ck=$(sqlite3 "$tmp/p.cjdb" "SELECT json_extract(checkpoint,'\$.text') FROM jobs WHERE status='queued' ORDER BY id LIMIT 1")
check "the interrupted chapter's text is checkpointed" '[ -n "$ck" ]'
ckjob=$(sqlite3 "$tmp/p.cjdb" "SELECT id FROM jobs WHERE status='queued' ORDER BY id LIMIT 1")

# Second run: continues and finishes all three.
"${DRAFT[@]}" --json > "$tmp/report.json" 2> "$tmp/err2.txt"
rc=$?
check "re-run exits 0 (rc $rc; $(tail -n 2 "$tmp/err2.txt" | tr '\n' ' '))" '[ $rc -eq 0 ]'
check "report covers chapters 3-5, each done with >= 600 字" '$PY -c "
import json,sys
r=json.load(open(sys.argv[1]))
assert [x[\"chapter\"] for x in r]==[3,4,5], r
assert all(x[\"status\"]==\"done\" for x in r), r
assert all(x.get(\"skipped\") or x[\"chars\"]>=600 for x in r), r
" "$tmp/report.json"'
rev=$(sqlite3 "$tmp/p.cjdb" "SELECT r.body FROM chapter_revisions r WHERE r.id = (SELECT json_extract(result,'\$.revision_id') FROM jobs WHERE id=$ckjob)")
check "the resumed chapter continues the checkpointed text" '[ "${rev:0:${#ck}}" = "$ck" ] && [ ${#rev} -gt ${#ck} ]'
after=$(sqlite3 "$tmp/p.cjdb" "SELECT group_concat(id || ':' || revision_id || ':' || hex(body), ',') FROM chapters WHERE ordinal <= 2")
check "the writer's chapters are untouched" '[ "$before" = "$after" ]'
check "drafted chapters exist, empty until accepted" '[ "$(sqlite3 "$tmp/p.cjdb" "SELECT count(*) FROM chapters WHERE ordinal BETWEEN 3 AND 5 AND body = \"\"")" = 3 ]'
check "drafted chapters are numbered like the book's own headings" '[ "$(sqlite3 "$tmp/p.cjdb" "SELECT group_concat(heading, \"|\") FROM (SELECT heading FROM chapters WHERE ordinal BETWEEN 3 AND 5 ORDER BY ordinal)")" = "第三章 风雪山神庙|第四章 智取生辰纲|第五章 景阳冈" ]'
check "three AI revisions" '[ "$(sqlite3 "$tmp/p.cjdb" "SELECT count(*) FROM chapter_revisions WHERE source = \"ai\"")" = 3 ]'
"${DRAFT[@]}" 2> "$tmp/err3.txt"
check "a third run skips everything" '[ $? -eq 0 ] && [ "$(grep -c "already drafted" "$tmp/err3.txt")" = 3 ]'

# jobs list / cancel / resume.
"$CLI" jobs list --db "$tmp/p.cjdb" --json > "$tmp/jobs.json"
check "jobs list --json: 3 done draft jobs" '$PY -c "
import json,sys
j=json.load(open(sys.argv[1])); assert len(j)==3 and all(x[\"status\"]==\"done\" and x[\"kind\"]==\"workflow:draft\" for x in j), j
" "$tmp/jobs.json"'
"$CLI" continue --db "$tmp/p.cjdb" --book 1 --chapter 2 --model "$tmp/q.gguf" --tokens 12 --temp 0 --json > "$tmp/cont.json"
check "continue --json: done, revision whose text starts with chapter 2" '$PY -c "
import json,sys
j=json.load(open(sys.argv[1])); assert j[\"status\"]==\"done\" and j[\"revision_id\"]>0 and j[\"gen_tokens\"]>0, j
" "$tmp/cont.json" && sqlite3 "$tmp/p.cjdb" "SELECT body FROM chapter_revisions WHERE id=$($PY -c "import json,sys;print(json.load(open(sys.argv[1]))[\"revision_id\"])" "$tmp/cont.json")" | grep -q "鲁智深倒拔垂杨柳。"'
"$CLI" rewrite --db "$tmp/p.cjdb" --book 1 --chapter 1 --from 0 --to 4 --mode expand --model "$tmp/q.gguf" --tokens 8 --json > "$tmp/rw.json"
check "rewrite --json: done" '$PY -c "import json,sys; j=json.load(open(sys.argv[1])); assert j[\"status\"]==\"done\", j" "$tmp/rw.json"'
"$CLI" rewrite --db "$tmp/p.cjdb" --book 1 --chapter 1 --from 4 --to 4 --model "$tmp/q.gguf" 2> "$tmp/rw_err.txt"
check "an empty selection is refused with a message" '[ $? -ne 0 ] && grep -q "selection is empty" "$tmp/rw_err.txt"'
"$CLI" jobs cancel --db "$tmp/p.cjdb" --id 1 2> "$tmp/c.txt"
check "cancelling a done job fails" '[ $? -ne 0 ] && grep -q "already done" "$tmp/c.txt"'
jid=$(sqlite3 "$tmp/p.cjdb" "INSERT INTO jobs(kind, params, status, progress, message, created_at, updated_at, book_id) VALUES ('workflow:continue', '{\"kind\":\"continue\",\"book_id\":1,\"ordinal\":2,\"max_tokens\":6}', 'queued', 0, '', 0, 0, 1); SELECT last_insert_rowid();")
"$CLI" jobs cancel --db "$tmp/p.cjdb" --id "$jid" --json > "$tmp/c.json"
check "jobs cancel --json" '$PY -c "import json,sys; assert json.load(open(sys.argv[1]))[\"status\"]==\"cancelled\"" "$tmp/c.json"'
"$CLI" jobs resume --db "$tmp/p.cjdb" --id "$jid" --model "$tmp/q.gguf" --json > "$tmp/r.json"
check "jobs resume --model runs it to done" '$PY -c "import json,sys; j=json.load(open(sys.argv[1])); assert j[\"status\"]==\"done\" and j[\"result\"][\"revision_id\"]>0, j" "$tmp/r.json"'

# --parallel 3: three chapters at once on one engine (one batch), interrupted mid-way, then resumed to the end.
"$CLI" import --db "$tmp/par.cjdb" --file "$tmp/book.txt" >/dev/null
PAR=("$CLI" draft --db "$tmp/par.cjdb" --book 1 --chapters 3-5 --outline-file "$tmp/outline.txt" --model "$tmp/q.gguf"
     --words 400 --threads 1 --checkpoint-every 4 --seed 1 --parallel 3)
"${PAR[@]}" 2> "$tmp/perr1.txt" &
pid=$!
for i in $(seq 1 300); do
  n=$(sqlite3 "$tmp/par.cjdb" "SELECT count(*) FROM jobs WHERE json_extract(checkpoint,'\$.chars') >= 20" 2>/dev/null || echo 0)
  [ "${n:-0}" -ge 2 ] && break
  sleep 0.05
done
running=$(sqlite3 "$tmp/par.cjdb" "SELECT count(*) FROM jobs WHERE status='running'")
check "--parallel 3 runs chapters at the same time ($running running)" '[ "$running" -ge 2 ]'
kill -INT $pid
wait $pid; rc=$?
check "interrupted parallel draft exits 130 (rc $rc)" '[ $rc -eq 130 ]'
check "no job is left running" '[ "$(sqlite3 "$tmp/par.cjdb" "SELECT count(*) FROM jobs WHERE status=\"running\"")" = 0 ]'
"${PAR[@]}" --json > "$tmp/preport.json" 2> "$tmp/perr2.txt"
rc=$?
check "parallel re-run exits 0 (rc $rc; $(tail -n 2 "$tmp/perr2.txt" | tr '\n' ' '))" '[ $rc -eq 0 ]'
check "parallel report: chapters 3-5 done" '$PY -c "
import json,sys
r=json.load(open(sys.argv[1]))
assert [x[\"chapter\"] for x in r]==[3,4,5], r
assert all(x[\"status\"]==\"done\" for x in r), r
" "$tmp/preport.json"'
check "three AI revisions from the parallel run" '[ "$(sqlite3 "$tmp/par.cjdb" "SELECT count(*) FROM chapter_revisions WHERE source = \"ai\"")" = 3 ]'

echo "studio_draft: $fails failed"
[ $fails -eq 0 ]
