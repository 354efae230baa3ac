#!/usr/bin/env bash
# The CLI skeleton's contract: --help works, bad arguments give a non-zero exit and one line on stderr.
set -u
BIN=$1; SRC=$2
CLI=$BIN/changjuan-cli
fails=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fails=$((fails+1)); fi; }

"$CLI" --help >/dev/null; check "--help exits 0" '[ $? -eq 0 ]'
"$CLI" >/dev/null 2>&1; check "no command exits 2" '[ $? -eq 2 ]'
err=$("$CLI" frobnicate 2>&1 >/dev/null); rc=$?
check "unknown command exits 2" '[ $rc -eq 2 ]'
check "unknown command: one line" '[ $(printf "%s\n" "$err" | wc -l) -eq 1 ]'
err=$("$CLI" segment --bogus 2>&1 >/dev/null); rc=$?
check "unknown option exits 2" '[ $rc -eq 2 ]'
check "unknown option named" 'printf "%s" "$err" | grep -q -- "--bogus"'
"$CLI" segment >/dev/null 2>&1; check "missing required option exits 2" '[ $? -eq 2 ]'
"$CLI" segment --file /nonexistent/x.txt >/dev/null 2>&1; check "missing file exits 1" '[ $? -eq 1 ]'
"$CLI" segment --help | grep -q -- "--lexicon"; check "command help lists options" '[ $? -eq 0 ]'
"$CLI" info --json | python3 -c 'import json,sys; j=json.load(sys.stdin); assert "cuda_compiled" in j'
check "info --json is JSON" '[ $? -eq 0 ]'
"$CLI" info --json | python3 -c 'import json,sys; j=json.load(sys.stdin); b=j["backends"]; assert b[0]=="cpu" and ("cuda" in b)==bool(j.get("cuda_devices")), b'
check "info --json lists the backends that run here (cuda only with a usable device)" '[ $? -eq 0 ]'

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
printf '贾母笑道：“宝玉来了。”\n' > "$tmp/t.txt"; printf '贾母\n宝玉\n' > "$tmp/lex.txt"
out=$("$CLI" segment --lexicon "$tmp/lex.txt" --file "$tmp/t.txt")
check "segment keeps lexicon names whole ($out)" 'printf "%s" "$out" | grep -q "^贾母 笑 道"'
printf 'ab\xffcd' > "$tmp/bad.txt"
"$CLI" segment --file "$tmp/bad.txt" >/dev/null 2>&1; check "invalid UTF-8 is an error" '[ $? -eq 1 ]'

echo "cli_basics: $fails failed"
[ $fails -eq 0 ]
