#!/usr/bin/env bash
# Installs every build, test and benchmark dependency of CYPHONIC from Debian bookworm packages.
# Idempotent: when everything is already installed it prints one line and touches nothing.
# Usage: scripts/install-deps.sh            (must run as root, or with sudo available)
set -euo pipefail

packages=(
    # toolchain
    build-essential cmake ninja-build pkg-config clang clang-format clang-tidy libclang-rt-14-dev
    ccache
    # libraries
    libboost-dev libboost-system-dev libssl-dev libpqxx-dev libyaml-cpp-dev libspdlog-dev
    libfmt-dev libcli11-dev libexpected-dev libgtest-dev libgmock-dev libbenchmark-dev
    libnl-3-dev libnl-route-3-dev libtins-dev
    # tools the tests and benchmarks drive
    openssl postgresql iproute2 nftables dnsutils iputils-ping iperf3 procps systemd
    # e2e scenarios (tests/e2e): status JSON, readiness probes, capture and replay
    jq curl tcpdump python3
    # outage scenarios: a router that restarts forgets its NAT mappings (conntrack -F)
    conntrack
    # adapter scenarios: real DHCPv4/DHCPv6 clients on the general nodes
    isc-dhcp-client ethtool
)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all ${#packages[@]} packages present"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
