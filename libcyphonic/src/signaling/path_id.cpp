#include "cyphonic/signaling/path_id.hpp"

#include "cyphonic/crypto/hash.hpp"

namespace cyphonic::signaling {

PathId make_path_id(const Fqdn& initiator, const Fqdn& responder) {
    static constexpr std::byte kSeparator{0x00};
    const auto digest = crypto::sha256(
        {as_bytes(initiator.str()), ByteView(&kSeparator, 1), as_bytes(responder.str())});
    return PathId::from_span(std::span(digest).first<PathId::kSize>());
}

}  // namespace cyphonic::signaling
