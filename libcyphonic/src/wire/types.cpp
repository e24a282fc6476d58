#include "cyphonic/wire/types.hpp"

#include <array>
#include <charconv>
#include <string>

#include "cyphonic/core/text.hpp"

namespace cyphonic::wire {

std::string_view to_string(MessageType t) noexcept {
    switch (t) {
        case MessageType::Ack:
            return "ack";
        case MessageType::LoginRequest:
            return "login_request";
        case MessageType::LoginResponse:
            return "login_response";
        case MessageType::RegistrationRequest:
            return "registration_request";
        case MessageType::RegistrationResponse:
            return "registration_response";
        case MessageType::KeepAlive:
            return "keep_alive";
        case MessageType::DirectionRequest:
            return "direction_request";
        case MessageType::RouteDirectionToResponder:
            return "route_direction_to_responder";
        case MessageType::RouteDirectionConfirmation:
            return "route_direction_confirmation";
        case MessageType::RouteDirectionToInitiator:
            return "route_direction_to_initiator";
        case MessageType::RelayRequest:
            return "relay_request";
        case MessageType::RelayResponse:
            return "relay_response";
        case MessageType::HolePunching:
            return "hole_punching";
        case MessageType::TunnelRequest:
            return "tunnel_request";
        case MessageType::TunnelResponse:
            return "tunnel_response";
        case MessageType::Capsule:
            return "capsule";
        case MessageType::GeneralNodeUpdateNotify:
            return "general_node_update_notify";
        case MessageType::Error:
            return "error";
    }
    return "unknown";
}

std::string_view to_string(CipherSuiteId s) noexcept {
    switch (s) {
        case CipherSuiteId::AesCbcHmacMd5:
            return "aes-256-cbc-hmac-md5";
        case CipherSuiteId::Aes256Gcm:
            return "aes-256-gcm";
        case CipherSuiteId::ChaCha20Poly1305:
            return "chacha20-poly1305";
    }
    return "unknown";
}

std::optional<CipherSuiteId> parse_cipher_suite(std::string_view text) noexcept {
    for (const auto id : {CipherSuiteId::AesCbcHmacMd5, CipherSuiteId::Aes256Gcm,
                          CipherSuiteId::ChaCha20Poly1305}) {
        if (text == to_string(id)) {
            return id;
        }
    }
    int base = 10;
    if (text.starts_with("0x") || text.starts_with("0X")) {
        text.remove_prefix(2);
        base = 16;
    }
    std::uint16_t v = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v, base);
    if (text.empty() || ec != std::errc{} || ptr != text.data() + text.size() ||
        !is_known_cipher_suite(v)) {
        return std::nullopt;
    }
    return static_cast<CipherSuiteId>(v);
}

std::string_view to_string(ErrorCode c) noexcept {
    switch (c) {
        case ErrorCode::BadRequest:
            return "bad_request";
        case ErrorCode::AuthFailed:
            return "auth_failed";
        case ErrorCode::Unsupported:
            return "unsupported";
        case ErrorCode::KeyExpired:
            return "key_expired";
        case ErrorCode::UnknownPeer:
            return "unknown_peer";
        case ErrorCode::PeerUnreachable:
            return "peer_unreachable";
        case ErrorCode::RelayUnavailable:
            return "relay_unavailable";
        case ErrorCode::UnknownPath:
            return "unknown_path";
        case ErrorCode::RateLimited:
            return "rate_limited";
        case ErrorCode::Internal:
            return "internal";
    }
    return "internal";
}

std::string_view to_string(DecodeError e) noexcept {
    // snake_case labels ("length_mismatch"), made once from the enumerator names.
    static const auto kNames = [] {
        std::array<std::string, kDecodeErrorCount> names;
        std::size_t i = 0;
#define CYPHONIC_NAME(name) names[i++] = snake_case(#name);
        CYPHONIC_DECODE_ERRORS(CYPHONIC_NAME)
#undef CYPHONIC_NAME
        return names;
    }();
    const auto i = static_cast<std::size_t>(e);
    return i < kNames.size() ? std::string_view(kNames[i]) : std::string_view("unknown");
}

}  // namespace cyphonic::wire
