#include "cyphonic/sys/net_config_guard.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

namespace cyphonic::sys {

NetConfigGuard::NetConfigGuard(NetConfigGuard&& other) noexcept
    : netlink_(other.netlink_), entries_(std::exchange(other.entries_, {})) {}

NetConfigGuard& NetConfigGuard::operator=(NetConfigGuard&& other) noexcept {
    if (this != &other) {
        static_cast<void>(restore());  // what this guard added is not handed over, so undo it
        netlink_ = other.netlink_;
        entries_ = std::exchange(other.entries_, {});
    }
    return *this;
}

Expected<void, std::string> NetConfigGuard::add_address(int ifindex, const IpAddress& address,
                                                        unsigned prefix_len) {
    auto added = netlink_->add_address(ifindex, address, prefix_len);
    if (added) {
        entries_.push_back({Kind::Address, ifindex, address, prefix_len});
    }
    return added;
}

Expected<void, std::string> NetConfigGuard::add_route(int ifindex, const IpAddress& prefix,
                                                      unsigned prefix_len) {
    auto added = netlink_->add_route(ifindex, prefix, prefix_len);
    if (added) {
        entries_.push_back({Kind::Route, ifindex, prefix, prefix_len});
    }
    return added;
}

Expected<void, std::string> NetConfigGuard::remove_address(int ifindex, const IpAddress& address,
                                                           unsigned prefix_len) {
    return forget_and_remove({Kind::Address, ifindex, address, prefix_len});
}

Expected<void, std::string> NetConfigGuard::remove_route(int ifindex, const IpAddress& prefix,
                                                         unsigned prefix_len) {
    return forget_and_remove({Kind::Route, ifindex, prefix, prefix_len});
}

Expected<void, std::string> NetConfigGuard::forget_and_remove(const Entry& entry) {
    const auto it = std::find(entries_.begin(), entries_.end(), entry);
    if (it == entries_.end()) {
        return fail(fmt::format("remove {} {}/{}: not added through this guard",
                                entry.kind == Kind::Address ? "address" : "route", entry.address,
                                entry.prefix_len));
    }
    entries_.erase(it);
    // Forgotten even if the removal fails: retrying in restore() would fail the same way.
    // Already gone counts as removed, as in restore().
    return remove(entry, IfMissing::Ignore);
}

Expected<void, std::string> NetConfigGuard::remove(const Entry& entry, IfMissing if_missing) {
    return entry.kind == Kind::Address
               ? netlink_->remove_address(entry.ifindex, entry.address, entry.prefix_len,
                                          if_missing)
               : netlink_->remove_route(entry.ifindex, entry.address, entry.prefix_len, if_missing);
}

std::vector<std::string> NetConfigGuard::restore() {
    std::vector<std::string> failures;
    // Newest first: a route may depend on an address added before it.
    while (!entries_.empty()) {
        const Entry entry = entries_.back();
        entries_.pop_back();
        // Already gone is fine: closing the TUN takes its addresses and routes with it.
        if (auto removed = remove(entry, IfMissing::Ignore); !removed) {
            failures.push_back(std::move(removed.error()));
        }
    }
    return failures;
}

}  // namespace cyphonic::sys
