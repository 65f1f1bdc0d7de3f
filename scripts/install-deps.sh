#!/usr/bin/env bash
# Installs every Debian 12 package southgate needs to build, run and test.
# Idempotent: packages already present are left alone.
set -euo pipefail

packages=(
  # toolchain
  g++ cmake make pkg-config git ca-certificates ccache
  # libraries
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libyang2-dev libnetconf2-dev libssh-dev libssl-dev
  libspdlog-dev libfmt-dev nlohmann-json3-dev libyaml-cpp-dev libcli11-dev
  libargon2-dev libsystemd-dev libcpp-httplib-dev
  # YANG modules (IETF) used by the simulated devices
  libyuma-base
  # tests
  libgtest-dev libgmock-dev openssl
  # fuzzing (tests/fuzz, scripts/build-fuzz.sh): clang 14, its runtime
  # libraries (libFuzzer, ASan, UBSan) and llvm-symbolizer for reports
  clang-14 libclang-rt-14-dev llvm-14
  # benchmarks (bench/): jemalloc for the load client and ceiling server
  libjemalloc-dev
  # the NETCONF benchmark's Python baseline (TeraFlowSDN's NETCONF library)
  python3-ncclient
  # ops tests: a real Prometheus scrapes the daemon
  prometheus
  # the gNMI chain tests run daemon B with its clock a day ahead, so that
  # timestamps passed through daemon A are told apart from A's own
  libfaketime
  # a real NETCONF device for the netconf driver's tests (tests/netconf)
  netconfd openssh-server openssh-client
  # tools the tests call: pkill, systemd-analyze verify, cpack's DEB
  # generator (dpkg-shlibdeps, file)
  procps systemd dpkg-dev file
)
# kubectl renders the Kubernetes manifests offline (kubectl kustomize);
# Debian ships it as kubernetes-client. Keep a kubectl that is already there.
command -v kubectl >/dev/null || packages+=(kubernetes-client)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
