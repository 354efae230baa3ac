#!/usr/bin/env bash
# `changjuan-cli serve` and the workflow commands' --remote, end to end over loopback with a tiny random-weight
# Qwen3: the server prints its URL, lists its model, answers chat completions (streamed and not) and errors;
# `continue --remote` gives the same text as `continue --model --chat` (greedy); `draft --remote` drafts a chapter
# to its target; the GUI with backend "remote" runs a job on it; bad --remote options fail with a message; Ctrl-C
# stops the server cleanly (exit 0).
set -u
BIN=$1; SRC=$2
CLI=$BIN/changjuan-cli
PY=/usr/bin/python3
fails=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fails=$((fails+1)); fi; }
tmp=$(mktemp -d); echo "tmp=$tmp"
spid=""
cleanup() { [ -n "$spid" ] && kill "$spid" 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$tmp"; }
trap cleanup EXIT

"$CLI" make-model --arch qwen3 --layers 2 --embd 64 --heads 4 --kv-heads 2 --ff 128 --type q8_0 \
  --tokenizer "$SRC/samples/tokenizer/qwen3/tokenizer.json" --seed 3 --out "$tmp/q.gguf" 2>/dev/null
check "make-model exits 0" '[ $? -eq 0 ]'
printf '《试稿》无名氏\n\n第一章 起\n林冲夜奔，风雪满山。\n\n第二章 承\n鲁智深倒拔垂杨柳。\n' > "$tmp/book.txt"
"$CLI" import --db "$tmp/p.cjdb" --file "$tmp/book.txt" >/dev/null
check "import exits 0" '[ $? -eq 0 ]'

"$CLI" serve --model "$tmp/q.gguf" --port 0 --threads 1 --name tiny > "$tmp/url.txt" 2> "$tmp/serve.err" &
spid=$!
for i in $(seq 1 200); do [ -s "$tmp/url.txt" ] && break; sleep 0.05; done
URL=$(head -n 1 "$tmp/url.txt")
check "serve prints a 127.0.0.1 URL ($URL)" '[[ "$URL" =~ ^http://127\.0\.0\.1:[0-9]+/v1$ ]]'

check "GET /v1/models lists the model" '[ "$(curl -s "$URL/models" | $PY -c "import json,sys; print(json.load(sys.stdin)[\"data\"][0][\"id\"])")" = tiny ]'
body='{"model":"tiny","messages":[{"role":"user","content":"你好"}],"max_tokens":6,"temperature":0}'
whole=$(curl -s "$URL/chat/completions" -d "$body" | $PY -c "import json,sys; print(json.load(sys.stdin)[\"choices\"][0][\"message\"][\"content\"])")
streamed=$(curl -sN "$URL/chat/completions" -d "${body%\}},\"stream\":true}" | $PY -c "
import json,sys
out=''; done=False
for line in sys.stdin:
    line=line.strip()
    if not line.startswith('data: '): continue
    d=line[6:]
    if d=='[DONE]': done=True; continue
    for c in json.loads(d)['choices']: out+=c['delta'].get('content') or ''
assert done
print(out)")
check "streamed and whole chat completions agree ('$whole')" '[ -n "$whole" ] && [ "$whole" = "$streamed" ]'
check "bad JSON: 400 with a message" '[ "$(curl -s -o "$tmp/e.json" -w "%{http_code}" "$URL/chat/completions" -d "{oops")" = 400 ] && grep -q "not valid JSON" "$tmp/e.json"'
check "unknown model: 404" '[ "$(curl -s -o /dev/null -w "%{http_code}" "$URL/chat/completions" -d "{\"model\":\"gpt\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}")" = 404 ]'

# continue over --remote = continue with the local engine and the same (chat) prompt, greedy.
"$CLI" continue --db "$tmp/p.cjdb" --book 1 --chapter 2 --remote "$URL" --remote-model tiny --tokens 12 --temp 0 --json > "$tmp/remote.json" 2> "$tmp/remote.err"
check "continue --remote exits 0 ($(tail -n 1 "$tmp/remote.err"))" '[ $? -eq 0 ]'
"$CLI" continue --db "$tmp/p.cjdb" --book 1 --chapter 2 --model "$tmp/q.gguf" --chat --threads 1 --tokens 12 --temp 0 --json > "$tmp/local.json" 2>/dev/null
check "continue --remote gives the local engine's text" '$PY -c "
import json,sys
r=json.load(open(sys.argv[1])); l=json.load(open(sys.argv[2]))
assert r[\"status\"]==\"done\" and l[\"status\"]==\"done\", (r, l)
assert r[\"text\"] and r[\"text\"]==l[\"text\"], (r[\"text\"], l[\"text\"])
assert r[\"gen_tokens\"]==12, r
" "$tmp/remote.json" "$tmp/local.json"'

# draft over --remote (no --remote-model: the server's first model).
printf '## 3 风雪山神庙\n林冲在草料场，风雪压塌草厅。\n' > "$tmp/outline.txt"
"$CLI" draft --db "$tmp/p.cjdb" --book 1 --chapters 3 --outline-file "$tmp/outline.txt" --remote "$URL" \
  --words 200 --seed 1 --json > "$tmp/draft.json" 2> "$tmp/draft.err"
check "draft --remote exits 0 ($(tail -n 1 "$tmp/draft.err"))" '[ $? -eq 0 ]'
check "draft --remote reaches 200 字 as an AI revision" '$PY -c "
import json,sys
r=json.load(open(sys.argv[1]))
assert r[0][\"status\"]==\"done\" and r[0][\"chars\"]>=200, r
" "$tmp/draft.json" && [ "$(sqlite3 "$tmp/p.cjdb" "SELECT count(*) FROM chapter_revisions WHERE source = \"ai\"")" = 3 ]'

# The GUI with backend "remote" in its settings: the server runs 续写, the result is accepted as a revision.
if command -v xvfb-run >/dev/null; then
  mkdir -p "$tmp/config/changjuan"
  printf '{"backend": "remote", "remote_url": "%s", "ctx": 2048}\n' "$URL" > "$tmp/config/changjuan/settings.json"
  printf 'wait 3\nopen 1\nwait 3\nwait-ai model\nai continue 12\nwait-ai done\nai accept\nwait 3\nquit\n' > "$tmp/gui.script"
  XDG_CONFIG_HOME=$tmp/config timeout 120 xvfb-run -a -s "-screen 0 1280x800x24" "$BIN/changjuan" --db "$tmp/p.cjdb" \
    --book 1 --script "$tmp/gui.script" > "$tmp/gui.log" 2>&1
  check "the GUI runs a job on the remote server ($(tail -n 1 "$tmp/gui.log"))" '[ $? -eq 0 ] && [ "$(sqlite3 "$tmp/p.cjdb" "SELECT r.source FROM chapters c JOIN chapter_revisions r ON r.id = c.revision_id WHERE c.ordinal = 2")" = ai ]'
fi

# Bad remote options fail with a message.
"$CLI" check --db "$tmp/p.cjdb" --book 1 --chapters 2 --force --json --remote "$URL" --ctx 8192 > "$tmp/check.json" 2> "$tmp/check.err"
check "check --remote runs the LLM check on the server ($(tail -n 1 "$tmp/check.err"))" '[ $? -eq 0 ] && grep -q "LLM check: 第二章" "$tmp/check.err"'
"$CLI" continue --db "$tmp/p.cjdb" --book 1 --chapter 2 --remote "$URL" --remote-model nope --tokens 4 2> "$tmp/e1.txt" >/dev/null
check "an unknown remote model fails with the server's message" '[ $? -ne 0 ] && grep -q "HTTP 404" "$tmp/e1.txt" && grep -q "nope" "$tmp/e1.txt"'
"$CLI" continue --db "$tmp/p.cjdb" --book 1 --chapter 2 --remote "localhost:1" --tokens 4 2> "$tmp/e2.txt" >/dev/null
check "a URL without http:// is refused" '[ $? -ne 0 ] && grep -q "http://" "$tmp/e2.txt"'
"$CLI" continue --db "$tmp/p.cjdb" --book 1 --chapter 2 --remote "$URL" --api-key-env CJ_NO_SUCH_VAR --tokens 4 2> "$tmp/e3.txt" >/dev/null
check "an unset --api-key-env variable is named" '[ $? -ne 0 ] && grep -q "CJ_NO_SUCH_VAR" "$tmp/e3.txt"'
"$CLI" continue --db "$tmp/p.cjdb" --book 1 --chapter 2 --tokens 4 2> "$tmp/e4.txt" >/dev/null
check "neither --model nor --remote: says so" '[ $? -ne 0 ] && grep -q "\-\-remote" "$tmp/e4.txt"'

kill -INT $spid
wait $spid; rc=$?
spid=""
check "Ctrl-C stops the server with exit 0 (rc $rc)" '[ $rc -eq 0 ] && grep -q "serve: stopped after" "$tmp/serve.err"'
"$CLI" serve --model "$tmp/q.gguf" --port 99999 2> "$tmp/e5.txt"
check "a bad port is refused" '[ $? -ne 0 ] && grep -q "port" "$tmp/e5.txt"'

[ $fails -eq 0 ] && echo "serve: all checks passed" || echo "serve: $fails checks failed"
exit $fails
