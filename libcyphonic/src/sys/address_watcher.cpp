#include "cyphonic/sys/address_watcher.hpp"

#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>

#include <fmt/format.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>

#include "libnl_util.hpp"

namespace cyphonic::sys {

namespace {

// A burst that never pauses still reports after this many debounce periods.
constexpr int kMaxDelayInDebounces = 4;
// Room for a burst of events while the I/O thread is busy; overflowing it costs only an
// ENOBUFS, which we treat as a change anyway.
constexpr int kReceiveBufferBytes = 1 << 20;

}  // namespace

// Everything the completion handlers touch. They hold a shared_ptr to it, so it outlives the
// watcher while a handler is still queued, and `running` tells them whether to do anything.
struct AddressWatcher::State {
    State(const asio::any_io_executor& executor, std::function<void()> callback,
          std::chrono::milliseconds delay)
        : descriptor(executor), timer(executor), on_change(std::move(callback)), debounce(delay) {}
    State(const State&) = delete;
    State& operator=(const State&) = delete;
    State(State&&) = delete;
    State& operator=(State&&) = delete;
    ~State() { close(); }

    void close() noexcept {
        running = false;  // what every handler checks first, whatever happens below
        try {
            timer.cancel();
        } catch (const boost::system::system_error&) {
            // Cancelling a timer does not fail in practice; if it did, `running` still keeps the
            // pending wait from calling back.
        }
        boost::system::error_code ignored;
        descriptor.close(ignored);  // our duplicate; the libnl socket closes its own descriptor
        socket.reset();
    }

    asio::posix::stream_descriptor descriptor;
    asio::steady_timer timer;
    std::function<void()> on_change;
    std::chrono::milliseconds debounce;
    detail::NlSocket socket;
    bool running = false;
    bool burst_open = false;  // an event arrived and on_change has not been called for it yet
    std::chrono::steady_clock::time_point burst_start;
    std::uint64_t timer_generation = 0;  // tells a stale timer completion from the current one
};

namespace {

using StatePtr = std::shared_ptr<AddressWatcher::State>;

// Reads and discards every queued event datagram; true if there was at least one. Only the fact
// that something changed matters: the daemon rereads the state it cares about.
bool drain(AddressWatcher::State& state) {
    std::array<std::byte, 16384> buffer{};
    bool changed = false;
    const int fd = state.descriptor.native_handle();
    for (;;) {
        const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
        if (n >= 0) {
            changed = true;
            continue;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == ENOBUFS) {
            changed = true;  // the kernel dropped events for us: something changed, unknown what
            continue;
        }
        return changed;  // EAGAIN: drained (anything else: try again on the next wake-up)
    }
}

void arm_timer(const StatePtr& state);

void on_timer(const StatePtr& state, std::uint64_t generation,
              const boost::system::error_code& ec) {
    if (ec || !state->running || generation != state->timer_generation) {
        return;  // cancelled, stopped, or re-armed since
    }
    state->burst_open = false;
    // A copy: on_change may stop or destroy the watcher, which must not free the function it
    // is running.
    const std::function<void()> callback = state->on_change;
    if (callback) {
        callback();
    }
}

// Starts or extends the debounce for the event that just arrived.
void arm_timer(const StatePtr& state) {
    const auto now = std::chrono::steady_clock::now();
    if (!state->burst_open) {
        state->burst_open = true;
        state->burst_start = now;
    }
    const auto deadline = std::min(now + state->debounce,
                                   state->burst_start + kMaxDelayInDebounces * state->debounce);
    state->timer.expires_at(deadline);  // cancels the previous wait, whose handler then ignores it
    const std::uint64_t generation = ++state->timer_generation;
    state->timer.async_wait([state, generation](const boost::system::error_code& ec) {
        on_timer(state, generation, ec);
    });
}

void arm_read(const StatePtr& state) {
    state->descriptor.async_wait(asio::posix::stream_descriptor::wait_read,
                                 [state](const boost::system::error_code& ec) {
                                     if (ec || !state->running) {
                                         return;  // stopped
                                     }
                                     if (drain(*state)) {
                                         arm_timer(state);
                                     }
                                     arm_read(state);
                                 });
}

}  // namespace

AddressWatcher::AddressWatcher(asio::any_io_executor executor, std::function<void()> on_change,
                               std::chrono::milliseconds debounce)
    : executor_(std::move(executor)), on_change_(std::move(on_change)), debounce_(debounce) {}

AddressWatcher::~AddressWatcher() {
    stop();
}

bool AddressWatcher::running() const noexcept {
    return state_ && state_->running;
}

Expected<void, std::string> AddressWatcher::start() {
    if (running()) {
        return fail(std::string("address watcher: already running"));
    }
    // A fresh state each time: handlers of a previous run may still be queued with the old one.
    auto state = std::make_shared<State>(executor_, on_change_, debounce_);
    state->socket.reset(nl_socket_alloc());
    if (!state->socket) {
        return fail(std::string("address watcher: cannot allocate a netlink socket"));
    }
    nl_sock* socket = state->socket.get();
    if (const int err = nl_connect(socket, NETLINK_ROUTE); err < 0) {
        return fail(fmt::format("address watcher: connect: {}", nl_geterror(err)));
    }
    // Interfaces coming and going or changing state, addresses added, removed or changing
    // flags (an IPv6 address finishing DAD), and routes (a new default route after a handover).
    for (const int group : {RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR,
                            RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE}) {
        if (const int err = nl_socket_add_membership(socket, group); err < 0) {
            return fail(fmt::format("address watcher: join group {}: {}", group, nl_geterror(err)));
        }
    }
    if (const int err = nl_socket_set_buffer_size(socket, kReceiveBufferBytes, 0); err < 0) {
        return fail(fmt::format("address watcher: receive buffer: {}", nl_geterror(err)));
    }
    if (const int err = nl_socket_set_nonblocking(socket); err < 0) {
        return fail(fmt::format("address watcher: nonblocking: {}", nl_geterror(err)));
    }
    // Asio gets a duplicate of the descriptor, so that each owner closes its own; both refer to
    // the same socket and its queue.
    const int fd = ::fcntl(nl_socket_get_fd(socket), F_DUPFD_CLOEXEC, 0);
    if (fd < 0) {
        return fail(fmt::format("address watcher: dup: {}", detail::errno_text(errno)));
    }
    boost::system::error_code ec;
    state->descriptor.assign(fd, ec);
    if (ec) {
        ::close(fd);
        return fail(fmt::format("address watcher: register with the event loop: {}", ec.message()));
    }
    state->running = true;
    arm_read(state);
    state_ = std::move(state);
    return {};
}

void AddressWatcher::stop() noexcept {
    if (state_) {
        state_->close();
        state_.reset();
    }
}

}  // namespace cyphonic::sys
