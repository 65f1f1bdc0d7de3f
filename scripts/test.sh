#!/usr/bin/env bash
# The one command to test southgate: installs what is missing, builds, and
# runs every test (unit and end-to-end against the real daemon) with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
cd build
ctest --output-on-failure -j"$(nproc)" --timeout 600 "$@"
