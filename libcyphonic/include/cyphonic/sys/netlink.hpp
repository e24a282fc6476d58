#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cyphonic/core/address.hpp"
#include "cyphonic/core/expected.hpp"

namespace cyphonic::sys {

// One address configured on an interface, as `Netlink::addresses()` reports it.
struct InterfaceAddress {
    int ifindex = 0;
    std::string ifname;
    IpAddress address;
    unsigned prefix_len = 0;
    bool global_scope = false;  // RT_SCOPE_UNIVERSE: usable towards other hosts
    // Not usable as a source yet or any more: IPv6 duplicate address detection still running or
    // failed, or the preferred lifetime is over.
    bool tentative_or_deprecated = false;

    friend bool operator==(const InterfaceAddress&, const InterfaceAddress&) = default;
};

// What a remove_* call does when there is nothing to remove.
enum class IfMissing : unsigned char {
    Fail,    // an error ("Cannot assign requested address", "No such process")
    Ignore,  // success: the address, route or whole interface is already gone
};

// rtnetlink configuration through libnl-route-3: links, addresses, routes of the network
// namespace the calling thread is in. Every call is a synchronous request that waits for the
// kernel's answer. Errors say what failed and the kernel's reason, with its extended ack text
// when it sends one: "add 10.1.0.5/32 on cyph0: File exists". Move-only; one thread at a time
// (the daemons call it from their I/O thread).
class Netlink {
public:
    [[nodiscard]] static Expected<Netlink, std::string> open();

    Netlink(Netlink&&) noexcept;
    Netlink& operator=(Netlink&&) noexcept;
    Netlink(const Netlink&) = delete;
    Netlink& operator=(const Netlink&) = delete;
    ~Netlink();

    // Sets IFF_UP and, when given, the MTU.
    [[nodiscard]] Expected<void, std::string> set_link_up(int ifindex, std::optional<unsigned> mtu);

    // IPv6 addresses are added with IFA_F_NODAD, so they are usable as a source at once (the
    // virtual IP comes from NMS and is unique by construction). Adding an address that is
    // already there is an error (EEXIST).
    [[nodiscard]] Expected<void, std::string> add_address(int ifindex, const IpAddress& address,
                                                          unsigned prefix_len);
    [[nodiscard]] Expected<void, std::string> remove_address(
        int ifindex, const IpAddress& address, unsigned prefix_len,
        IfMissing if_missing = IfMissing::Fail);

    // A directly connected route (scope link, main table, no gateway) of `prefix/prefix_len`
    // through the interface. Host bits set in `prefix` are an error for both families (the
    // kernel would refuse them for IPv4 but silently clear them for IPv6).
    [[nodiscard]] Expected<void, std::string> add_route(int ifindex, const IpAddress& prefix,
                                                        unsigned prefix_len);
    [[nodiscard]] Expected<void, std::string> remove_route(int ifindex, const IpAddress& prefix,
                                                           unsigned prefix_len,
                                                           IfMissing if_missing = IfMissing::Fail);

    // Every IPv4 and IPv6 address of every interface, in the kernel's order.
    [[nodiscard]] Expected<std::vector<InterfaceAddress>, std::string> addresses();

    struct State;  // the libnl socket and the last kernel error; public for the .cpp's callback

private:
    explicit Netlink(std::unique_ptr<State> state);

    std::unique_ptr<State> state_;  // on the heap: libnl's error callback keeps its address
};

}  // namespace cyphonic::sys
