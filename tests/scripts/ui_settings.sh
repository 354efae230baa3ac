#!/usr/bin/env bash
# 模型与设置: where the model runs (本机 CPU, 本机 GPU when a CUDA backend can run here, 远程服务器). 远程服务器 asks
# for the server's address and saves backend remote with it to settings.json; picking the sample model again runs
# it here on the CPU. Under Xvfb.
set -u
BIN=$1
SRC=$2
command -v xvfb-run >/dev/null || { echo "ui_settings: xvfb-run missing (scripts/setup.sh installs it)"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export XDG_CONFIG_HOME=$tmp/config HOME=$tmp
fails=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fails=$((fails+1)); fi; }
settings() { python3 -c "import json,sys; s=json.load(open('$1')); print(s.get('backend','cpu'), s.get('remote_url',''))" 2>/dev/null; }
cp "$SRC/samples/book/hongloumeng-1-20.txt" "$tmp/book.txt"
run() {
  xvfb-run -a -s "-screen 0 1280x800x24" "$BIN/changjuan" --open "$tmp/book.txt" --no-restore --script "$1" 2>&1
}
cat > "$tmp/remote.script" <<S
wait 3
click-label 文件
wait 2
click-label 模型与设置…
wait 3
click-label 远程服务器
wait 2
click-label 服务器地址
type http://127.0.0.1:9/v1
wait 2
screenshot $tmp/remote.png
click-label 保存并加载
wait 3
quit
S
out=$(run "$tmp/remote.script"); rc=$?
check "the remote script ran (rc $rc): $out" '[ $rc -eq 0 ]'
f=$(find "$tmp" -name settings.json | head -1)
got=$(settings "$f")
check "settings.json says backend remote with the typed address (got '$got' in '$f')" '[ "$got" = "remote http://127.0.0.1:9/v1" ]'

cat > "$tmp/cpu.script" <<S
wait 3
click-label 文件
wait 2
click-label 模型与设置…
wait 3
click-label 用示例模型
wait 3
screenshot $tmp/cpu.png
click-label 保存并加载
wait 3
quit
S
out=$(run "$tmp/cpu.script"); rc=$?
check "the cpu script ran (rc $rc): $out" '[ $rc -eq 0 ]'
got=$(settings "$f")
check "choosing the sample model runs it here again (got '$got')" '[ "${got%% *}" = "cpu" ]'
mkdir -p "$BIN/../screenshots" && cp "$tmp/remote.png" "$BIN/../screenshots/ui_settings_remote.png" 2>/dev/null
[ $fails -eq 0 ] && echo "ui_settings: ok" || { echo "ui_settings: $fails failed"; exit 1; }
