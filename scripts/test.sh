#!/usr/bin/env bash
# Installs what is missing, builds into build/ and runs the whole test suite with ctest.
#   scripts/test.sh              the normal build
#   scripts/test.sh --sanitize   an ASan+UBSan build in build-asan/
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ "${1:-}" = "--sanitize" ]; then
  export CJ_BUILD_DIR=build-asan
  bash scripts/build.sh -DCHANGJUAN_SANITIZE=ON
else
  export CJ_BUILD_DIR=build
  bash scripts/build.sh
fi
cd "$CJ_BUILD_DIR"
ctest --output-on-failure -j "${CJ_JOBS:-$(nproc)}" --timeout 1800
