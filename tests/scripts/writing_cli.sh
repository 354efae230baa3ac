#!/usr/bin/env bash
# The writing loop from the command line, with the sample model: import (a human summary by default, JSON with
# --json), outline set/get, draft from the stored outlines (it says how to accept), revisions list/show/diff/
# accept/restore, jobs list/cancel in words, export and summarize in words, context writing nothing unasked, the
# prompt a request sends, and seeds: a fresh one per request, stored with the revision, reproducing the text.
set -u
BIN=$(cd "$1" && pwd); SRC=$(cd "$2" && pwd)
CLI=$BIN/changjuan-cli
PY=/usr/bin/python3
MODEL=$SRC/samples/model/changjuan-sample-qwen3.gguf
fails=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fails=$((fails+1)); fi; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
D=$tmp/p.cjbook
cd "$tmp"

out=$("$CLI" import --db "$D" --file "$SRC/samples/book/hongloumeng-1-20.txt"); rc=$?
check "import exits 0" '[ $rc -eq 0 ]'
check "import says what it did in words ($out)" 'printf "%s" "$out" | grep -q "^已导入《红楼梦》：20 章（第一回 至 第二十回）" && printf "%s" "$out" | grep -q "^全书 .* 万字，最长的一章是第"'
check "import builds the summaries" 'printf "%s" "$out" | grep -q "已生成全书与各章的摘要"'
check "import is not JSON by default" '! printf "%s" "$out" | grep -q "^{"'
out=$("$CLI" import --db "$tmp/j.cjbook" --file "$SRC/samples/book/hongloumeng-1-20.txt" --json --no-summaries)
check "import --json" 'printf "%s" "$out" | $PY -c "import json,sys; j=json.load(sys.stdin); assert j[\"chapters\"]==20 and j[\"summaries\"] is False"'

# Outlines, as the GUI's 大纲 keeps them.
"$CLI" outline set --db "$D" --book 1 --chapter 21 --file "$SRC/samples/book/outline-21.txt" > "$tmp/o.txt"; rc=$?
check "outline set ($(cat "$tmp/o.txt"))" '[ $rc -eq 0 ] && grep -q "第二十一回的大纲" "$tmp/o.txt"'
check "outline get returns it" '"$CLI" outline get --db "$D" --book 1 --chapter 21 | cmp -s - "$SRC/samples/book/outline-21.txt"'
check "outline get --json" '"$CLI" outline get --db "$D" --book 1 --chapter 21 --json | $PY -c "import json,sys; assert \"湘云\" in json.load(sys.stdin)[\"outline\"]"'
check "outline of a chapter without one is empty" '[ -z "$("$CLI" outline get --db "$D" --book 1 --chapter 5 2>/dev/null)" ]'

# A range after the book's last chapter that leaves a gap is refused, naming the next chapter; nothing is made.
"$CLI" draft --db "$D" --book 1 --chapters 22-23 --words 120 --model "$MODEL" --outline-file "$SRC/samples/book/outline-21.txt" > /dev/null 2> "$tmp/gap.txt"; rc=$?
check "draft --chapters 22-23 after 第二十回 is refused ($(cat "$tmp/gap.txt"))" '[ $rc -eq 1 ] && [ $(wc -l < "$tmp/gap.txt") -eq 1 ] && grep -q "the next chapter is 第二十一回 (21)" "$tmp/gap.txt"'
check "the refused draft made no chapter" '[ "$($PY -c "import sqlite3; print(sqlite3.connect(\"$D\").execute(\"select count(*) from chapters where book_id=1\").fetchone()[0])")" = 20 ]'
# draft with no --outline-file: the stored outline; it says how to accept (--seed S drafts chapter N with S + N).
"$CLI" draft --db "$D" --book 1 --chapters 21 --words 120 --model "$MODEL" --seed 11 > "$tmp/draft.txt" 2> "$tmp/draft.err"; rc=$?
check "draft from the stored outline (rc $rc: $(tail -1 "$tmp/draft.err"))" '[ $rc -eq 0 ]'
rev=$(sed -n 's/.*revisions accept --db [^ ]* --id \([0-9]*\).*/\1/p' "$tmp/draft.txt" | head -1)
check "draft prints how to accept ($(cat "$tmp/draft.txt"))" '[ -n "$rev" ] && grep -q "待接受" "$tmp/draft.txt"'
"$CLI" draft --db "$D" --book 1 --chapters 22 --words 120 --model "$MODEL" > /dev/null 2> "$tmp/e.txt"; rc=$?
check "draft without any outline says how to give one" '[ $rc -eq 1 ] && grep -q "outline set" "$tmp/e.txt"'

# revisions: list / show / diff / accept / restore.
out=$("$CLI" revisions list --db "$D" --book 1 --chapter 21)
check "revisions list shows the waiting draft ($out)" 'printf "%s" "$out" | grep -q "id $rev .*【待接受】" && printf "%s" "$out" | grep -q "seed 32"'
check "revisions list --json" '"$CLI" revisions list --db "$D" --book 1 --chapter 21 --json | $PY -c "import json,sys; j=json.load(sys.stdin); w=[r for r in j[\"revisions\"] if r[\"waiting\"]]; assert w and w[0][\"id\"]==$rev and w[0][\"seed\"]==32, j"'
"$CLI" revisions show --db "$D" --id "$rev" > "$tmp/show.txt" 2>/dev/null
$PY -c "import sqlite3,sys; sys.stdout.write(sqlite3.connect('$D').execute('select body from chapter_revisions where id=$rev').fetchone()[0])" > "$tmp/body.txt"
check "revisions show prints the revision's text" 'cmp -s <(sed -e "\$a\\" "$tmp/body.txt") "$tmp/show.txt"'
out=$("$CLI" revisions diff --db "$D" --id "$rev")
check "revisions diff against the (empty) current text" 'printf "%s" "$out" | grep -q "^+ "'
out=$("$CLI" revisions accept --db "$D" --id "$rev"); rc=$?
check "revisions accept ($out)" '[ $rc -eq 0 ] && printf "%s" "$out" | grep -q "已接受"'
cur=$($PY -c "import sqlite3; print(sqlite3.connect('$D').execute('select revision_id from chapters where ordinal=21').fetchone()[0])")
check "the accepted draft is the chapter's text" '[ "$cur" = "$rev" ]'
"$CLI" revisions accept --db "$D" --id "$rev" >/dev/null 2>&1; check "accepting it again is an error" '[ $? -eq 1 ]'
first=$($PY -c "import sqlite3; print(sqlite3.connect('$D').execute('select min(r.id) from chapter_revisions r join chapters c on c.id=r.chapter_id where c.ordinal=21').fetchone()[0])")
out=$("$CLI" revisions restore --db "$D" --id "$first" --json); rc=$?
check "revisions restore --json ($out)" '[ $rc -eq 0 ] && printf "%s" "$out" | $PY -c "import json,sys; assert json.load(sys.stdin)[\"restored\"]==$first"'
n=$($PY -c "import sqlite3; print(sqlite3.connect('$D').execute(\"select count(*) from chapter_revisions r join chapters c on c.id=r.chapter_id where c.ordinal=21 and r.source='restore'\").fetchone()[0])")
check "restore made a new revision" '[ "$n" = 1 ]'

# Seeds: two requests without --seed differ; the stored seed reproduces the text.
for i in 1 2; do "$CLI" continue --db "$D" --book 1 --chapter 3 --model "$MODEL" --tokens 30 --temp 1 --json > "$tmp/c$i.json" 2>/dev/null; done
check "two continues without a seed: different seeds and texts" '$PY -c "import json; a,b=[json.load(open(\"$tmp/c%d.json\"%i)) for i in (1,2)]; assert a[\"seed\"]!=b[\"seed\"] and a[\"text\"]!=b[\"text\"], (a[\"seed\"], b[\"seed\"])"'
seed=$($PY -c "import json; print(json.load(open('$tmp/c1.json'))['seed'])")
"$CLI" continue --db "$D" --book 1 --chapter 3 --model "$MODEL" --tokens 30 --temp 1 --seed "$seed" --json > "$tmp/c3.json" 2>/dev/null
check "the stored seed reproduces the text" '$PY -c "import json; a,c=[json.load(open(\"$tmp/c%d.json\"%i)) for i in (1,3)]; assert a[\"text\"]==c[\"text\"]"'

# jobs list / cancel in words.
out=$("$CLI" jobs list --db "$D")
check "jobs list in words with 字 ($out)" 'printf "%s" "$out" | grep -q "起草 .*已完成 .*写了 [1-9][0-9]* 字"'
"$CLI" continue --db "$D" --book 1 --chapter 3 --ctx 128 --model "$MODEL" --tokens 8 > /dev/null 2>&1
out=$("$CLI" jobs list --db "$D")
check "a failed job says why in words ($out)" 'printf "%s" "$out" | grep -q "续写 第三回 失败 .*失败：上下文窗口放不下这个请求"'
"$CLI" jobs resume --db "$D" --id 1 >/dev/null 2>&1  # done: refused
$PY -c "import sqlite3; c=sqlite3.connect('$D'); c.execute(\"insert into jobs(kind,params,status,progress,message,created_at,updated_at,book_id,checkpoint) values('workflow:draft','{\\\"kind\\\":\\\"draft\\\",\\\"book_id\\\":1,\\\"ordinal\\\":23,\\\"target_chars\\\":500}','paused',0.2,'',0,0,1,'{\\\"text\\\":\\\"x\\\",\\\"chars\\\":100}')\"); c.commit()" 2>/dev/null
jid=$($PY -c "import sqlite3; print(sqlite3.connect('$D').execute(\"select max(id) from jobs\").fetchone()[0])")
out=$("$CLI" jobs cancel --db "$D" --id "$jid"); rc=$?
check "jobs cancel in words ($out)" '[ $rc -eq 0 ] && printf "%s" "$out" | grep -q "已取消任务 #$jid（起草，写到 100 字）"'

# export and summarize in words; context writes nothing unasked.
out=$("$CLI" export --db "$D" --book 1 --out "$tmp/out.txt")
check "export in words ($out)" 'printf "%s" "$out" | grep -q "已导出《红楼梦》" && [ -s "$tmp/out.txt" ]'
out=$("$CLI" summarize --db "$D" --book 1 2>/dev/null)
check "summarize in words ($out)" 'printf "%s" "$out" | grep -q "^摘要树（抽取式"'
check "summarize --json" '"$CLI" summarize --db "$D" --book 1 --json 2>/dev/null | $PY -c "import json,sys; json.load(sys.stdin)"'
mkdir "$tmp/cwd" && (cd "$tmp/cwd" && "$CLI" context --db "$D" --book 1 --chapter 5 --budget 2000 >/dev/null)
check "context without --out writes nothing into the current folder" '[ -z "$(ls -A "$tmp/cwd")" ]'
(cd "$tmp/cwd" && "$CLI" context --db "$D" --book 1 --chapter 5 --budget 2000 --out c.txt >/dev/null)
check "context --out writes the text" '[ -s "$tmp/cwd/c.txt" ]'

# The prompt a request sends: sections that add up to the prompt, shares of the window.
out=$("$CLI" prompt --db "$D" --book 1 --chapter 12 --cursor 200 --model "$MODEL" --ctx 8192 --json)
check "prompt --json states the window's shares" 'printf "%s" "$out" | $PY -c "import json,sys; j=json.load(sys.stdin); k={s[\"kind\"] for s in j[\"sections\"]}; assert j[\"n_ctx\"]==8192 and {\"synopsis\",\"chapter_summaries\",\"current_text\",\"after_cursor\"}<=k, k"'
"$CLI" prompt --db "$D" --book 1 --chapter 12 --cursor 200 --model "$MODEL" --ctx 8192 --text > "$tmp/prompt.txt"
check "prompt --text ends with the text before the cursor" '[ -s "$tmp/prompt.txt" ] && grep -q "【任务】从光标处接着写下去。" "$tmp/prompt.txt"'

# CUDA is said to be available only when the engine has a CUDA backend to run on (a device seen is not enough).
check "info: cuda_backend is the engine's answer" '"$CLI" info --json | $PY -c "import json,sys; j=json.load(sys.stdin); assert j[\"cuda_backend\"] == (\"cuda\" in j[\"backends\"]), j"'
check "info in words says where generation runs" '"$CLI" info | grep -q "generation runs on the CPU\|CUDA backend: "'

echo "writing_cli: $fails failed"
[ $fails -eq 0 ]
