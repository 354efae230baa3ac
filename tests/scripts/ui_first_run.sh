#!/usr/bin/env bash
# The first run, as a writer does it, under Xvfb: no settings and no project → the welcome page → 新建项目 (a
# blank book) → 导入小说 through the file browser (typing the path) → the import's summary → 模型与设置 → 浏览…
# the sample model → 保存并加载 → a chapter opens with the caret at the end → the context panel → 续写 (the text
# goes on at the end; the panel showed exactly the prompt the model got) → 重新生成 (another text, another seed) →
# 接受. A screenshot of each step goes to build/screenshots/first_run_NN_*.png; the project and settings.json
# are checked afterwards.
set -u
BIN=$1
SRC=$2
command -v xvfb-run >/dev/null || { echo "ui_first_run: xvfb-run missing"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export HOME=$tmp/home XDG_CONFIG_HOME=$tmp/home/.config
mkdir -p "$HOME/书稿"
cp "$SRC/samples/book/hongloumeng-1-20.txt" "$HOME/书稿/红楼梦.txt"
MODEL=$SRC/samples/model/changjuan-sample-qwen3.gguf
[ -f "$MODEL" ] || { echo "ui_first_run: the sample model is missing"; exit 1; }
OUT=$(cd "$BIN/.." && pwd)/screenshots; mkdir -p "$OUT"
rm -f "$OUT"/first_run_*.png
S=$OUT/first_run
cat > "$tmp/a.script" <<EOF
wait 5
screenshot ${S}_01_welcome.png
expect-label 新建项目…
click-label 新建项目…
wait 3
type 我的小说
wait 2
screenshot ${S}_02_new_project.png
click-label 创建
wait 5
expect-ui-text 已新建《我的小说》
screenshot ${S}_03_blank_book.png
click-label 文件
wait 2
click-label 导入小说…
wait 3
type $HOME/书稿/红楼梦.txt
wait 2
screenshot ${S}_04_pick_novel.png
key enter
wait 3
screenshot ${S}_05_save_project.png
key enter
wait 3
click-label 开始写作
wait 3
expect-caret end
screenshot ${S}_06_imported.png
click-label 模型与设置…
wait 3
click-label 浏览…
wait 3
type $MODEL
wait 2
screenshot ${S}_07_pick_model.png
key enter
wait 3
screenshot ${S}_08_settings.png
click-label 保存并加载
wait-ai ready
wait 3
open 3
wait 5
expect-caret end
panel context
sleep 2500
wait 3
screenshot ${S}_09_context.png
panel ai
wait 3
click-label 续写
wait-ai done
wait 5
expect-context-prompt
screenshot ${S}_10_continue.png
click-label 重新生成
wait-ai done
wait 5
screenshot ${S}_11_regenerate.png
click-label 接受
wait 5
expect-caret end
expect-ui-text 已接受 AI 修订
screenshot ${S}_12_accepted.png
EOF
timeout 600 xvfb-run -a -s "-screen 0 1280x800x24" "$BIN/changjuan" --no-restore --script "$tmp/a.script" >"$tmp/log" 2>&1
rc=$?
grep -v "editor shows" "$tmp/log"
[ $rc -eq 0 ] || { echo "FAIL: the script exited $rc"; exit 1; }
grep -q "characters lack a glyph" "$tmp/log" && grep "characters lack a glyph" "$tmp/log" | grep -vq " 0 characters" &&
  { echo "FAIL: characters without a glyph on screen"; exit 1; }
/usr/bin/python3 - "$HOME" "$MODEL" <<'PY'
import json, os, sqlite3, sys
home, model = sys.argv[1], sys.argv[2]
# settings.json: written by the dialog, the sample model, automatic context.
s = json.load(open(os.path.join(home, ".config/changjuan/settings.json")))
assert os.path.realpath(s["model_path"]) == os.path.realpath(model), s
assert s["ctx"] == 0, s
# The blank book: its own project with one empty chapter.
b = sqlite3.connect(os.path.join(home, "我的小说.cjbook"))
assert b.execute("select title from books").fetchall() == [("我的小说",)]
assert b.execute("select c.heading, length(r.body) from chapters c join chapter_revisions r on r.id = c.revision_id").fetchall() == [("第一章", 0)]
# The imported novel, next to its text file.
db = sqlite3.connect(os.path.join(home, "书稿/红楼梦.cjbook"))
assert db.execute("select count(*) from chapters").fetchone()[0] == 20
assert db.execute("select count(*) from summary_nodes").fetchone()[0] > 20, "no summary tree"
# Chapter 4 (index 3): two AI revisions (续写, 重新生成) with different seeds and texts, both going on at the end of
# the imported text; the second is current (accepted).
cid, cur = db.execute("select id, revision_id from chapters where ordinal = 4").fetchone()
rows = db.execute("select id, source, note, body from chapter_revisions where chapter_id = ? order by id", (cid,)).fetchall()
imp = rows[0]
ai = [r for r in rows if r[1] == "ai"]
assert imp[1] == "import" and len(ai) == 2, [(r[0], r[1], r[2]) for r in rows]
assert all(r[3].startswith(imp[3]) and len(r[3]) > len(imp[3]) for r in ai), "续写 did not go on at the end"
assert ai[0][3] != ai[1][3], "重新生成 gave the same text"
seeds = [r[2].split(" · seed ")[1] for r in ai]
assert seeds[0] != seeds[1], seeds
assert cur == ai[1][0], (cur, ai[1][0])
print("ui_first_run: new project, import, sample model, 续写 at the end, 重新生成 (seeds %s), accepted" % ", ".join(seeds))
PY
[ $? -eq 0 ] || { echo "FAIL: the project after the first run"; exit 1; }
n=$(ls "$OUT"/first_run_*.png | wc -l)
[ "$n" -eq 12 ] || { echo "FAIL: $n screenshots, not 12"; exit 1; }
echo "ui_first_run: $n screenshots in $OUT"
