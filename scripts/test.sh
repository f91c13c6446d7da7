#!/usr/bin/env bash
# Sets up everything on a fresh Debian machine, builds Weir and runs the
# whole test suite through CTest. The CLI ends up at build/weir.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/build.sh"
cd "$root/build"
ctest --output-on-failure -j "$(nproc)" --timeout 300
