#pragma once

#include <optional>
#include <string_view>

#include "cyphonic/core/expected.hpp"
#include "cyphonic/core/ids.hpp"
#include "cyphonic/crypto/cipher_suite.hpp"
#include "cyphonic/crypto/secret_bytes.hpp"
#include "cyphonic/wire/messages.hpp"

// End Keys out of Tunnel Requests and Responses (PROTOCOL.md §5.3, §6.9, §7.5, D14): plain on a
// direct path, wrapped under the Temp Key on a relayed one. No I/O, no clock.
namespace cyphonic::signaling {

enum class EndKeyError : std::uint8_t {
    BadEndKey,      // a plain End Key that is not 32 bytes
    BadWrappedKey,  // a wrapped End Key that does not open under the Temp Key
    NoTempKey,      // a relayed message, but this end holds no Temp Key
};

[[nodiscard]] std::string_view to_string(EndKeyError e) noexcept;

// The End Key a message carries: `temp` is the path's Temp Key suite (used only when
// `relayed`), `role` the sender's role.
[[nodiscard]] Expected<crypto::Key, EndKeyError> read_end_key(ByteView field, bool relayed,
                                                              crypto::CipherSuite* temp,
                                                              const PathId& path,
                                                              crypto::WrapRole role);

// The key that protects responder → initiator Capsules, as the initiator learns it from a
// Tunnel Response: the responder's End Key K_R when the response carries one, else the
// initiator's own K_I, which then serves both directions (D14). The responder's side flag
// keeps a message of one direction from being accepted in the other (D15).
[[nodiscard]] Expected<crypto::Key, EndKeyError> responder_to_initiator_key(
    const wire::TunnelResponse& response, bool relayed, crypto::CipherSuite* temp,
    const PathId& path, const crypto::Key& initiator_key);

}  // namespace cyphonic::signaling
