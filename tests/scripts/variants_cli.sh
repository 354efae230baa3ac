#!/usr/bin/env bash
# eval variants / eval discovery / entities discover / check on a GB18030 copy of the first 40 chapters of
# 三国演义 (committed): JSON figures, the evidence of proposals, a same-sound and a look-alike slip of 孔明 found
# as one finding each, and the same check without the CJK font: a one-line note, the sound slip still found.
set -u
BIN=$1; SRC=$2
CLI=$BIN/changjuan-cli
PY=/usr/bin/python3
fails=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fails=$((fails+1)); fi; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

$PY - "$SRC/tests/data/novels/三国演义.txt" "$tmp/sg.txt" "$tmp/slips.txt" <<'PY'
import sys
t = open(sys.argv[1], encoding='utf-8').read().replace('\r', '')
t = t[:t.index('\n第四十一回')]
# two slips of 孔明, each in place of a real occurrence in chapters 38 and 39 (the name stays around them)
for head, wrong in (('第三十八回', '孔名'), ('第三十九回', '孔阴')):
    i = t.index('\n' + head)
    j = t.index('孔明', i)
    t = t[:j] + wrong + t[j + 2:]
open(sys.argv[2], 'wb').write(t.encode('gb18030'))
PY

out=$("$CLI" eval variants --file "$tmp/sg.txt" --top 5 --per-name 2 --baseline-top 10 --seed 3 --json)
check "eval variants runs" '[ $? -eq 0 ]'
printf "%s" "$out" | $PY -c "
import json, sys
d = json.load(sys.stdin)
assert len(d['injected']) == 10, d['injected']
assert {i['rule'] for i in d['injected']} <= {'同音', '形近', '近音'}
assert d['recall'] >= 0.7, d
assert 0 <= d['precision'] <= 1 and d['han_chars'] > 100000
assert all('chapter' in f and 'message' in f for f in d['baseline_findings'])
print('variants_cli: recall %.2f precision %.2f background %.2f per 100k' % (d['recall'], d['precision'], d['baseline_per_100k']))
"
check "eval variants JSON figures" '[ $? -eq 0 ]'
txt=$("$CLI" eval variants --file "$tmp/sg.txt" --names 孔明,玄德 --per-name 2)
check "eval variants text names the rules" 'printf "%s" "$txt" | grep -q "^recall .*同音"'

out=$("$CLI" eval discovery --file "$tmp/sg.txt" --top 10 --json)
printf "%s" "$out" | $PY -c "
import json, sys
d = json.load(sys.stdin)
top = [x['name'] for x in d['top']]
assert '玄德' in top and '曹操' in top, top
for x in d['top']:
    assert x['first_label'].startswith('第') and len(x['examples']) >= 1 and not x['role'], x
"
check "eval discovery JSON: 玄德 and 曹操, labels and examples" '[ $? -eq 0 ]'

DB=$tmp/b.db
"$CLI" import --db "$DB" --file "$tmp/sg.txt" >/dev/null; check "import GB18030" '[ $? -eq 0 ]'
disc=$("$CLI" entities discover --db "$DB" --book 1 --limit 5)
check "discover text shows first chapter and examples" 'printf "%s" "$disc" | grep -q "首见第" && printf "%s" "$disc" | grep -q "例："'
"$CLI" entity add --db "$DB" --book 1 --name 孔明 >/dev/null
"$CLI" entity add --db "$DB" --book 1 --name "$($PY -c 'print("名"*33)')" >/dev/null 2>"$tmp/long.err"
check "an overlong name is refused in one line" '[ $? -ne 0 ] && grep -q "limit is 32" "$tmp/long.err" && [ $(wc -l < "$tmp/long.err") -eq 1 ]'

res=$("$CLI" check --db "$DB" --book 1 --json 2>"$tmp/err")
check "check finds both slips, one finding each" 'printf "%s" "$res" | $PY -c "
import json, sys
f = [x for x in json.load(sys.stdin) if x[\"kind\"] == \"name_variant\"]
subj = [x[\"subject\"] for x in f]
assert subj.count(\"孔名\") == 1 and subj.count(\"孔阴\") == 1, subj
assert any(\"形近\" in x[\"message\"] for x in f if x[\"subject\"] == \"孔阴\")
assert all(\"第三十八回\" in x[\"evidence\"] for x in f if x[\"subject\"] == \"孔名\"), f
"'
check "no note with the font" '! grep -q "形近规则未启用" "$tmp/err"'

res=$(CJ_CJK_FONT=/nonexistent/font.ttc "$CLI" check --db "$DB" --book 1 --force --json 2>"$tmp/err2")
check "without the font check still runs" '[ $? -eq 0 ]'
check "without the font: one-line note" '[ $(grep -c "note: 形近规则未启用" "$tmp/err2") -eq 1 ]'
check "without the font: the sound slip is found, the look-alike is not" 'printf "%s" "$res" | $PY -c "
import json, sys
subj = [x[\"subject\"] for x in json.load(sys.stdin) if x[\"kind\"] == \"name_variant\"]
assert \"孔名\" in subj and \"孔阴\" not in subj, subj
"'

echo "variants_cli: $fails failed"
[ $fails -eq 0 ]
