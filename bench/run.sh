#!/usr/bin/env bash
# Builds southgated, the sim plugin and the benchmarks (Release) and runs the
# issue 3 benchmarks, appending each result table to docs/performance.md.
#   bench/run.sh                 all three benchmarks
#   bench/run.sh throughput      one of: throughput latency memory flood
# Extra arguments after the name go to that benchmark, e.g.
#   bench/run.sh throughput --window 10 --daemon-env LD_PRELOAD=...
# BUILD_DIR (default build-bench) picks the build folder.
# Loopback only; every benchmark bounds its own waits.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build-bench}
which=${1:-all}
shift || true

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release \
  -DSOUTHGATE_BUILD_BENCH=ON -DSOUTHGATE_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target southgated southgate_driver_sim \
  ceiling_server subscribe_bench latency_bench memory_bench flood_bench

distinct='{"seed": "{SOURCE}/examples/sim/ietf-default.json", "update_interval_ms": 0, "change_rate": 2000000, "change_leaves": 10000, "change_batch": {UPDATES}, "change_paced": true}'
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) (nproc $(nproc))"
run() {
  echo "== $*"
  "$build/bin/$@"
}
case "$which" in
  all)
    # Cells of equal shape (U distinct leaves: every wire Notification has
    # at most U updates), then southgate free to batch (10,000 distinct
    # leaves; see docs/performance.md).
    run subscribe_bench
    run subscribe_bench --sim-options "$distinct"
    run latency_bench
    run memory_bench
    ;;
  throughput) run subscribe_bench "$@" ;;
  latency) run latency_bench "$@" ;;
  memory) run memory_bench "$@" ;;
  # Issue 6: the attacker scenario, then 1,000 polling clients.
  flood)
    run flood_bench --scenario attack --duration 60 --baseline 10 "$@"
    run flood_bench --scenario pollers --pollers 1000 --poll-interval 10 \
      --duration 60 "$@"
    ;;
  *) echo "unknown benchmark '$which' (throughput, latency, memory, flood)" >&2; exit 2 ;;
esac
