#include "cyphonic/sys/socket_buffers.hpp"

#include <sys/socket.h>

#include <gtest/gtest.h>

#include "support/netns.hpp"

#include "cyphonic/sys/unique_fd.hpp"

namespace cyphonic::sys {
namespace {

using SocketBuffersInNetns = cyphonic::testing::FreshNetnsTest;

int option(int fd, int name) {
    int value = 0;
    socklen_t len = sizeof value;
    EXPECT_EQ(::getsockopt(fd, SOL_SOCKET, name, &value, &len), 0);
    return value;
}

TEST_F(SocketBuffersInNetns, SetsBothBuffersPastTheSysctlLimit) {
    const UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    constexpr int kBytes = 8 << 20;  // above the default net.core.rmem_max of a fresh namespace
    const auto set = set_socket_buffers(fd.get(), kBytes);
    ASSERT_TRUE(set.has_value()) << set.error();
    // The kernel reports double the request (it counts its bookkeeping too).
    EXPECT_GE(option(fd.get(), SO_RCVBUF), kBytes);
    EXPECT_GE(option(fd.get(), SO_SNDBUF), kBytes);
}

TEST_F(SocketBuffersInNetns, ErrorsNameTheOption) {
    const auto bad_fd = set_socket_buffers(-1, 1 << 20);
    ASSERT_FALSE(bad_fd.has_value());
    EXPECT_EQ(bad_fd.error(), "setsockopt SO_RCVBUF 1048576 bytes: Bad file descriptor");
    const auto bad_size = set_socket_buffers(0, 0);
    ASSERT_FALSE(bad_size.has_value());
    EXPECT_EQ(bad_size.error(), "socket buffers: 0 bytes is not a size");
}

}  // namespace
}  // namespace cyphonic::sys
