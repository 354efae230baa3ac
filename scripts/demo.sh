#!/usr/bin/env bash
# Installs what is missing, builds, and runs the main job on the embedded sample book (红楼梦, chapters 1-20):
# build the project, search it, build the context for chapter 21, draft chapter 21 with the sample model,
# check consistency. With a display it then opens the GUI on the book.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh >/dev/null
CLI=build/bin/changjuan-cli
OUT=${CJ_DEMO_DIR:-build/demo}
DB=$OUT/sample.cjbook
mkdir -p "$OUT"
has() { "$CLI" $1 --help >/dev/null 2>&1; }
step() { printf '\n== %s\n' "$*"; }

step "building the sample project $DB"
BOOK=$(samples/make_sample_book.sh "$CLI" "$DB")
"$CLI" chapters --db "$DB" --book "$BOOK" | head -n 5; echo "…"
"$CLI" entity list --db "$DB" --book "$BOOK" | head -n 6; echo "…"

step "who is dead as of chapter 14 (facts with chapter ranges)"
"$CLI" fact list --db "$DB" --book "$BOOK" --as-of 14 | grep 状态 || true

step "full-text search: 黛玉"
"$CLI" search --db "$DB" --book "$BOOK" 黛玉 | head -n 4

if has summarize; then
  step "summary tree (extractive: scenes → chapters → arcs → book)"
  "$CLI" summarize --db "$DB" --book "$BOOK" --method extractive 2>&1 | tail -n 2
fi
if has context; then
  step "context for chapter 21 (outline samples/book/outline-21.txt) → $OUT/context-21.txt"
  "$CLI" context --db "$DB" --book "$BOOK" --chapter 21 --outline-file samples/book/outline-21.txt \
    --out "$OUT/context-21.txt" --json > "$OUT/context.json"
  /usr/bin/python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(m["tokens"], "of", m["budget"], "tokens");
[print("  %-14s %6d  %s" % (s["kind"], s["tokens"], s["reason"])) for s in m["sections"]]' "$OUT/context.json"
fi
MODEL=samples/model/changjuan-sample-qwen3.gguf
if has draft && [ -f "$MODEL" ]; then
  # The sample model is a small base model trained on 512-token windows: plain prompt style (book context, the
  # outline as the opening line), a short context, sampled at temperature 0.8.
  step "drafting chapter 21 with the sample model ($MODEL)"
  "$CLI" draft --db "$DB" --book "$BOOK" --chapters 21-21 --outline-file samples/book/outline-21.txt --model "$MODEL" \
    --prompt-style plain --ctx 1024 --words 400 --temp 0.8 --seed 1
  /usr/bin/python3 - "$DB" "$OUT/draft-21.txt" "$BOOK" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
row = db.execute("""select r.body from chapter_revisions r join chapters c on c.id = r.chapter_id
                    where c.book_id = ? and c.ordinal = 21 and r.source = 'ai'
                    order by r.id desc limit 1""", (int(sys.argv[3]),)).fetchone()
open(sys.argv[2], 'w', encoding='utf-8').write(row[0])
print("draft (a revision awaiting acceptance), " + str(len(row[0])) + " characters → " + sys.argv[2] + ":")
print("  " + row[0][:160] + "…")
PY
fi
if has check; then
  step "consistency check"
  "$CLI" check --db "$DB" --book "$BOOK" --json > "$OUT/findings.json"
  echo "$(grep -o '"kind"' "$OUT/findings.json" | wc -l) findings in $OUT/findings.json"
fi

step "results"
GUI=(build/bin/changjuan --db "$DB" --book "$BOOK" --model "$MODEL" --chapter 21)
echo "project: $DB (open it with: ${GUI[*]})"
if [ -n "${DISPLAY:-}" ] && [ -z "${CI:-}" ]; then
  "${GUI[@]}" || true
else
  xvfb-run -a -s "-screen 0 1280x800x24" "${GUI[@]}" --screenshot "$OUT/window.png" \
    && echo "no display: GUI screenshot written to $OUT/window.png"
fi
