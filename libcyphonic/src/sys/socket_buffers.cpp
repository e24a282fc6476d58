#include "cyphonic/sys/socket_buffers.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <system_error>

#include <fmt/format.h>

namespace cyphonic::sys {
namespace {

// The privileged option first (not capped by the sysctl limit), then the plain one.
Expected<void, std::string> set_buffer(int fd, int forced, int plain, const char* name, int bytes) {
    if (::setsockopt(fd, SOL_SOCKET, forced, &bytes, sizeof bytes) == 0) {
        return {};
    }
    if (::setsockopt(fd, SOL_SOCKET, plain, &bytes, sizeof bytes) == 0) {
        return {};
    }
    return fail(fmt::format("setsockopt {} {} bytes: {}", name, bytes,
                            std::generic_category().message(errno)));
}

}  // namespace

Expected<void, std::string> set_socket_buffers(int fd, int bytes) {
    if (bytes <= 0) {
        return fail(fmt::format("socket buffers: {} bytes is not a size", bytes));
    }
    auto receive = set_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF, "SO_RCVBUF", bytes);
    if (!receive) {
        return receive;
    }
    return set_buffer(fd, SO_SNDBUFFORCE, SO_SNDBUF, "SO_SNDBUF", bytes);
}

}  // namespace cyphonic::sys
