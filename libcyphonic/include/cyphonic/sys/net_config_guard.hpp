#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "cyphonic/core/address.hpp"
#include "cyphonic/core/expected.hpp"
#include "cyphonic/sys/netlink.hpp"

namespace cyphonic::sys {

// Adds addresses and routes through a Netlink and remembers each one that the kernel accepted,
// so that restore() — or the destructor — removes exactly those, newest first, and the host is
// left as it was found. What is already gone by then (the TUN closed, someone else removed it)
// counts as removed. Move-only; the Netlink must outlive the guard; same thread as the Netlink.
class NetConfigGuard {
public:
    explicit NetConfigGuard(Netlink& netlink) noexcept : netlink_(&netlink) {}
    ~NetConfigGuard() { static_cast<void>(restore()); }
    NetConfigGuard(NetConfigGuard&& other) noexcept;
    NetConfigGuard& operator=(NetConfigGuard&& other) noexcept;
    NetConfigGuard(const NetConfigGuard&) = delete;
    NetConfigGuard& operator=(const NetConfigGuard&) = delete;

    // Same contract as Netlink's; recorded only on success.
    [[nodiscard]] Expected<void, std::string> add_address(int ifindex, const IpAddress& address,
                                                          unsigned prefix_len);
    [[nodiscard]] Expected<void, std::string> add_route(int ifindex, const IpAddress& prefix,
                                                        unsigned prefix_len);
    // Removes one recorded address or route now (e.g. the old virtual IP after a change) and
    // forgets it; already gone counts as removed. Removing something this guard did not add is
    // an error.
    [[nodiscard]] Expected<void, std::string> remove_address(int ifindex, const IpAddress& address,
                                                             unsigned prefix_len);
    [[nodiscard]] Expected<void, std::string> remove_route(int ifindex, const IpAddress& prefix,
                                                           unsigned prefix_len);

    // Removes everything recorded, routes and addresses in reverse order of addition, and
    // forgets it all. Returns the removals that failed (empty when all went well), so the daemon
    // can log them on shutdown; the destructor discards them.
    [[nodiscard]] std::vector<std::string> restore();
    // Forgets everything without removing it (the configuration is meant to outlive us).
    void release() noexcept { entries_.clear(); }
    [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }

private:
    enum class Kind : unsigned char { Address, Route };
    struct Entry {
        Kind kind = Kind::Address;
        int ifindex = 0;
        IpAddress address;
        unsigned prefix_len = 0;
        friend bool operator==(const Entry&, const Entry&) = default;
    };
    [[nodiscard]] Expected<void, std::string> remove(const Entry& entry, IfMissing if_missing);
    [[nodiscard]] Expected<void, std::string> forget_and_remove(const Entry& entry);

    Netlink* netlink_;  // not owned
    std::vector<Entry> entries_;
};

}  // namespace cyphonic::sys
