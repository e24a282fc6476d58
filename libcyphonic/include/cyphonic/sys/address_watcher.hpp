#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "cyphonic/core/expected.hpp"
#include "cyphonic/net/asio.hpp"

namespace cyphonic::sys {

// Tells the node daemon that its network may have changed (mobility: a new address, a lost
// route, an interface going down) so it can look at its addresses again and re-register.
// Listens to the rtnetlink multicast groups for links, IPv4/IPv6 addresses and IPv4/IPv6 routes
// of the calling thread's network namespace and calls `on_change` once per burst of events: a
// burst ends when `debounce` passes without a new event (and at the latest after 4 × debounce,
// so a constant trickle still gets through). The callback learns only "something changed";
// it reads the new state itself (Netlink::addresses(), source_address_for()). If the kernel
// dropped events because we were slow (ENOBUFS), that counts as a change too.
//
// Runs on `executor`, which must be single-threaded (the daemon's I/O thread); construct, start,
// stop and destroy it on that thread. `on_change` is never called after stop() or destruction,
// even when events are already queued; it may call stop() or destroy the watcher.
class AddressWatcher {
public:
    AddressWatcher(asio::any_io_executor executor, std::function<void()> on_change,
                   std::chrono::milliseconds debounce = std::chrono::milliseconds(300));
    ~AddressWatcher();
    AddressWatcher(const AddressWatcher&) = delete;
    AddressWatcher& operator=(const AddressWatcher&) = delete;
    AddressWatcher(AddressWatcher&&) = delete;
    AddressWatcher& operator=(AddressWatcher&&) = delete;

    // Opens and subscribes the netlink socket. Errors: "address watcher: <step>: <reason>";
    // "already running" when started twice. May be called again after stop().
    [[nodiscard]] Expected<void, std::string> start();
    // Closes the socket and drops pending events. Idempotent.
    void stop() noexcept;
    [[nodiscard]] bool running() const noexcept;

    struct State;  // shared with pending completion handlers, which may outlive this object

private:
    asio::any_io_executor executor_;
    std::function<void()> on_change_;
    std::chrono::milliseconds debounce_;
    std::shared_ptr<State> state_;
};

}  // namespace cyphonic::sys
