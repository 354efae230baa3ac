#!/usr/bin/env bash
# Builds the sample book project from samples/book/: import, entities with aliases, facts with chapter ranges.
# Usage: samples/make_sample_book.sh CLI DB   (prints the book id)
set -euo pipefail
CLI=$1; DB=$2
HERE=$(cd "$(dirname "$0")" && pwd)
rm -f "$DB" "$DB-wal" "$DB-shm"
book=$("$CLI" import --db "$DB" --file "$HERE/book/hongloumeng-1-20.txt" --title 红楼梦 --json |
       sed -n 's/.*"book_id":\([0-9]*\).*/\1/p')
[ -n "$book" ] || { echo "make_sample_book: import failed" >&2; exit 1; }
while IFS='|' read -r kind name aliases desc; do
  case "$kind" in ''|'#'*) continue;; esac
  args=(--db "$DB" --book "$book" --name "$name" --kind "$kind")
  [ -n "$aliases" ] && args+=(--alias "$aliases")
  [ -n "$desc" ] && args+=(--description "$desc")
  "$CLI" entity add "${args[@]}" >/dev/null
done < <(tr '\t' '|' < "$HERE/book/entities.tsv")  # tabs → | so empty fields survive read
while IFS='|' read -r entity pred value object from to src; do
  case "$entity" in ''|'#'*) continue;; esac
  args=(--db "$DB" --book "$book" --entity "$entity" --predicate "$pred")
  [ -n "$value" ] && args+=(--value "$value")
  [ -n "$object" ] && args+=(--object "$object")
  [ -n "$from" ] && args+=(--from "$from")
  [ -n "$to" ] && args+=(--to "$to")
  [ -n "$src" ] && args+=(--chapter "$src")
  "$CLI" fact add "${args[@]}" >/dev/null
done < <(tr '\t' '|' < "$HERE/book/facts.tsv")
echo "$book"
