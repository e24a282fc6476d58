#pragma once

#include <cstddef>
#include <string>
#include <utility>

#include "cyphonic/core/bytes.hpp"
#include "cyphonic/core/expected.hpp"
#include "cyphonic/sys/unique_fd.hpp"

namespace cyphonic::sys {

// A layer-3 TUN interface (IFF_TUN | IFF_NO_PI): every read() is one whole IPv4 or IPv6 packet
// without any header in front, every write() injects one. The interface is not persistent: when
// the descriptor closes (destructor), the kernel removes it together with its addresses and
// routes. Move-only. Not thread-safe; the node daemon uses it from its I/O thread.
class TunDevice {
public:
    // Opens /dev/net/tun and creates the interface. `name_hint` is the interface name
    // ("cyph0") or a pattern with "%d" ("cyph%d") the kernel completes; at most 15 characters.
    // Errors name the failing step: "TUN cyph0: TUNSETIFF: Device or resource busy".
    [[nodiscard]] static Expected<TunDevice, std::string> open(const std::string& name_hint,
                                                               bool nonblocking = true);

    [[nodiscard]] int fd() const noexcept { return fd_.get(); }
    // The name the kernel gave the interface (the hint with "%d" filled in).
    [[nodiscard]] const std::string& name() const noexcept { return name_; }
    [[nodiscard]] int ifindex() const noexcept { return ifindex_; }

    // Hands the descriptor to another owner (e.g. an asio::posix::stream_descriptor); this
    // object then closes nothing. The interface lives as long as the new owner keeps it open.
    [[nodiscard]] int release() noexcept { return fd_.release(); }

    // One packet into `buffer`; the number of bytes, or errno (EAGAIN when nonblocking and
    // nothing is queued). A packet longer than `buffer` is truncated by the kernel.
    [[nodiscard]] Expected<std::size_t, int> read(MutableByteView buffer) const;
    // One packet to the kernel's IP stack as if it had arrived on the interface; errno on
    // failure (EAGAIN, EINVAL for a packet that is not IPv4/IPv6, EIO if it was cut short).
    [[nodiscard]] Expected<void, int> write(ByteView packet) const;

private:
    TunDevice(UniqueFd fd, std::string name, int ifindex)
        : fd_(std::move(fd)), name_(std::move(name)), ifindex_(ifindex) {}

    UniqueFd fd_;
    std::string name_;
    int ifindex_ = 0;
};

}  // namespace cyphonic::sys
