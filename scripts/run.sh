#!/usr/bin/env bash
# Sets up a fresh Debian bookworm machine (as root) and runs the main CYPHONIC job: the whole
# system on this one machine. A release build; the protocol self-check (PROTOCOL.md §11
# vectors, codecs, replay window); then the cloud (PostgreSQL, cyphonic-as, -nms, -trs) and two
# cyphonicd nodes, each in its own network namespace: alice resolves bob's FQDN at her
# resolver, pings him over IPv4 and IPv6 and runs an iperf3 transfer through the tunnel
# (tests/e2e/scenarios/01_public.sh, which removes everything it created); then a
# cyphonic-adapterd with general nodes on its LAN: DHCP leases, dig at the gateway, ping and
# iperf3 to a cyphonicd node behind NAPT and back (tests/e2e/scenarios/11_adapter_overlay.sh);
# last the cipher-suite benchmark next to this machine's `openssl speed` figures.
# RUN_NAT=1 also runs the NAPT scenario (relay through TRS, then route optimisation).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${JOBS:-$(nproc)}

scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$jobs"
echo "==== protocol self-check (test vectors, codecs, replay window)"
ctest --test-dir build/release -L unit -j "$jobs" --output-on-failure | tail -n 3
echo "==== the whole system in network namespaces: cloud + two cyphonicd nodes"
CYPHONIC_BUILD_DIR=build/release tests/e2e/scenarios/01_public.sh
echo "==== an adapter: unmodified general nodes on its LAN reach a cyphonicd node and back"
CYPHONIC_BUILD_DIR=build/release tests/e2e/scenarios/11_adapter_overlay.sh
if [ "${RUN_NAT:-0}" = 1 ]; then
    echo "==== both nodes behind NAPT: relayed first, then direct"
    CYPHONIC_BUILD_DIR=build/release tests/e2e/scenarios/02_napt.sh
fi
echo "==== cipher suites vs openssl speed"
scripts/bench-crypto.sh build/release
