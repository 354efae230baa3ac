#!/usr/bin/env bash
# Issue 20 end to end through the CLI: each way the attack found to crash, hang or mislead a command is tried
# again and must end in a one-line error (or the right answer) with the process alive and exit codes sane.
#   serve: the three requests that aborted it, a non-UTF-8 --name, a web page's cross-origin POST, the API key;
#   convert-hf with zero heads (SIGFPE before); tokenize with a tokenizer.json nested 100,000 deep (SIGSEGV before);
#   --ctx 99999999999 (silently truncated before); entity add --name " "; a failed import leaving no project; a
#   UTF-16 file without BOM; export of a project whose text was altered on disk; draft of a chapter that another
#   live process is drafting (it was stolen before), and taken over once that process is killed.
set -u
BIN=$1; SRC=$2
CLI=$BIN/changjuan-cli
PY=/usr/bin/python3
fails=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fails=$((fails+1)); fi; }
tmp=$(mktemp -d); echo "tmp=$tmp"
spid=""; dpid=""
cleanup() { [ -n "$spid" ] && kill "$spid" 2>/dev/null; [ -n "$dpid" ] && kill -9 "$dpid" 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$tmp"; }
trap cleanup EXIT

"$CLI" make-model --arch qwen3 --layers 2 --embd 64 --heads 4 --kv-heads 2 --ff 128 --type q8_0 \
  --tokenizer "$SRC/samples/tokenizer/qwen3/tokenizer.json" --seed 3 --out "$tmp/q.gguf" 2>/dev/null
check "make-model exits 0" '[ $? -eq 0 ]'

# ---- serve ------------------------------------------------------------------------------------------------------
CJ_TEST_KEY=sekrit "$CLI" serve --model "$tmp/q.gguf" --port 0 --threads 1 --name $'bad\xffname' --api-key-env CJ_TEST_KEY \
  > "$tmp/url.txt" 2> "$tmp/serve.err" &
spid=$!
for i in $(seq 1 200); do [ -s "$tmp/url.txt" ] && break; sleep 0.05; done
URL=$(head -n 1 "$tmp/url.txt")
check "serve prints its URL ($URL)" '[[ "$URL" =~ ^http://127\.0\.0\.1:[0-9]+/v1$ ]]'
AUTH=(-H "Authorization: Bearer sekrit")
code() { curl -s -o "$tmp/resp.json" -w "%{http_code}" "$@"; }
check "a content part whose type is a number: 400" '[ "$(code "${AUTH[@]}" "$URL/chat/completions" -d "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":5,\"text\":\"x\"}]}]}")" = 400 ]'
check "include_usage \"yes\": 400 naming the field" '[ "$(code "${AUTH[@]}" "$URL/chat/completions" -d "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stream\":true,\"stream_options\":{\"include_usage\":\"yes\"}}")" = 400 ] && grep -q include_usage "$tmp/resp.json"'
check "GET /v1/models with a non-UTF-8 --name: 200" '[ "$(code "${AUTH[@]}" "$URL/models")" = 200 ]'
check "no library text in errors" '[ "$(code "${AUTH[@]}" "$URL/chat/completions" -d "{oops")" = 400 ] && ! grep -q "json.exception" "$tmp/resp.json"'
check "no API key: 401" '[ "$(code "$URL/chat/completions" -d "{}")" = 401 ]'
check "a web page of another origin (text/plain, no preflight): 403" '[ "$(code "${AUTH[@]}" -H "Origin: http://evil.example" -H "Content-Type: text/plain" "$URL/chat/completions" -d "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":2}")" = 403 ]'
check "a Host that is not this server: 403" '[ "$(code "${AUTH[@]}" -H "Host: evil.example" "$URL/models")" = 403 ]'
check "Content-Length -1: 400, not echoed as 18446744073709551615" '[ "$(code "${AUTH[@]}" -H "Content-Length: -1" -X POST "$URL/chat/completions")" = 400 ] && ! grep -q 18446744073709551615 "$tmp/resp.json"'
check "the server is alive and answers a real request" '[ "$(code "${AUTH[@]}" "$URL/chat/completions" -d "{\"messages\":[{\"role\":\"user\",\"content\":\"你好\"}],\"max_tokens\":3,\"temperature\":0}")" = 200 ]'
kill -INT $spid; wait $spid; rc=$?; spid=""
check "serve exits 0 on Ctrl-C (rc $rc)" '[ $rc -eq 0 ]'
"$CLI" serve --model "$tmp/q.gguf" --port 0 --host 0.0.0.0 2> "$tmp/e.txt" >/dev/null
check "listening beyond loopback needs an API key" '[ $? -ne 0 ] && grep -q "API key" "$tmp/e.txt"'
"$CLI" serve --help > "$tmp/help.txt" 2>&1
check "serve --help says it binds 127.0.0.1" 'grep -q "127.0.0.1" "$tmp/help.txt"'

# ---- model and tokenizer files ------------------------------------------------------------------------------------
mkdir -p "$tmp/hf"
printf '{"architectures":["LlamaForCausalLM"],"hidden_size":32,"intermediate_size":64,"num_hidden_layers":1,"num_attention_heads":0,"vocab_size":100}' > "$tmp/hf/config.json"
cp "$SRC/samples/tokenizer/qwen3/tokenizer.json" "$tmp/hf/"
$PY -c "
import json,struct,sys
h=json.dumps({'model.layers.0.self_attn.q_proj.weight':{'dtype':'F32','shape':[4,4],'data_offsets':[0,64]}}).encode()
open(sys.argv[1],'wb').write(struct.pack('<Q',len(h))+h+bytes(64))" "$tmp/hf/model.safetensors"
"$CLI" convert-hf --dir "$tmp/hf" --out "$tmp/hf.gguf" 2> "$tmp/e.txt"; rc=$?
check "convert-hf with num_attention_heads 0: an error, not SIGFPE (rc $rc: $(tail -n1 "$tmp/e.txt"))" '[ $rc -eq 1 ] && grep -q num_attention_heads "$tmp/e.txt"'
$PY -c "import sys; open(sys.argv[1],'w').write('{\"x\":' + '['*100000 + ']'*100000 + '}')" "$tmp/deep.json"
echo hi > "$tmp/t.txt"
"$CLI" tokenize --tokenizer "$tmp/deep.json" --file "$tmp/t.txt" 2> "$tmp/e.txt" >/dev/null; rc=$?
check "tokenizer.json nested 100,000 deep: an error, not SIGSEGV (rc $rc)" '[ $rc -eq 1 ] && grep -q "not a usable tokenizer.json" "$tmp/e.txt"'
"$CLI" generate --model "$tmp/q.gguf" --prompt x --ctx 99999999999 2> "$tmp/e.txt" >/dev/null; rc=$?
check "--ctx 99999999999 is refused, not truncated (rc $rc: $(tail -n1 "$tmp/e.txt"))" '[ $rc -ne 0 ] && grep -q "\-\-ctx must be between" "$tmp/e.txt"'

# ---- projects -----------------------------------------------------------------------------------------------------
printf '《试稿》\n\n第一章 起\n林冲夜奔，风雪满山。\n\n第二章 承\n鲁智深倒拔垂杨柳。\n' > "$tmp/book.txt"
"$CLI" import --db "$tmp/p.cjdb" --file "$tmp/book.txt" >/dev/null
check "import exits 0" '[ $? -eq 0 ]'
"$CLI" entity add --db "$tmp/p.cjdb" --book 1 --name " " 2> "$tmp/e.txt" >/dev/null
check "entity add --name \" \" is refused" '[ $? -ne 0 ] && grep -q blank "$tmp/e.txt"'
head -c 4096 /dev/urandom > "$tmp/noise.bin"; printf '\0\0\0' >> "$tmp/noise.bin"
"$CLI" import --db "$tmp/new.cjdb" --file "$tmp/noise.bin" 2> "$tmp/e.txt" >/dev/null
check "a failed import leaves no empty project behind" '[ $? -ne 0 ] && [ ! -e "$tmp/new.cjdb" ]'
$PY -c "import sys; open(sys.argv[2],'wb').write(open(sys.argv[1],encoding='utf-8').read().encode('utf-16-le'))" "$tmp/book.txt" "$tmp/u16.txt"
"$CLI" import --db "$tmp/u.cjdb" --file "$tmp/u16.txt" > "$tmp/u.json" 2> "$tmp/e.txt"; rc=$?
check "UTF-16 without BOM imports (rc $rc: $(cat "$tmp/e.txt"))" '[ $rc -eq 0 ] && grep -q "UTF-16LE" "$tmp/u.json"'
cp "$tmp/p.cjdb" "$tmp/d.cjdb"
# Bytes of the chapter's text changed on disk (as a disk error would): SQLite's page checks still pass.
$PY -c "
import sys
b=open(sys.argv[1],'rb').read()
old='鲁智'.encode(); assert old in b
open(sys.argv[1],'wb').write(b.replace(old, b'\xe4\xb8\xe4\xb8\xe4\xb8'))" "$tmp/d.cjdb"
"$CLI" export --db "$tmp/d.cjdb" --book 1 --out "$tmp/out.txt" 2> "$tmp/e.txt"; rc=$?
check "export of altered text says it is damaged (rc $rc: $(cat "$tmp/e.txt"))" '[ $rc -ne 0 ] && grep -q damaged "$tmp/e.txt" && [ ! -e "$tmp/out.txt" ]'

# ---- a chapter another live process is drafting ------------------------------------------------------------------
printf '## 3 风雪山神庙\n林冲在草料场，风雪压塌草厅。\n' > "$tmp/outline.txt"
DRAFT=("$CLI" draft --db "$tmp/p.cjdb" --book 1 --chapters 3 --outline-file "$tmp/outline.txt" --model "$tmp/q.gguf"
       --words 3000 --threads 1 --checkpoint-every 4 --seed 1)
"${DRAFT[@]}" 2> "$tmp/d1.txt" &
dpid=$!
for i in $(seq 1 400); do
  [ "$(sqlite3 "$tmp/p.cjdb" "SELECT count(*) FROM jobs WHERE status='running' AND checkpoint IS NOT NULL" 2>/dev/null)" = 1 ] && break
  sleep 0.05
done
"${DRAFT[@]}" 2> "$tmp/d2.txt" >/dev/null; rc=$?
check "a second draft of the same chapter leaves it to the running one (rc $rc: $(tail -n 1 "$tmp/d2.txt"))" '[ $rc -eq 1 ] && grep -q "running in process $dpid" "$tmp/d2.txt"'
check "the running job still belongs to the first process" '[ "$(sqlite3 "$tmp/p.cjdb" "SELECT lease_pid || status FROM jobs")" = "${dpid}running" ]'
kill -9 $dpid; wait $dpid 2>/dev/null; dpid=""
"${DRAFT[@]}" 2> "$tmp/d3.txt" >/dev/null; rc=$?
check "once that process is dead the job is taken over and finished (rc $rc: $(tail -n 1 "$tmp/d3.txt"))" '[ $rc -eq 0 ] && [ "$(sqlite3 "$tmp/p.cjdb" "SELECT status FROM jobs")" = done ]'

[ $fails -eq 0 ] && echo "hostile_cli: all checks passed" || echo "hostile_cli: $fails checks failed"
exit $fails
