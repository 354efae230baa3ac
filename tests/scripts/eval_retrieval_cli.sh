#!/usr/bin/env bash
# eval retrieval through the CLI on the first 40 回 of the committed 三国演义: planted facts reach an 8k context of
# 第三十五回 (JSON figures and the budget plan), the same figures from a GB18030 copy and from a copy whose table of
# contents comes first (its headings import as chapters without text, which the book's numbering skips), the
# human-readable report, and clear one-line errors on bad input.
set -u
BIN=$1; SRC=$2
CLI=$BIN/changjuan-cli
PY=/usr/bin/python3
fails=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fails=$((fails+1)); fi; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

$PY - "$SRC/tests/data/novels/三国演义.txt" "$tmp/sg40.txt" "$tmp/toc.txt" <<'PY'
import sys
t = open(sys.argv[1], encoding='utf-8').read().replace('\r', '')
t = t[:t.index('\n第四十一回')] + '\n'
open(sys.argv[2], 'w', encoding='utf-8').write(t)
heads = [l.strip() for l in t.split('\n') if l.startswith('第') and '回' in l[:8]]
first = t.index('\n第一回')
open(sys.argv[3], 'w', encoding='utf-8').write(t[:first] + '\n' + '\n'.join(heads) + '\n' + t[first:])
PY
ARGS="--facts 6 --from 5 --to 20 --ask-chapter 35 --ctx 8192 --seed 4"
figures() { $PY -c "import json,sys; j=json.load(sys.stdin); print(j['chapters'], j['recalled'], [f['name'] for f in j['planted']])"; }

out=$("$CLI" eval retrieval --file "$tmp/sg40.txt" $ARGS --json); rc=$?
check "eval exits 0" '[ $rc -eq 0 ]'
base=$(printf "%s" "$out" | figures)
echo "eval_retrieval_cli: chapters recalled names = $base"
check "40 chapters, at least 5 of 6 recalled, through passages, with the plan's shares" \
  'printf "%s" "$out" | $PY -c "
import json,sys
j=json.load(sys.stdin)
assert j[\"chapters\"]==40 and j[\"facts\"]==6 and j[\"recalled\"]>=5, j[\"recalled\"]
for f in j[\"planted\"]:
    assert 5 <= f[\"chapter\"] <= 20 and f[\"name\"] not in f[\"outline\"] and f[\"owner\"] in f[\"outline\"], f
    assert f[\"tokens\"] <= 8192
    if f[\"recalled\"]: assert \"passages\" in f[\"sections\"], f
kinds=[s[\"kind\"] for s in j[\"shares\"]]
assert kinds==[\"fixed\",\"summaries\",\"entity_sheets\",\"verbatim\",\"passages\"], kinds
assert j[\"shares\"][4][\"mean_reserved\"] > 0
"'

iconv -f UTF-8 -t GB18030 "$tmp/sg40.txt" > "$tmp/gb.txt"
gb=$("$CLI" eval retrieval --file "$tmp/gb.txt" $ARGS --json | figures)
check "GB18030 copy gives the same figures" '[ "$gb" = "$base" ]'
toc=$("$CLI" eval retrieval --file "$tmp/toc.txt" $ARGS --json | figures)
check "a table of contents first: the same chapters and figures" '[ "$toc" = "$base" ]'

txt=$("$CLI" eval retrieval --file "$tmp/sg40.txt" $ARGS 2>/dev/null)
check "human-readable report: recall line and the plan" 'printf "%s" "$txt" | grep -q "^recall: [56]/6" && printf "%s" "$txt" | grep -q "why passages"'

"$CLI" eval retrieval --file "$tmp/missing.txt" 2>"$tmp/err"; rc=$?
check "missing file: exit 1, one error line" '[ $rc -eq 1 ] && [ $(wc -l < "$tmp/err") -eq 1 ] && grep -q "changjuan-cli: error" "$tmp/err"'
"$CLI" eval retrieval --file "$tmp/sg40.txt" --facts 6 --to 45 --ask-chapter 46 2>"$tmp/err"; rc=$?
check "--to past the end: one line naming the chapters" '[ $rc -eq 1 ] && [ $(wc -l < "$tmp/err") -eq 1 ] && grep -q "40 chapters" "$tmp/err"'
"$CLI" eval retrieval --file "$tmp/sg40.txt" --to 20 --ask-chapter 10 2>"$tmp/err"; rc=$?
check "--ask-chapter before --to refused" '[ $rc -eq 1 ] && [ $(wc -l < "$tmp/err") -eq 1 ]'
"$CLI" eval retrieval --file "$tmp/sg40.txt" --facts -3 2>/dev/null; rc=$?
check "negative --facts refused" '[ $rc -eq 1 ]'

if [ $fails -eq 0 ]; then echo "eval_retrieval_cli: all passed"; exit 0; fi
echo "eval_retrieval_cli: $fails failed"; exit 1
