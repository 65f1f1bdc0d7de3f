#!/usr/bin/env bash
# The one command to test southgate: installs what is missing, builds, and
# runs every test (unit and end-to-end against the real daemon) with ctest,
# then the fuzz build's short fuzzing runs (docs/security.md, "Fuzzing").
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
ctest --test-dir build --output-on-failure -j"$(nproc)" --timeout 600 "$@"
# The fuzz targets (tests/fuzz): a separate clang build, each target run
# briefly from its seeds, plus the sanitized unit tests (label fuzz).
./scripts/build-fuzz.sh
ctest --test-dir build-fuzz -L fuzz --output-on-failure -j"$(nproc)" "$@"
