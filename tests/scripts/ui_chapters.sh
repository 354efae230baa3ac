#!/usr/bin/env bash
# The GUI shows chapters as the book numbers them (under Xvfb): a book with a 楔子 (tests/data/books/
# shuihu-like.txt, where 第二十二回 is the 23rd chapter) opened with --chapter 22 shows 第二十二回; the chapter list
# reads 楔子, 第一回 … 第二十二回; a finding of the deterministic check names 第二十二回 in its header and its message;
# the context panel names the chapter 第二十二回; --chapter 第二十二回 and #23 open it too; --chapter 第二十五回 is a
# one-line error naming the book's range. (新建章节's 第二十五回: tests/ui/project_session_test.cpp.)
set -u
BIN=$1
SRC=$2
command -v xvfb-run >/dev/null || { echo "ui_chapters: xvfb-run missing (scripts/setup.sh installs it)"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export XDG_CONFIG_HOME=$tmp/config
CLI=$BIN/changjuan-cli
db=$tmp/shuihu.cjbook
fails=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fails=$((fails+1)); fi; }
run() { xvfb-run -a -s "-screen 0 1280x800x24" "$BIN/changjuan" "$@" 2>&1; }

"$CLI" import --db "$db" --file "$SRC/tests/data/books/shuihu-like.txt" >/dev/null || { echo "ui_chapters: import failed"; exit 1; }
"$CLI" entity add --db "$db" --book 1 --name 晁盖 >/dev/null
"$CLI" fact add --db "$db" --book 1 --entity 晁盖 --predicate 状态 --value 死亡 --from 第二十回 >/dev/null
"$CLI" check --db "$db" --book 1 >/dev/null 2>&1
check "the check found 晁盖 speaking after his death" \
  '[ "$(sqlite3 "$db" "SELECT count(*) FROM findings WHERE chapter = 23 AND kind = \"after_death\"")" = 1 ]'

cat > "$tmp/list.script" <<'S'
wait 4
expect-text 晁盖笑道
expect-shown 楔子  张天师祈禳瘟疫　洪太尉误走妖魔
expect-shown 第二十二回  横海郡柴进留宾　景阳冈武松打虎
expect-shown 第二十四回  淫妇药鸩武大郎　郓哥帮捉骂王婆
expect-not-shown 第23章
panel findings
wait 6
expect-shown 第二十二回  横海郡柴进留宾
expect-shown 此处却在第二十二回说话
expect-shown 在第二十回已经死亡
panel context
wait 20
expect-shown 第二十二回 的续写上下文
quit
S
log=$(run --db "$db" --book 1 --chapter 22 --script "$tmp/list.script")
rc=$?
check "script passes (rc $rc): $log" '[ $rc -eq 0 ]'

# The same chapter by its label and by position; an unknown one is refused with the range.
cat > "$tmp/open.script" <<'S'
wait 3
expect-text 晁盖笑道
quit
S
log=$(run --db "$db" --book 1 --chapter 第二十二回 --script "$tmp/open.script"); rc=$?
check "--chapter 第二十二回 (rc $rc): $log" '[ $rc -eq 0 ]'
log=$(run --db "$db" --book 1 --chapter '#23' --script "$tmp/open.script"); rc=$?
check "--chapter #23 (rc $rc): $log" '[ $rc -eq 0 ]'
log=$(run --db "$db" --book 1 --chapter 第二十五回 --script "$tmp/open.script"); rc=$?
check "--chapter 第二十五回 is refused (rc $rc)" '[ $rc -eq 2 ]'
check "the error names the range: $log" 'printf "%s" "$log" | grep -q "error: --chapter 第二十五回: no chapter «第二十五回»: this book has 楔子、第一回–第二十四回"'

echo "ui_chapters: $fails failed"
[ $fails -eq 0 ]
