#include "cyphonic/signaling/end_keys.hpp"

namespace cyphonic::signaling {

std::string_view to_string(EndKeyError e) noexcept {
    switch (e) {
        case EndKeyError::BadEndKey:
            return "bad_end_key";
        case EndKeyError::BadWrappedKey:
            return "bad_wrapped_key";
        case EndKeyError::NoTempKey:
            return "no_temp_key";
    }
    return "bad_end_key";
}

Expected<crypto::Key, EndKeyError> read_end_key(ByteView field, bool relayed,
                                                crypto::CipherSuite* temp, const PathId& path,
                                                crypto::WrapRole role) {
    if (relayed) {
        if (temp == nullptr) {
            return fail(EndKeyError::NoTempKey);
        }
        auto key = temp->unwrap_key(field, path, role);
        if (!key) {
            return fail(EndKeyError::BadWrappedKey);
        }
        return std::move(*key);
    }
    if (field.size() != crypto::Key::kSize) {
        return fail(EndKeyError::BadEndKey);
    }
    return crypto::Key(
        std::span<const std::byte, crypto::Key::kSize>(field.data(), crypto::Key::kSize));
}

Expected<crypto::Key, EndKeyError> responder_to_initiator_key(const wire::TunnelResponse& response,
                                                              bool relayed,
                                                              crypto::CipherSuite* temp,
                                                              const PathId& path,
                                                              const crypto::Key& initiator_key) {
    if (!response.end_key) {
        return initiator_key.clone();
    }
    return read_end_key(*response.end_key, relayed, temp, path, crypto::WrapRole::Responder);
}

}  // namespace cyphonic::signaling
