#pragma once

// Tests that change the network (TUN devices, addresses, routes) run in a network namespace of
// their own, so they never touch the host's interfaces. Header-only; needs root
// (CAP_SYS_ADMIN for unshare, CAP_NET_ADMIN inside), as CI has.

#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

#include <gtest/gtest.h>

namespace cyphonic::testing {

// Moves the calling thread into a new, empty network namespace and brings its loopback up.
// Returns an empty string on success, otherwise what went wrong. The previous namespace of a
// test is freed by the kernel once nothing uses it, so calling this per test is enough: each
// test starts from nothing, whether ctest runs it alone or the binary runs them all.
[[nodiscard]] inline std::string enter_fresh_netns() {
    if (::geteuid() != 0) {
        return "this test needs root: it creates a network namespace (unshare CLONE_NEWNET), "
               "TUN devices and routes; run it as root, as CI does";
    }
    if (::unshare(CLONE_NEWNET) != 0) {
        return "unshare(CLONE_NEWNET): " + std::generic_category().message(errno);
    }
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return "socket: " + std::generic_category().message(errno);
    }
    ifreq request{};
    std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
    std::string error;
    if (::ioctl(fd, SIOCGIFFLAGS, &request) != 0) {
        error = "SIOCGIFFLAGS lo: " + std::generic_category().message(errno);
    } else {
        request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP);
        if (::ioctl(fd, SIOCSIFFLAGS, &request) != 0) {
            error = "SIOCSIFFLAGS lo up: " + std::generic_category().message(errno);
        }
    }
    ::close(fd);
    return error;
}

// A fixture whose every test body runs in a fresh network namespace (see above).
class FreshNetnsTest : public ::testing::Test {
protected:
    void SetUp() override {
        const std::string error = enter_fresh_netns();
        ASSERT_TRUE(error.empty()) << error;
    }
};

}  // namespace cyphonic::testing
