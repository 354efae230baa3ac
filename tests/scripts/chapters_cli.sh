#!/usr/bin/env bash
# Chapters as the book numbers them, on the command line (issue 18). Test books: tests/data/books/ (shuihu-like.txt:
# 楔子 + 第一回…第二十四回, so 第二十二回 is the 23rd chapter; stories-wrapped.txt: five stories with centred titles,
# hard-wrapped) and a book generated here with a table of contents in front, like downloaded classics.
# Pins the text and JSON of import, chapters, fact, check, entities discover, search, context (its manifest and
# the prompt text), draft (new chapters continue the book's numbering) and export.
set -u
BIN=$1; SRC=$2
CLI=$BIN/changjuan-cli
B=$SRC/tests/data/books
PY=/usr/bin/python3
fails=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fails=$((fails+1)); fi; }
tmp=$(mktemp -d); [ -n "${KEEP:-}" ] || trap 'rm -rf "$tmp"' EXIT
D=$tmp/p.cjbook
json() { $PY -c "import json,sys; j=json.load(sys.stdin); $1"; }

# ---- import: what was decided, in words and in JSON ----
out=$("$CLI" import --db "$D" --file "$B/shuihu-like.txt"); rc=$?
check "import exits 0 ($out)" '[ $rc -eq 0 ]'
check "import says what it found: $out" '[ "$(printf "%s" "$out" | head -1)" = "已导入《水泊故事》：25 章（楔子 至 第二十四回）；文件编码 UTF-8。" ]'
out=$("$CLI" import --db "$tmp/s.cjbook" --file "$B/stories-wrapped.txt" --json)
check "stories: 5 chapters, reflowed ($out)" 'printf "%s" "$out" | json "assert j[\"chapters\"] == 5 and j[\"stories\"] and j[\"sections\"] == 3 and j[\"reflowed\"] > 10 and j[\"toc_lines\"] == 0 and j[\"first_label\"] == \"风起\""'
# A table of contents in front (the layout of 儒林外史 as downloaded): title, author, 12 回目, then the text.
$PY - "$tmp/toc.txt" <<'PY'
import sys
cn = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二"]
toc = "".join(f"第{n}回　　　　甲{n}回事　　　乙{n}回事\n" for n in cn)
text = "".join(f"第{n}回　甲{n}回事　乙{n}回事\n正文{n}，說了些話。\n再說一句。\n" for n in cn)
open(sys.argv[1], "w", encoding="gb18030").write("某書\n\n清·某人著\n\n" + toc + "\n" + text)
PY
out=$("$CLI" import --db "$tmp/t.cjbook" --file "$tmp/toc.txt" --json)
check "table of contents kept as front matter ($out)" 'printf "%s" "$out" | json "assert j[\"chapters\"] == 13 and j[\"front_matter\"] and j[\"toc_lines\"] == 12 and j[\"title\"] == \"某書\" and j[\"encoding\"] == \"GB18030\""'
out=$("$CLI" import --db "$tmp/t2.cjbook" --file "$tmp/toc.txt")
check "…and says so: $out" 'printf "%s" "$out" | grep -q "12 章（第一回 至 第十二回）" && printf "%s" "$out" | grep -q "开头的目录（12 行）留在卷首，没有当成章节"'

# ---- chapters: #position, the book's label, title, 字数 ----
out=$("$CLI" chapters --db "$D" --book 1)
check "chapters text row for 第二十二回: $(printf "%s" "$out" | sed -n 23p)" '[ "$(printf "%s" "$out" | sed -n 23p)" = "#23   第二十二回  横海郡柴进留宾　景阳冈武松打虎  60 字" ]'
check "chapters text row for 楔子" '[ "$(printf "%s" "$out" | sed -n 1p)" = "#1    楔子  张天师祈禳瘟疫　洪太尉误走妖魔  42 字" ]'
out=$("$CLI" chapters --db "$D" --book 1 --json)
check "chapters --json" 'printf "%s" "$out" | json "c=j[22]; assert (c[\"ordinal\"], c[\"label\"], c[\"number\"], c[\"title\"], c[\"zi\"]) == (23, \"第二十二回\", 22, \"横海郡柴进留宾　景阳冈武松打虎\", 60), c; assert j[0][\"label\"] == \"楔子\" and j[0][\"number\"] is None"'
out=$("$CLI" chapters --db "$tmp/s.cjbook" --book 1 --json)
check "story titles as labels" 'printf "%s" "$out" | json "assert [c[\"label\"] for c in j] == [\"风起\", \"旧船\", \"阿Ｑ的邻居\", \"桥\", \"雪夜\"]"'

# ---- facts: --from/--to/--as-of in the book's numbers; out of range is one line naming the range ----
"$CLI" entity add --db "$D" --book 1 --name 晁盖 >/dev/null
"$CLI" entity add --db "$D" --book 1 --name 宋江 --alias 及时雨 >/dev/null
out=$("$CLI" fact add --db "$D" --book 1 --entity 晁盖 --predicate 状态 --value 死亡 --from 第二十回 --json)
check "fact --from 第二十回 is ordinal 21 ($out)" 'printf "%s" "$out" | json "assert j[\"valid_from\"] == 21 and j[\"from_label\"] == \"第二十回\""'
out=$("$CLI" fact add --db "$D" --book 1 --entity 宋江 --predicate 职务 --value 押司 --from 17 --json)
check "fact --from 17 is 第十七回 ($out)" 'printf "%s" "$out" | json "assert j[\"valid_from\"] == 18 and j[\"from_label\"] == \"第十七回\""'
err=$("$CLI" fact add --db "$D" --book 1 --entity 宋江 --predicate 住在 --value 郓城 --chapter 30 2>&1 >/dev/null); rc=$?
check "--chapter 30 refused (rc $rc): $err" '[ $rc -eq 1 ] && [ "$(printf "%s\n" "$err" | wc -l)" -eq 1 ]'
check "…naming the range: $err" 'printf "%s" "$err" | grep -q "\-\-chapter 30: no chapter «30»: this book has 楔子、第一回–第二十四回 (#1–#25)"'
out=$("$CLI" fact list --db "$D" --book 1 --as-of 第二十二回)
check "fact list names chapters by label: $out" 'printf "%s" "$out" | grep -q "晁盖 状态 死亡  \[第二十回-…\]"'
out=$("$CLI" fact list --db "$D" --book 1 --as-of 19 --json)
check "--as-of 19 is before 第二十回 ($out)" 'printf "%s" "$out" | json "assert [f[\"value\"] for f in j] == [\"押司\"]"'

# ---- check: findings name chapters as the book does ----
out=$("$CLI" check --db "$D" --book 1 2>/dev/null)
check "check text: $out" 'printf "%s" "$out" | grep -q "^死后出场（1 条）" && printf "%s" "$out" | grep -q "^  「晁盖」：1 处，第二十二回$" && printf "%s" "$out" | grep -q "#[0-9]* 第二十二回 第 31 字：「晁盖」按记录在第二十回已经死亡（死亡），此处却在第二十二回说话$"'
out=$("$CLI" check --db "$D" --book 1 --chapters 21-22 --json 2>/dev/null)
check "check --chapters 21-22 --json: $out" 'printf "%s" "$out" | json "assert [(f[\"chapter\"], f[\"label\"]) for f in j] == [(23, \"第二十二回\")]"'
out=$("$CLI" check --db "$D" --book 1 --chapters 1-20 --json 2>/dev/null)
check "check --chapters 1-20 excludes 第二十二回" 'printf "%s" "$out" | json "assert j == []"'

# ---- entities discover: 首见 as the book numbers it ----
"$CLI" import --db "$tmp/e.cjbook" --file "$B/shuihu-like.txt" >/dev/null
out=$("$CLI" entities discover --db "$tmp/e.cjbook" --book 1 --min-count 2)
check "discover: $out" 'printf "%s" "$out" | grep -q "^宋江 .* 4 次  首见第十七回$"'
out=$("$CLI" entities discover --db "$tmp/e.cjbook" --book 1 --min-count 2 --json)
check "discover --json" 'printf "%s" "$out" | json "d=[x for x in j if x[\"name\"] == \"宋江\"][0]; assert (d[\"first_chapter\"], d[\"first_label\"]) == (18, \"第十七回\")"'

# ---- search: whole terms, counts, no results in words ----
out=$("$CLI" search --db "$D" --book 1 武松)
check "search counts hits and chapters: $out" '[ "$(printf "%s" "$out" | head -1)" = "「武松」：4 处，3 章" ]'
check "search lists by label" 'printf "%s" "$out" | grep -q "^#23   第二十二回  横海郡柴进留宾　景阳冈武松打虎  2 处$"'
out=$("$CLI" search --db "$D" --book 1 孙悟空); rc=$?
check "no results: exit 0 and words ($out)" '[ $rc -eq 0 ] && [ "$out" = "没有找到「孙悟空」（0 处）" ]'
out=$("$CLI" search --db "$tmp/s.cjbook" --book 1 阿Q --json)
check "阿Q finds 阿Ｑ ($out)" 'printf "%s" "$out" | json "assert j[\"hits\"] == 4 and j[\"chapters\"] == 1 and j[\"results\"][0][\"label\"] == \"阿Ｑ的邻居\" and \"【阿Ｑ】\" in j[\"results\"][0][\"snippet\"]"'
q=$($PY -c "print(' '.join(['武松'] * 5000))")
out=$("$CLI" search --db "$D" --book 1 --json "$q")
check "5,000 repeated terms are one" 'printf "%s" "$out" | json "assert j[\"hits\"] == 4 and j[\"terms\"] == [\"武松\"]"'
out=$("$CLI" search --db "$D" --book 1 "$q")
check "…and the header shows the term once" '[ "$(printf "%s" "$out" | head -1)" = "「武松」：4 处，3 章" ]'

# ---- context: the manifest and the prompt text name chapters as the book does ----
"$CLI" summarize --db "$D" --book 1 >/dev/null 2>&1
out=$("$CLI" context --db "$D" --book 1 --chapter 23 --budget 8192 --out "$tmp/ctx.txt" --json); rc=$?
check "context exits 0 ($rc)" '[ $rc -eq 0 ]'
check "manifest: chapter and labels ($out)" 'printf "%s" "$out" | json "assert (j[\"chapter\"], j[\"label\"]) == (24, \"第二十三回\"); v=[s for s in j[\"sections\"] if s[\"kind\"] == \"verbatim\"][0]; assert v[\"labels\"][-1] == \"第二十二回\" and v[\"chapters\"][-1] == 23, v; assert all(\"chapter 24\" not in s[\"reason\"] for s in j[\"sections\"])"'
check "prompt text: sheets name 第十七回/第二十回" 'grep -q "职务：押司（自第十七回）" "$tmp/ctx.txt" && grep -q "晁盖（人物）已故（第二十回起）" "$tmp/ctx.txt"'
check "prompt text: no ordinal chapter names" '! grep -qE "第(18|21|23|24)章" "$tmp/ctx.txt"'
out=$("$CLI" context --db "$D" --book 1 --chapter 第二十五回 --budget 4096 --out "$tmp/ctx2.txt" --json); rc=$?
check "context for the next, unwritten chapter ($rc)" '[ $rc -eq 0 ] && printf "%s" "$out" | json "assert (j[\"chapter\"], j[\"label\"]) == (26, \"第二十五回\")"'

# ---- draft: --chapters in the book's numbers; new chapters continue its numbering ----
"$CLI" make-model --arch qwen3 --layers 1 --embd 32 --heads 2 --kv-heads 1 --ff 64 --type q8_0 \
  --tokenizer "$SRC/samples/tokenizer/qwen3/tokenizer.json" --seed 3 --out "$tmp/q.gguf" 2>/dev/null
printf '## 25 风雪山神庙\n林冲在草料场。\n## 第二十六回 智取生辰纲\n吴用定计。\n' > "$tmp/outline.txt"
out=$("$CLI" draft --db "$D" --book 1 --chapters 25-26 --outline-file "$tmp/outline.txt" --model "$tmp/q.gguf" \
      --words 12 --threads 1 --json 2>"$tmp/draft.err"); rc=$?
check "draft exits 0 (rc $rc; $(tail -n 2 "$tmp/draft.err" | tr '\n' ' '))" '[ $rc -eq 0 ]'
check "draft report labels ($out)" 'printf "%s" "$out" | json "assert [(x[\"chapter\"], x[\"label\"]) for x in j] == [(26, \"第二十五回\"), (27, \"第二十六回\")]"'
check "new chapters are 第二十五回, 第二十六回 (not 第二十六/二十七回)" \
  '[ "$(sqlite3 "$D" "SELECT group_concat(heading, \"|\") FROM (SELECT heading FROM chapters WHERE ordinal >= 26 ORDER BY ordinal)")" = "第二十五回 风雪山神庙|第二十六回 智取生辰纲" ]'
err=$("$CLI" draft --db "$D" --book 1 --chapters 30-31 --outline-file "$tmp/outline.txt" --model "$tmp/q.gguf" 2>&1 >/dev/null); rc=$?
check "draft past the next numbers is one line ($rc): $err" '[ $rc -eq 1 ] && [ $(printf "%s\n" "$err" | wc -l) -eq 1 ] && printf "%s" "$err" | grep -q "the next chapter is 第二十七回 (27)"'

# ---- export: Markdown without code blocks; chapters holding only an unaccepted draft are named ----
"$CLI" export --db "$D" --book 1 --format md --out "$tmp/b.md" 2>"$tmp/export.err"; rc=$?
check "export md exits 0" '[ $rc -eq 0 ]'
check "md: no indented (code block) lines" '! grep -qE "^(    |	|　)" "$tmp/b.md"'
check "md: headings trimmed" 'grep -qx "## 第二十二回　横海郡柴进留宾　景阳冈武松打虎" "$tmp/b.md"'
check "export warns about the unaccepted drafts: $(cat "$tmp/export.err")" 'grep -q "2 chapter(s) hold only an AI draft that was not accepted and were exported empty: 第二十五回、第二十六回" "$tmp/export.err"'
"$CLI" export --db "$tmp/s.cjbook" --book 1 --format md --out "$tmp/s.md"
check "stories md: ## 阿Ｑ的邻居 and ### sections" 'grep -qx "## 阿Ｑ的邻居" "$tmp/s.md" && grep -qx "### 第一章　序" "$tmp/s.md"'

echo "chapters_cli: $fails failed"
[ $fails -eq 0 ]
