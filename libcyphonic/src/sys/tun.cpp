#include "cyphonic/sys/tun.hpp"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include <fmt/format.h>

namespace cyphonic::sys {
namespace {

std::string tun_error(const std::string& name, const char* step, int error) {
    return fmt::format("TUN {}: {}: {}", name, step, std::generic_category().message(error));
}

}  // namespace

Expected<TunDevice, std::string> TunDevice::open(const std::string& name_hint, bool nonblocking) {
    if (name_hint.empty() || name_hint.size() >= IFNAMSIZ) {
        return fail(fmt::format("TUN '{}': the interface name must have 1 to {} characters",
                                name_hint, IFNAMSIZ - 1));
    }
    const int flags = O_RDWR | O_CLOEXEC | (nonblocking ? O_NONBLOCK : 0);
    UniqueFd fd(::open("/dev/net/tun", flags));
    if (!fd.valid()) {
        return fail(tun_error(name_hint, "open /dev/net/tun", errno));
    }

    ifreq request{};
    // Layer 3 without the 4-byte packet information header: what the daemon reads is exactly
    // the IP packet it seals into a Capsule Message (ARCHITECTURE.md data path).
    request.ifr_flags = IFF_TUN | IFF_NO_PI;
    std::memcpy(request.ifr_name, name_hint.data(), name_hint.size());
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg): ioctl is the only interface
    if (::ioctl(fd.get(), TUNSETIFF, &request) != 0) {
        return fail(tun_error(name_hint, "TUNSETIFF", errno));
    }
    std::string name(request.ifr_name, strnlen(request.ifr_name, IFNAMSIZ));

    // The kernel knows the index by now; asking by name is safe because the name is ours until
    // the descriptor closes.
    const unsigned ifindex = if_nametoindex(name.c_str());
    if (ifindex == 0) {
        return fail(tun_error(name, "if_nametoindex", errno));
    }
    return TunDevice(std::move(fd), std::move(name), static_cast<int>(ifindex));
}

Expected<std::size_t, int> TunDevice::read(MutableByteView buffer) const {
    for (;;) {
        const ssize_t n = ::read(fd_.get(), buffer.data(), buffer.size());
        if (n >= 0) {
            return static_cast<std::size_t>(n);
        }
        if (errno != EINTR) {
            return fail(errno);
        }
    }
}

Expected<void, int> TunDevice::write(ByteView packet) const {
    for (;;) {
        const ssize_t n = ::write(fd_.get(), packet.data(), packet.size());
        if (n >= 0) {
            // A TUN write takes the whole packet or fails; a short count would be a kernel
            // surprise, and the peer would see a broken packet.
            if (static_cast<std::size_t>(n) != packet.size()) {
                return fail(EIO);
            }
            return {};
        }
        if (errno != EINTR) {
            return fail(errno);
        }
    }
}

}  // namespace cyphonic::sys
