# shellcheck shell=bash
# Baseline leg: no tunnel, the plain veth pair between the two real addresses.
#
# The contract of a leg file, for legs/<name>.sh (name with "-" spelled "_" in functions):
#   leg_<name>_packages  prints the Debian packages the leg needs (installed when missing)
#   leg_<name>_up        runs in the leg's own subshell (errexit on); builds the topology
#                        (topology_up), keeps its files in $LEG_WORK, starts the daemons with
#                        start_in_ns and sets
#                          NS_A, NS_B end A's and B's namespaces (topology_up's by default)
#                          LEG_PEER   end B's address over the tunnel, as reached from NS_A
#                          LEG_DEV_A  end A's tunnel interface (for the MTU column)
#                          LEG_PIDS   the tunnel daemons of both ends (for the CPU column)
#                        and calls die on any failure. The tunnel must carry its packets over
#                        the veth-b (in NS_A) <-> veth-a (in NS_B) pair: run_leg checks that
#                        veth-b sent at least the bytes iperf3 sent.

leg_veth_packages() { :; }

leg_veth_up() {
    topology_up
    LEG_PEER=$REAL_B
    LEG_DEV_A=veth-b
    LEG_PIDS=()
}
