#pragma once

#include "cyphonic/core/fqdn.hpp"
#include "cyphonic/core/ids.hpp"

namespace cyphonic::signaling {

// PathID of a route (PROTOCOL.md C1): the first 16 bytes of
// SHA-256(initiator FQDN ‖ 0x00 ‖ responder FQDN). The same pair always gets the same PathID.
[[nodiscard]] PathId make_path_id(const Fqdn& initiator, const Fqdn& responder);

}  // namespace cyphonic::signaling
