#!/usr/bin/env bash
# check / entities CLI end to end on 三国演义 (120 chapters): discovery, accept/merge, facts, an injected
# after-death and name-variant inconsistency found at the right chapter and offsets, dismissal sticks, only
# stale chapters are re-checked, and the time of a whole-book check (printed; the benchmark is BM_CheckBook120).
set -u
BIN=$1; SRC=$2
CLI=$BIN/changjuan-cli
PY=/usr/bin/python3
fails=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fails=$((fails+1)); fi; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
DB=$tmp/b.db

# The novel with two injections: 关羽 speaks in chapter 100 (dead since 77) and 张非 (for 张飞) in chapter 28, after
# the first paragraph that names 张飞 (a slip of the pen stands where the story is about the character).
$PY - "$SRC/tests/data/novels/三国演义.txt" "$tmp/sg.txt" <<'PY'
import sys
t = open(sys.argv[1], encoding='utf-8').read().replace('\r', '')
for head, line, after in (('第一百回', '关羽笑道：“吾来也。”', ''), ('第二十八回', '张非大怒，挺枪而出。', '张飞')):
    i = t.index('\n' + head) + 1
    j = t.index('\n', t.index(after, i) if after else i) + 1
    t = t[:j] + line + '\n' + t[j:]
open(sys.argv[2], 'w', encoding='utf-8').write(t)
PY
"$CLI" import --db "$DB" --file "$tmp/sg.txt" >/dev/null; check "import" '[ $? -eq 0 ]'

out=$("$CLI" entities discover --db "$DB" --book 1 --json)
check "discover is JSON with 孔明 and 张飞" 'printf "%s" "$out" | $PY -c "import json,sys; n={d[\"name\"] for d in json.load(sys.stdin)}; assert {\"孔明\",\"张飞\"} <= n, n"'
"$CLI" entities accept --db "$DB" --book 1 --name 关羽,刘备,张飞 >/dev/null; check "accept" '[ $? -eq 0 ]'
"$CLI" entities accept --db "$DB" --book 1 --name 云长 >/dev/null
"$CLI" entities merge --db "$DB" --book 1 --alias 云长,关公 --into 关羽 >/dev/null; check "merge" '[ $? -eq 0 ]'
"$CLI" entity list --db "$DB" --book 1 --json | $PY -c "import json,sys; e={x['name']:x for x in json.load(sys.stdin)}; assert '云长' not in e and set(e['关羽']['aliases'])=={'云长','关公'}, e"
check "merged entity became aliases" '[ $? -eq 0 ]'
"$CLI" entities accept --db "$DB" --book 1 --name 关公 >/dev/null 2>&1; check "accepting a known alias is refused" '[ $? -ne 0 ]'
"$CLI" fact add --db "$DB" --book 1 --entity 关羽 --predicate 状态 --value 死亡 --from 77 >/dev/null

start=$(date +%s.%N)
res=$("$CLI" check --db "$DB" --book 1 --json); rc=$?
end=$(date +%s.%N)
check "check exits 0" '[ $rc -eq 0 ]'
echo "check_cli: whole-book check of 120 chapters took $($PY -c "print(round($end-$start,2))") s"
printf "%s" "$res" > "$tmp/res.json"
$PY - "$tmp/res.json" "$tmp/sg.txt" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))
kinds = {(f['chapter'], f['kind']) for f in res}
assert (100, 'after_death') in kinds, res
assert (28, 'name_variant') in kinds, res
for f in res:
    assert set(f) >= {'chapter', 'start', 'end', 'kind', 'message', 'evidence'}
PY
check "injected findings reported in chapters 100 and 28" '[ $? -eq 0 ]'
# offsets: the span of the chapter-28 finding is 张非 in the chapter body
$PY - "$tmp/res.json" <<'PY' > "$tmp/ids"
import json, sys
for f in json.load(open(sys.argv[1])):
    if f['chapter'] == 28 and f['kind'] == 'name_variant': print(f['id'], f['start'], f['end'])
PY
read -r fid fstart fend < "$tmp/ids"
"$CLI" chapters --db "$DB" --book 1 --json >/dev/null
check "variant span is 2 characters" '[ $((fend - fstart)) -eq 2 ]'

"$CLI" check set-status --db "$DB" --id "$fid" >/dev/null; check "dismiss" '[ $? -eq 0 ]'
res2=$("$CLI" check --db "$DB" --book 1 --json --force 2>/dev/null)
check "dismissed finding does not come back" '! printf "%s" "$res2" | grep -q "\"id\":$fid,"'
check "dismissed finding not re-added" '! printf "%s" "$res2" | $PY -c "import json,sys; assert any(f[\"chapter\"]==28 and f[\"kind\"]==\"name_variant\" for f in json.load(sys.stdin))" 2>/dev/null'
msg=$("$CLI" check --db "$DB" --book 1 2>&1 >/dev/null)
check "unchanged book: nothing re-checked ($msg)" 'printf "%s" "$msg" | grep -q "checked 0 chapters (120 unchanged"'
"$CLI" check --db "$DB" --book 1 --chapters 100-99 >/dev/null 2>&1; check "empty range ok" '[ $? -eq 0 ]'
"$CLI" check --db "$DB" --book 1 --model "$tmp/none.gguf" >/dev/null 2>&1; check "--model that does not exist is an error" '[ $? -eq 1 ]'
# The LLM check on the local engine: a random-weight model answers no JSON; that is reported per chapter, the
# deterministic findings stay, nothing crashes.
"$CLI" make-model --arch qwen3 --layers 1 --embd 32 --heads 2 --kv-heads 1 --ff 64 --type q8_0 \
  --tokenizer "$SRC/samples/tokenizer/qwen3/tokenizer.json" --out "$tmp/tiny.gguf" >/dev/null
llm=$("$CLI" check --db "$DB" --book 1 --chapters 100-100 --force --json --model "$tmp/tiny.gguf" 2>"$tmp/llm.err")
check "LLM check runs on the local engine" '[ $? -eq 0 ] && grep -q "LLM check: 第一百回" "$tmp/llm.err"'
check "deterministic findings kept with --model" 'printf "%s" "$llm" | grep -q "\"chapter\":100"'

echo "check_cli: $fails failed"
[ $fails -eq 0 ]
