#!/usr/bin/env bash
# eval timeline and the timeline check through the CLI on the modern test book (tests/data/timeline/沈家旧事.txt,
# 民国二十六年 … 2019年): figures as JSON, the same figures from a GB18030 copy and from a copy whose table of
# contents comes first (chapters without text are skipped), clear errors on bad input, and a backward date found
# by `check` with the book's own chapter label.
set -u
BIN=$1; SRC=$2
CLI=$BIN/changjuan-cli
PY=/usr/bin/python3
BOOK=$SRC/tests/data/timeline/沈家旧事.txt
fails=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fails=$((fails+1)); fi; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

figures() { $PY -c "import json,sys; j=json.load(sys.stdin); print(j['chapters'], j['injected'], j['found'], j['original_findings'])"; }
out=$("$CLI" eval timeline --file "$BOOK" --seed 3 --json); rc=$?
check "eval exits 0" '[ $rc -eq 0 ]'
base=$(printf "%s" "$out" | figures)
echo "eval_timeline_cli: chapters injected found findings = $base"
check "30 chapters, >=20 injections, recall >= 0.9, no findings on the unmodified book" \
  'printf "%s" "$out" | $PY -c "import json,sys; j=json.load(sys.stdin); assert j[\"chapters\"]==30 and j[\"injected\"]>=20 and j[\"recall\"]>=0.9 and j[\"original_findings\"]==0, j"'
check "injections name the book's chapters" 'printf "%s" "$out" | grep -q "\"chapter\":\"第十五章\""'

iconv -f UTF-8 -t GB18030 "$BOOK" > "$tmp/gb.txt"
gb=$("$CLI" eval timeline --file "$tmp/gb.txt" --seed 3 --json)
check "GB18030 copy gives the same figures" '[ "$(printf "%s" "$gb" | figures)" = "$base" ]'
check "GB18030 detected" 'printf "%s" "$gb" | grep -q "\"encoding\":\"GB18030\""'

# A table of contents before the text: its headings become chapters without text, which are skipped.
$PY - "$BOOK" "$tmp/toc.txt" <<'PY'
import sys
t = open(sys.argv[1], encoding='utf-8').read()
heads = [l for l in t.split('\n') if l.startswith('第') and '章' in l[:6]]
head, body = t.split('\n\n', 1)
open(sys.argv[2], 'w', encoding='utf-8').write(head + '\n\n' + '\n'.join(heads) + '\n\n' + body)
PY
toc=$("$CLI" eval timeline --file "$tmp/toc.txt" --seed 3 --json)
check "a table of contents first: same chapters with text" \
  'printf "%s" "$toc" | $PY -c "import json,sys; j=json.load(sys.stdin); assert j[\"chapters\"]==30 and j[\"recall\"]>=0.9 and j[\"original_findings\"]==0, j"'

"$CLI" eval timeline --file "$tmp/missing.txt" 2>"$tmp/err"; rc=$?
check "missing file: exit 1, one error line" '[ $rc -eq 1 ] && [ $(wc -l < "$tmp/err") -eq 1 ] && grep -q "changjuan-cli: error" "$tmp/err"'
head -c 4096 /dev/urandom > "$tmp/bin.txt"
"$CLI" eval timeline --file "$tmp/bin.txt" 2>"$tmp/err"; rc=$?
check "binary file: refused with one line" '[ $rc -eq 1 ] && [ $(wc -l < "$tmp/err") -eq 1 ]'
"$CLI" eval timeline --file "$BOOK" --inject -3 2>/dev/null; rc=$?
check "negative --inject refused" '[ $rc -ne 0 ]'

# The check in a project: a date years before what 第七章 reached, written into 第九章.
$PY - "$BOOK" "$tmp/bad.txt" <<'PY'
import sys
t = open(sys.argv[1], encoding='utf-8').read()
i = t.index('\n第九章'); j = t.index('\n', i + 1) + 1
t = t[:j] + '时值民国二十八年，城中一片安静。\n' + t[j:]
open(sys.argv[2], 'w', encoding='utf-8').write(t)
PY
"$CLI" import --db "$tmp/b.db" --file "$tmp/bad.txt" >/dev/null; check "import" '[ $? -eq 0 ]'
res=$("$CLI" check --db "$tmp/b.db" --book 1 --json)
check "check finds the backward date in 第九章, says what the text had reached, subject 时间线" \
  'printf "%s" "$res" | $PY -c "
import json,sys
f=[x for x in json.load(sys.stdin) if x[\"kind\"]==\"timeline\"]
assert len(f)==1, f
assert f[0][\"subject\"]==\"时间线\" and \"上文第七章已到民国三十四年八月\" in f[0][\"message\"] and \"民国二十八年\" in f[0][\"message\"], f"'

if [ $fails -eq 0 ]; then echo "eval_timeline_cli: all passed"; exit 0; fi
echo "eval_timeline_cli: $fails failed"; exit 1
