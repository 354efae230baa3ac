#!/usr/bin/env bash
# The GUI opens a real window under Xvfb and writes a screenshot with something drawn in it.
set -u
BIN=$1
command -v xvfb-run >/dev/null || { echo "gui_smoke: xvfb-run missing (scripts/setup.sh installs it)"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export XDG_CONFIG_HOME=$tmp/config  # leave the user's settings alone
xvfb-run -a -s "-screen 0 1280x800x24" "$BIN/changjuan" --no-restore --screenshot "$tmp/shot.png" --frames 3 || { echo "FAIL: changjuan exited $?"; exit 1; }
python3 - "$tmp/shot.png" <<'PY'
import sys, zlib, struct
data = open(sys.argv[1], 'rb').read()
assert data[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
w, h = struct.unpack('>II', data[16:24])
assert (w, h) == (1280, 800), (w, h)
idat = b''; i = 8
while i < len(data):
    n = struct.unpack('>I', data[i:i+4])[0]; t = data[i+4:i+8]
    if t == b'IDAT': idat += data[i+8:i+8+n]
    i += 12 + n
raw = zlib.decompress(idat)
distinct = len(set(raw[1:1 + w * 4 * 40]))  # top 40 rows: menu bar and text
assert distinct > 8, 'screenshot looks blank'
print('gui_smoke: 0 failed')
PY
