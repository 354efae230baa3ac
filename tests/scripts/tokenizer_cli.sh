#!/usr/bin/env bash
# changjuan-cli tokenize: ids on one line, --decode back to the text, --special, llama2.c files, errors.
# Usage: tokenizer_cli.sh BIN_DIR SOURCE_DIR
set -uo pipefail
BIN=${1:?bin dir}; SRC=${2:?source dir}
CLI="$BIN/changjuan-cli"
TOK="$SRC/samples/tokenizer/qwen3/tokenizer.json"
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
failed=0
fail() { echo "tokenizer_cli: FAIL: $*" >&2; failed=$((failed + 1)); }

printf '贾宝玉笑道：“Hello, 世界！”\r\n\r\n　　第二回 2024年\n' > "$T/in.txt"
"$CLI" tokenize --tokenizer "$TOK" --file "$T/in.txt" > "$T/ids.txt" || fail "tokenize exited non-zero"
[ "$(wc -l < "$T/ids.txt")" -eq 1 ] || fail "ids are not on one line"
grep -Eq '^[0-9]+( [0-9]+)*$' "$T/ids.txt" || fail "ids line malformed: $(head -c 200 "$T/ids.txt")"
"$CLI" tokenize --tokenizer "$TOK" --file "$T/ids.txt" --decode > "$T/back.txt" || fail "decode exited non-zero"
cmp -s "$T/in.txt" "$T/back.txt" || fail "decode(encode(x)) != x"

printf '<|im_start|>user\n你好<|im_end|>' > "$T/chat.txt"
"$CLI" tokenize --tokenizer "$TOK" --file "$T/chat.txt" --special > "$T/s.txt"
[ "$(cut -d' ' -f1 < "$T/s.txt")" = 151644 ] || fail "--special: first id is not <|im_start|> (151644): $(cat "$T/s.txt")"
"$CLI" tokenize --tokenizer "$TOK" --file "$T/chat.txt" > "$T/p.txt"
grep -Eq '(^| )15164[3-9]( |$)' "$T/p.txt" && fail "without --special a special token came out of plain text"

# llama2.c tokenizer, with BOS.
echo "Once upon a time" > "$T/story.txt"
"$CLI" tokenize --tokenizer "$SRC/tests/data/models/stories260K/tok512.bin" --file "$T/story.txt" --bos > "$T/l.txt" || fail "llama2.c tokenize"
[ "$(cut -d' ' -f1 < "$T/l.txt")" = 1 ] || fail "--bos: first id is not 1: $(cat "$T/l.txt")"
"$CLI" tokenize --tokenizer "$SRC/tests/data/models/stories260K/tok512.bin" --file "$T/l.txt" --decode > "$T/lb.txt"
cmp -s "$T/story.txt" "$T/lb.txt" || fail "llama2.c round trip: $(cat "$T/lb.txt")"

# GGUF vocabulary: llama.cpp's SentencePiece vectors through the CLI.
SPM="$SRC/tests/data/tokenizer/llama.cpp-vocab-tests/ggml-vocab-llama-spm.gguf"
"$CLI" tokenize --tokenizer "$SPM" --file "$SPM.inp" --cases > "$T/spm.txt" || fail "GGUF tokenize"
sed 's/^ //' "$SPM.out" | cmp -s - "$T/spm.txt" || fail "llama-spm GGUF vectors differ from llama.cpp's .out"

# Errors: one line on stderr, non-zero exit.
if "$CLI" tokenize --tokenizer "$T/missing.json" --file "$T/in.txt" 2> "$T/err.txt" > /dev/null; then fail "missing tokenizer accepted"; fi
[ "$(wc -l < "$T/err.txt")" -eq 1 ] || fail "error is not one line: $(cat "$T/err.txt")"
echo "1 2 999999999" > "$T/bad_ids.txt"
if "$CLI" tokenize --tokenizer "$TOK" --file "$T/bad_ids.txt" --decode 2> "$T/err2.txt" > /dev/null; then fail "out-of-range id accepted"; fi
grep -q "outside the vocabulary" "$T/err2.txt" || fail "bad id message: $(cat "$T/err2.txt")"

echo "tokenizer_cli: $failed failed"
[ "$failed" -eq 0 ]
