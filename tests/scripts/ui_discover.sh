#!/usr/bin/env bash
# A writer's imported book has no characters yet: 人物 → 从书中找人物 proposes the book's frequent names (the same
# discovery as `changjuan-cli entities discover`) with counts, first chapter and an example, and 添加 registers one.
# Book: the sample text (红楼梦 1-20, samples/book/hongloumeng-1-20.txt), under Xvfb.
set -u
BIN=$1
SRC=$2
command -v xvfb-run >/dev/null || { echo "ui_discover: xvfb-run missing (scripts/setup.sh installs it)"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export XDG_CONFIG_HOME=$tmp/config
CLI=$BIN/changjuan-cli
db=$tmp/book.cjbook
fails=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fails=$((fails+1)); fi; }

"$CLI" import --db "$db" --file "$SRC/samples/book/hongloumeng-1-20.txt" >/dev/null || { echo "ui_discover: import failed"; exit 1; }
first=$("$CLI" entities discover --db "$db" --book 1 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["name"])')
[ -n "$first" ] || { echo "ui_discover: the CLI discovered nothing"; exit 1; }
cat > "$tmp/d.script" <<S
wait 3
panel entities
wait 2
expect-ui-text 这本书还没有登记人物
click-label 从书中找人物
sleep 8000
wait 3
expect-ui-text $first
screenshot $tmp/discover.png
click-label 添加
wait 2
expect-ui-text 已添加人物“$first”
quit
S
out=$(xvfb-run -a -s "-screen 0 1280x800x24" "$BIN/changjuan" --db "$db" --book 1 --no-restore --script "$tmp/d.script" 2>&1)
rc=$?
check "the script ran (rc $rc): $out" '[ $rc -eq 0 ]'
names=$("$CLI" entity list --db "$db" --book 1 --json 2>/dev/null | python3 -c 'import json,sys; print(" ".join(e["name"] for e in json.load(sys.stdin)))')
check "添加 registered $first as a character (entities: $names)" '[ "$names" = "$first" ]'
mkdir -p "$BIN/../screenshots" && cp "$tmp/discover.png" "$BIN/../screenshots/ui_discover.png" 2>/dev/null
[ $fails -eq 0 ] && echo "ui_discover: ok" || { echo "ui_discover: $fails failed"; exit 1; }
