#!/usr/bin/env bash
# The GUI on a book project (SQLite) under Xvfb: import the sample novel, open 第二回, type Chinese, save with
# Ctrl+S, type more and let the autosave write it, then check the database: each save is a new revision and the
# imported text is still there, untouched. Also: a search jumps to a hit, F8 to a finding, 检查 finds a misspelled
# name, an entity and a fact are added in the entities panel, a 25 KB outline is edited and saved whole, and an
# unknown book id is an error.
set -u
BIN=$1
SRC=$2
command -v xvfb-run >/dev/null || { echo "ui_project: xvfb-run missing (scripts/setup.sh installs it)"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export XDG_CONFIG_HOME=$tmp/config
db=$tmp/hlm.cjbook
"$BIN/changjuan-cli" import --db "$db" --file "$SRC/samples/book/hongloumeng-1-20.txt" >/dev/null || { echo "ui_project: import failed"; exit 1; }
OUT=$(cd "$BIN/.." && pwd)/screenshots
mkdir -p "$OUT"
fails=0
run() { xvfb-run -a -s "-screen 0 1280x800x24" "$BIN/changjuan" "$@" 2>&1; }

cat > "$tmp/edit.script" <<'S'
wait 3
open 1
wait 3
click 560 420
key ctrl+end
type \n黛玉听了，便放下钓竿，走至座间。
key ctrl+s
wait 2
expect-saved
type 宝钗笑道：“这是何苦来？”
wait 2
expect-text 宝钗笑道
# the autosave writes after a pause of about four seconds
sleep 5000
wait 3
expect-saved
quit
S
log=$(run --db "$db" --book 1 --script "$tmp/edit.script")
rc=$?
[ $rc -eq 0 ] || { echo "FAIL: the edit script exited $rc: $log"; fails=$((fails+1)); }
python3 - "$db" <<'PY' || fails=$((fails+1))
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
cid, body = db.execute("select id, body from chapters where book_id=1 and ordinal=2").fetchone()
revs = db.execute("select number, source, body from chapter_revisions where chapter_id=? order by number", (cid,)).fetchall()
want = '\n黛玉听了，便放下钓竿，走至座间。宝钗笑道：“这是何苦来？”'
if not body.endswith(want): sys.exit('FAIL: chapter 2 does not end with the typed text: ...' + body[-60:])
if [r[1] for r in revs] != ['import', 'writer', 'writer']: sys.exit(f'FAIL: revisions {[r[:2] for r in revs]}')
if want in revs[0][2] or '黛玉听了，便放下钓竿' in revs[0][2]: sys.exit('FAIL: the imported revision was overwritten')
if not revs[1][2].endswith('\n黛玉听了，便放下钓竿，走至座间。'): sys.exit('FAIL: the Ctrl+S revision is not the text at that time')
if revs[2][2] != body: sys.exit('FAIL: the current text is not the last revision')
others = db.execute("select count(*) from chapter_revisions r join chapters c on c.id=r.chapter_id "
                    "where c.ordinal<>2 and r.source<>'import'").fetchone()[0]
if others: sys.exit('FAIL: other chapters got revisions')
PY
# The diff of the imported revision (修订 → 对比 on #1) against the current text shows the typed sentence.
printf 'wait 3\nopen 1\nwait 3\nclick 808 44\nwait 3\nclick 1188 138\nwait 3\nscreenshot %s\nquit\n' "$OUT/ui_revision_diff.png" > "$tmp/diff.script"
log=$(run --db "$db" --book 1 --script "$tmp/diff.script")
[ $? -eq 0 ] || { echo "FAIL: the revision diff: $log"; fails=$((fails+1)); }
# Restore the imported text from the revision history (修订 → 恢复 on #1): a new "restore" revision.
cat > "$tmp/restore.script" <<'S'
wait 3
open 1
wait 3
click 808 44
wait 3
click 1237 138
wait 3
expect-no-text 宝钗笑道
expect-saved
quit
S
log=$(run --db "$db" --book 1 --script "$tmp/restore.script")
[ $? -eq 0 ] || { echo "FAIL: restoring a revision: $log"; fails=$((fails+1)); }
python3 - "$db" <<'PY' || fails=$((fails+1))
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
cid, body = db.execute("select id, body from chapters where book_id=1 and ordinal=2").fetchone()
revs = db.execute("select source, body from chapter_revisions where chapter_id=? order by number", (cid,)).fetchall()
if [r[0] for r in revs] != ['import', 'writer', 'writer', 'restore']: sys.exit(f'FAIL: revisions after restore {[r[0] for r in revs]}')
if body != revs[0][1]: sys.exit('FAIL: the restored text is not the imported text')
if '宝钗笑道' not in revs[2][1]: sys.exit('FAIL: the restored-over revision lost its text')
PY
# Search (full-text index) and jump: the hit's chapter opens with the match selected, ready to type over.
cat > "$tmp/search.script" <<'S'
wait 3
key ctrl+f
wait 2
type 门子
key enter
wait 3
click 1000 150
wait 3
expect-selection 门子
expect-text 一个门子使眼色儿
type 门吏
wait 2
expect-text 一个门吏使眼色儿
key ctrl+z
expect-text 一个门子使眼色儿
screenshot OUT/ui_search_jump.png
quit
S
sed -i "s|OUT/|$OUT/|" "$tmp/search.script"
log=$(run --db "$db" --book 1 --script "$tmp/search.script")
[ $? -eq 0 ] || { echo "FAIL: search and jump: $log"; fails=$((fails+1)); }
# F8 jumps to the next open consistency finding (one stands in for the checker's output).
python3 - "$db" <<'PY'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
body = db.execute("select body from chapters where book_id=1 and ordinal=3").fetchone()[0]
i = body.find('林黛玉'); now = int(time.time() * 1000)
db.execute("insert into findings(book_id, chapter, span_begin, span_end, kind, message, evidence, status, created_at,"
           " updated_at) values (1, 3, ?, ?, 'timeline', '年纪不合', '', 'open', ?, ?)", (i, i + 3, now, now))
db.commit()
PY
printf 'wait 3\nkey f8\nwait 3\nexpect-selection 林黛玉\nquit\n' > "$tmp/f8.script"
log=$(run --db "$db" --book 1 --chapter 1 --script "$tmp/f8.script")
[ $? -eq 0 ] || { echo "FAIL: F8 did not select the finding's span: $log"; fails=$((fails+1)); }
# 检查 in the findings panel runs the checker on studio's worker: a misspelled name typed into 第五回 is found.
"$BIN/changjuan-cli" entity add --db "$db" --book 1 --name 林黛玉 --alias 黛玉 >/dev/null
cat > "$tmp/check.script" <<'S'
wait 3
open 4
wait 3
click 560 420
key ctrl+end
type \n林黛王笑道：“何必如此。”
key ctrl+s
wait 2
panel findings
wait 3
click 878 88
wait 30
quit
S
log=$(run --db "$db" --book 1 --script "$tmp/check.script")
[ $? -eq 0 ] || { echo "FAIL: check script: $log"; fails=$((fails+1)); }
n=$(python3 -c "import sqlite3,sys;print(sqlite3.connect(sys.argv[1]).execute(\"select count(*) from findings where chapter=5 and kind='name_variant' and evidence like '%林黛王%'\").fetchone()[0])" "$db")
[ "$n" = 1 ] || { echo "FAIL: the check button did not find 林黛王 in 第五回 ($n findings)"; fails=$((fails+1)); }
# The entities panel: 新建 → a name and aliases → 添加; then a fact with its first chapter → 添加事实.
cat > "$tmp/entity.script" <<'S'
wait 3
panel entities
wait 3
click 925 88
wait 3
click 960 126
wait 1
type 贾蔷
click 960 188
wait 1
type 蔷哥儿、蔷二爷
click 879 250
wait 3
click 960 591
wait 1
type 状态
click 960 622
wait 1
type 离府
click 948 653
click 948 653
click 948 653
wait 1
click 891 715
wait 3
screenshot OUT/ui_entity_added.png
quit
S
sed -i "s|OUT/|$OUT/|" "$tmp/entity.script"
log=$(run --db "$db" --book 1 --script "$tmp/entity.script")
[ $? -eq 0 ] || { echo "FAIL: entity script: $log"; fails=$((fails+1)); }
python3 - "$db" <<'PY' || fails=$((fails+1))
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
row = db.execute("select id from entities where book_id=1 and name='贾蔷'").fetchone()
assert row, "FAIL: 贾蔷 was not added"
aliases = sorted(a for (a,) in db.execute("select alias from entity_aliases where entity_id=?", row))
assert aliases == ['蔷二爷', '蔷哥儿'], "FAIL: aliases %r" % aliases
facts = db.execute("select predicate, value, valid_from, valid_to from facts where entity_id=?", row).fetchall()
assert facts == [('状态', '离府', 3, None)], "FAIL: facts %r" % facts
PY
# A long outline (25,600 bytes, beyond any fixed buffer) is edited in the outline panel and saved whole.
python3 - "$db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("insert or replace into meta(key, value) values ('studio.outline.book.1.chapter.2', ?)",
           ('第一拍：宝玉读书，黛玉葬花，众人各有心事。\n' * 400,))
db.commit()
PY
printf 'wait 3\nopen 1\nwait 3\npanel outline\nwait 3\nclick 1060 400\nwait 1\nkey ctrl+end\ntype 又一拍\nwait 1\nclick 560 420\nwait 3\nquit\n' > "$tmp/outline.script"
log=$(run --db "$db" --book 1 --script "$tmp/outline.script")
[ $? -eq 0 ] || { echo "FAIL: outline script: $log"; fails=$((fails+1)); }
python3 - "$db" <<'PY' || fails=$((fails+1))
import sqlite3, sys
v = sqlite3.connect(sys.argv[1]).execute("select value from meta where key='studio.outline.book.1.chapter.2'").fetchone()[0]
assert v == '第一拍：宝玉读书，黛玉葬花，众人各有心事。\n' * 400 + '又一拍', "FAIL: outline saved as %d bytes ending %r" % (len(v.encode()), v[-12:])
PY
log=$(run --db "$db" --book 99 --screenshot "$tmp/x.png" --frames 2)
grep -q "no book with id 99" <<<"$log" || { echo "FAIL: a wrong book id did not say so: $log"; fails=$((fails+1)); }
echo "ui_project: $fails failed"
[ $fails -eq 0 ]
