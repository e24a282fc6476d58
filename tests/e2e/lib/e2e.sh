# shellcheck shell=bash source-path=SCRIPTDIR
# Sourced first by every scenario: the whole harness, and where the binaries are.
#   common.sh    messages, failure, PID and namespace bookkeeping, the EXIT trap
#   topology.sh  internet, public hosts, NAT routers, hosts behind them, moves
#   cloud.sh     PostgreSQL, certificates, cyphonic-as/-nms/-trs, enrolment
#   node.sh      cyphonicd per node, its status, resolve/ping/iperf3 over the overlay
# A scenario then calls e2e_init (root check, run tag, trap) and builds its topology.

# Command substitutions fail like any other command (bash clears -e in them otherwise).
shopt -s inherit_errexit

e2e_lib=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=common.sh
source "$e2e_lib/common.sh"
# shellcheck source=topology.sh
source "$e2e_lib/topology.sh"
# shellcheck source=cloud.sh
source "$e2e_lib/cloud.sh"
# shellcheck source=node.sh
source "$e2e_lib/node.sh"
unset e2e_lib
e2e_find_binaries
