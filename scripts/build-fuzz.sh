#!/usr/bin/env bash
# Configures and builds the fuzz build into ./build-fuzz: Debian's clang 14,
# the libraries the fuzz targets need instrumented for libFuzzer with
# AddressSanitizer and UndefinedBehaviorSanitizer, the targets in
# tests/fuzz/ and their short runs as ctest tests (label fuzz):
#   ./scripts/build-fuzz.sh && ctest --test-dir build-fuzz -L fuzz
# See docs/security.md, "Fuzzing".
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
  -DSOUTHGATE_FUZZ=ON -DSOUTHGATE_BUILD_BENCH=OFF \
  -DSOUTHGATE_ONLY="common;schema;config;security;drivers;devices;ops;telemetry;northbound" \
  ${SOUTHGATE_FUZZ_CMAKE_ARGS:-} >/dev/null
cmake --build build-fuzz -j"$(nproc)"
