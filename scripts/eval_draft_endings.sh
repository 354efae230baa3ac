#!/usr/bin/env bash
# How drafts end, on any book: imports BOOK (any supported encoding) into a scratch project, drafts N chapters
# after its last one (one generic outline, TARGET 字 each, seeds SEED+n) and prints how they end (sentence /
# paragraph / in_quote / open, studio::WorkflowResult::ending) and their 字 against the target.
# Usage: scripts/eval_draft_endings.sh BUILD_BIN BOOK.txt [MODEL.gguf] [N=20] [TARGET=150] [SEED=100]
set -euo pipefail
BIN=$1; BOOK=$2
MODEL=${3:-$(dirname "$0")/../samples/model/changjuan-sample-qwen3.gguf}
N=${4:-20}; TARGET=${5:-150}; SEED=${6:-100}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$BIN/changjuan-cli" import --db "$tmp/p.cjbook" --file "$BOOK" --json > /dev/null
last=$("$BIN/changjuan-cli" chapters --db "$tmp/p.cjbook" --book 1 --json |
       python3 -c "import json,sys; print(max(c['ordinal'] for c in json.load(sys.stdin)))")
echo "主人公出门访友，路上遇见旧识，二人说起往事；回家后与家人商议，定下日后的打算。" > "$tmp/outline.txt"
"$BIN/changjuan-cli" draft --db "$tmp/p.cjbook" --book 1 --chapters $((last + 1))-$((last + N)) \
  --outline-file "$tmp/outline.txt" --words "$TARGET" --model "$MODEL" --seed "$SEED" --json > "$tmp/r.json" 2> /dev/null
python3 - "$tmp/r.json" "$TARGET" "$BOOK" <<'PY'
import collections, json, sys
r = json.load(open(sys.argv[1])); t = int(sys.argv[2])
zi = sorted(x["chars"] for x in r)
ends = collections.Counter(x["ending"] for x in r)
print("%s: %d drafts, target %d 字; endings %s; 字 min %d, median %d, max %d; within 10%% over: %d/%d; at or over the target: %d/%d"
      % (sys.argv[3].split("/")[-1], len(r), t, dict(ends), zi[0], zi[len(zi) // 2], zi[-1],
         sum(z <= t + t // 10 for z in zi), len(zi), sum(z >= t for z in zi), len(zi)))
PY
