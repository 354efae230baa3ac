#!/usr/bin/env bash
# The storage CLI end to end: import both novels (120 chapters each), re-import refused, chapters/search/export,
# entity and fact commands, errors on stderr with a non-zero exit.
set -u
BIN=$1; SRC=$2
CLI=$BIN/changjuan-cli
N=$SRC/tests/data/novels
fails=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fails=$((fails+1)); fi; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
D=$tmp/p.db
json() { python3 -c "import json,sys; j=json.load(sys.stdin); $1"; }

out=$("$CLI" import --db "$D" --file "$N/红楼梦.txt" --json); check "import 红楼梦 ($out)" '[ $? -eq 0 ]'
check "红楼梦: 120 chapters" 'printf "%s" "$out" | json "assert j[\"chapters\"] == 120 and j[\"book_id\"] == 1"'
out=$("$CLI" import --db "$D" --file "$N/三国演义.txt" --json)
check "三国演义: 120 chapters ($out)" 'printf "%s" "$out" | json "assert j[\"chapters\"] == 120 and j[\"book_id\"] == 2"'
err=$("$CLI" import --db "$D" --file "$N/红楼梦.txt" 2>&1 >/dev/null); rc=$?
check "re-import refused (rc=$rc)" '[ $rc -eq 1 ]'
check "re-import message ($err)" 'printf "%s" "$err" | grep -q "already imported as book 1"'
check "re-import: one line" '[ $(printf "%s\n" "$err" | wc -l) -eq 1 ]'

out=$("$CLI" chapters --db "$D" --book 1 --json)
check "chapters --json" 'printf "%s" "$out" | json "assert len(j) == 120 and j[0][\"ordinal\"] == 1 and j[0][\"title\"] == \"甄士隐梦幻识通灵　贾雨村风尘怀闺秀\" and j[0][\"chars\"] > 1000"'
out=$("$CLI" chapters --db "$D" --book 2 --json)
check "三国 chapter 120 title" 'printf "%s" "$out" | json "assert j[119][\"ordinal\"] == 120 and j[119][\"title\"].startswith(\"荐杜预老将献新谋\")"'

# Search: every chapter that contains the name, best first, highlighted.
expect_chapters() {  # book file, name -> sorted ordinals containing the name (whitespace ignored)
  python3 - "$1" "$2" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read().replace("\r", "")
lines = text.split("\n"); chapters = []; cur = None
for l in lines:
    if re.match(r"^第[一二三四五六七八九十百零〇0-9]+回", l) and len(l) < 60 and "。" not in l and not l.startswith(" "):
        cur = []; chapters.append(cur); continue
    if cur is not None: cur.append(l)
print(" ".join(str(i + 1) for i, c in enumerate(chapters) if sys.argv[2] in re.sub(r"[\s\u3000]", "", "\n".join(c))))
PY
}
for pair in "1:红楼梦:黛玉" "2:三国演义:诸葛亮" "1:红楼梦:玉" "2:三国演义:曹操 刘备"; do
  IFS=: read -r book file q <<<"$pair"
  out=$("$CLI" search --db "$D" --book "$book" --limit 200 --json $q); rc=$?
  check "search $q exits 0" '[ $rc -eq 0 ]'
  got=$(printf "%s" "$out" | json "print(' '.join(str(c) for c in sorted(h['chapter'] for h in j['results'])))")
  if [ "$q" = "曹操 刘备" ]; then
    a=$(expect_chapters "$N/$file.txt" 曹操); b=$(expect_chapters "$N/$file.txt" 刘备)
    want=$(comm -12 <(tr ' ' '\n' <<<"$a" | sort) <(tr ' ' '\n' <<<"$b" | sort) | sort -n | tr '\n' ' ' | sed 's/ $//')
  else
    want=$(expect_chapters "$N/$file.txt" "$q")
  fi
  check "search $q finds every chapter with it (got ${got:0:60}…)" '[ "$got" = "$want" ]'
  check "search $q: best first, highlighted" 'printf "%s" "$out" | json "r=j[\"results\"]; s=[h[\"score\"] for h in r]; assert s == sorted(s, reverse=True) and \"【\" in r[0][\"snippet\"]"'
  check "search $q: hits and chapters counted" 'printf "%s" "$out" | json "r=j[\"results\"]; assert j[\"chapters\"] == len(r) and j[\"hits\"] == sum(h[\"hits\"] for h in r) and j[\"hits\"] >= j[\"chapters\"]"'
done
err=$("$CLI" search --db "$D" --book 1 --json "，" 2>&1 >/dev/null); rc=$?
check "empty search is an error" '[ $rc -eq 1 ] && printf "%s" "$err" | grep -q "empty search"'
"$CLI" search --db "$D" --book 99 黛玉 >/dev/null 2>&1; check "unknown book is an error" '[ $? -eq 1 ]'
"$CLI" search --db "$tmp/none.db" --book 1 黛玉 >/dev/null 2>&1; check "missing database is an error" '[ $? -eq 1 ]'
check "search did not create a database" '[ ! -e "$tmp/none.db" ]'

"$CLI" export --db "$D" --book 1 --out "$tmp/hlm.txt"; check "export txt" '[ $? -eq 0 ]'
check "export round-trips 红楼梦 (up to CRLF)" 'tr -d "\r" < "$N/红楼梦.txt" | cmp -s - "$tmp/hlm.txt"'
"$CLI" export --db "$D" --book 2 --format md --out "$tmp/sg.md"; check "export md" '[ $? -eq 0 ]'
check "md has headings" 'grep -q "^## 第一回 宴桃园豪杰三结义" "$tmp/sg.md"'
out=$("$CLI" import --db "$tmp/md.db" --file "$tmp/sg.md" --json)
check "md re-imports to 120 chapters ($out)" 'printf "%s" "$out" | json "assert j[\"chapters\"] == 120 and j[\"title\"] == \"三国演义\""'
"$CLI" export --db "$D" --book 1 --format pdf --out "$tmp/x" >/dev/null 2>&1; check "unknown format is an error" '[ $? -eq 1 ]'

out=$("$CLI" entity add --db "$D" --book 1 --name 林黛玉 --alias "黛玉,颦儿" --json)
check "entity add ($out)" 'printf "%s" "$out" | json "assert j[\"name\"] == \"林黛玉\" and sorted(j[\"aliases\"]) == [\"颦儿\", \"黛玉\"]"'
"$CLI" entity add --db "$D" --book 1 --name 林黛玉 >/dev/null 2>&1; check "duplicate entity is an error" '[ $? -eq 1 ]'
"$CLI" entity add --db "$D" --book 1 --name 潇湘馆 --kind place >/dev/null; check "entity add place" '[ $? -eq 0 ]'
out=$("$CLI" entity list --db "$D" --book 1 --json)
check "entity list" 'printf "%s" "$out" | json "assert [e[\"name\"] for e in j] == [\"林黛玉\", \"潇湘馆\"]"'
"$CLI" fact add --db "$D" --book 1 --entity 颦儿 --predicate 住在 --value 潇湘馆 --from 23 --json >/dev/null
check "fact add by alias" '[ $? -eq 0 ]'
"$CLI" fact add --db "$D" --book 1 --entity 林黛玉 --predicate 状态 --value 活着 --to 97 >/dev/null
"$CLI" fact add --db "$D" --book 1 --entity 林黛玉 --predicate 状态 --value 死亡 --from 98 >/dev/null
out=$("$CLI" fact list --db "$D" --book 1 --as-of 10 --json)
check "fact list --as-of 10" 'printf "%s" "$out" | json "assert [f[\"value\"] for f in j] == [\"活着\"]"'
out=$("$CLI" fact list --db "$D" --book 1 --as-of 100 --json)
check "fact list --as-of 100" 'printf "%s" "$out" | json "assert sorted(f[\"value\"] for f in j) == [\"死亡\", \"潇湘馆\"]"'
"$CLI" fact add --db "$D" --book 1 --entity 无名氏 --predicate x >/dev/null 2>&1; check "fact for unknown entity is an error" '[ $? -eq 1 ]'
# After adding names the next search rebuilds the index and still finds every chapter.
out=$("$CLI" search --db "$D" --book 1 --limit 200 --json 黛玉)
check "search after entity change" 'printf "%s" "$out" | json "assert len(j[\"results\"]) == len(\"$(expect_chapters "$N/红楼梦.txt" 黛玉)\".split())"'

printf '\x7fELF\x02\x01\x01\x00\x00\x00\x00' > "$tmp/bin.txt"
err=$("$CLI" import --db "$D" --file "$tmp/bin.txt" 2>&1 >/dev/null); rc=$?
check "binary file refused ($err)" '[ $rc -eq 1 ] && printf "%s" "$err" | grep -q "binary"'
: > "$tmp/empty.txt"
err=$("$CLI" import --db "$D" --file "$tmp/empty.txt" 2>&1 >/dev/null); rc=$?
check "empty file refused ($err)" '[ $rc -eq 1 ] && printf "%s" "$err" | grep -q "empty"'
out=$("$CLI" import --db "$D" --file "$N/红楼梦.txt" --replace --title 石头记 --json)
check "--replace ($out)" 'printf "%s" "$out" | json "assert j[\"replaced_book_id\"] == 1 and j[\"book_id\"] == 3 and j[\"title\"] == \"石头记\""'
check "integrity ok" '[ "$(python3 -c "import sqlite3; print(sqlite3.connect(\"$D\").execute(\"PRAGMA integrity_check\").fetchone()[0])")" = ok ]'

echo "storage_cli: $fails failed"
[ $fails -eq 0 ]
