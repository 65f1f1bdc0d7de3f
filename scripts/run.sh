#!/usr/bin/env bash
# The one command to try southgate: installs what is missing, builds, and
# starts southgated on the embedded default (examples/lab.yaml: three
# simulated devices, gNMI over TLS on 127.0.0.1:9339).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
exec ./build/bin/southgated --config examples/lab.yaml "$@"
