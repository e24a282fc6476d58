#pragma once

#include <string>

#include "cyphonic/core/expected.hpp"

namespace cyphonic::sys {

// Sets the receive and send buffer of socket `fd` to `bytes` each. Tries SO_RCVBUFFORCE /
// SO_SNDBUFFORCE first (needs CAP_NET_ADMIN; not capped by net.core.rmem_max/wmem_max), then
// the plain options, which the kernel silently caps at those limits. Errors name the option.
[[nodiscard]] Expected<void, std::string> set_socket_buffers(int fd, int bytes);

}  // namespace cyphonic::sys
