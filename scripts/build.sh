#!/usr/bin/env bash
# Configures and builds southgate into ./build (Release).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}" -DSOUTHGATE_ONLY= \
  ${SOUTHGATE_CMAKE_ARGS:-} >/dev/null
cmake --build build -j"$(nproc)"
