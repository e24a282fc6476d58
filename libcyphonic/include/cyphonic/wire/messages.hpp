#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>

#include "cyphonic/core/address.hpp"
#include "cyphonic/core/bytes.hpp"
#include "cyphonic/core/expected.hpp"
#include "cyphonic/core/ids.hpp"
#include "cyphonic/wire/base_header.hpp"
#include "cyphonic/wire/types.hpp"

// Plaintext message bodies of PROTOCOL.md §6 (thesis appendix A). Each body type has
//   decode_<message>(ByteView body) -> Expected<Message, DecodeError>
//   encoded_size(const Message&) -> std::size_t
//   encode(const Message&, MutableByteView out) -> std::size_t bytes written (== encoded_size)
// encode() writes nothing and returns 0 when `out` is smaller than encoded_size() or a variable
// field is longer than its 16-bit length field can say (a caller bug; compare with encoded_size).
// `body` is the plaintext body only (the bytes after the 32-byte Base Header, after opening on
// UDP). Decoders check the fixed part, every length field against the bytes left, and that the
// fields consume the body exactly; then the semantic checks (key lengths, dates, FQDN syntax,
// enumerations). Padding is ignored on receipt and written as zero. Decoders never throw, never
// read out of bounds, and never allocate more than the body size.
namespace cyphonic::wire {

using KeyBytes = std::array<std::byte, kKeySize>;

// Expiry date (D7): a key is valid until 23:59:59 UTC of this day (C4).
struct Date {
    std::uint16_t year = 1970;
    std::uint8_t month = 1;
    std::uint8_t day = 1;

    [[nodiscard]] bool is_valid() const noexcept;  // a real calendar date, year ≥ 1970
    friend bool operator==(const Date&, const Date&) = default;
    friend auto operator<=>(const Date&, const Date&) = default;
};

// ACK, Keep Alive, Hole Punching, General Node Update Notify (§6.1): no body at all.
struct EmptyBody {
    friend bool operator==(const EmptyBody&, const EmptyBody&) = default;
};

// §6.2, TLS only. Fixed 24 bytes.
struct LoginRequest {
    ApplicationId application_id;
    AuthType auth_type = AuthType::Basic;
    ExecMode exec_mode = ExecMode::Node;
    std::string device_id;  // Auth Type 3: "aa:bb:cc:dd:ee:ff", lower case
    std::string password;   // only with Auth Type 1
    Bytes certificate;      // DER, only with Auth Type 2 (may be empty: D20)
    friend bool operator==(const LoginRequest&, const LoginRequest&) = default;
};

// §6.3, TLS only. Fixed 52 bytes.
struct LoginResponse {
    CipherSuiteId cipher = CipherSuiteId::Aes256Gcm;
    Date expiry;
    Ipv4Address virtual_ipv4;
    Ipv6Address virtual_ipv6;
    Ipv4Address nms_ipv4;
    Ipv6Address nms_ipv6;
    KeyBytes common_key{};
    std::string fqdn;
    friend bool operator==(const LoginResponse&, const LoginResponse&) = default;
};

// §6.4. Fixed 24 bytes.
struct RegistrationRequest {
    std::uint16_t application_port = 0;
    NotificationType notification = NotificationType::Udp;
    Ipv4Address node_ipv4;
    Ipv6Address node_ipv6;
    friend bool operator==(const RegistrationRequest&, const RegistrationRequest&) = default;
};

// §6.5. Fixed 4 bytes.
struct RegistrationResponse {
    bool behind_nat = false;
    friend bool operator==(const RegistrationResponse&, const RegistrationResponse&) = default;
};

// §6.6. Fixed 36 bytes.
struct DirectionRequest {
    ApplicationId application_id;
    PathId path_id;
    std::string responder_fqdn;
    Bytes certificate;  // ignored in version 1 (Q3)
    friend bool operator==(const DirectionRequest&, const DirectionRequest&) = default;
};

// §6.7: the body of Route Direction to Responder, Confirmation and to Initiator. Fixed 180.
struct RouteDirection {
    PathId path_id;
    ProcessCode process = ProcessCode::Direct;
    std::uint8_t exec_mode = 0;  // meaning undefined (Q4): kept as received
    std::uint16_t general_node_flags = 0;
    std::uint16_t nat_initiator_port = 0;
    std::uint16_t nat_responder_port = 0;
    Ipv4Address nat_initiator_ipv4;
    Ipv6Address nat_initiator_ipv6;
    Ipv4Address nat_responder_ipv4;
    Ipv6Address nat_responder_ipv6;
    Ipv4Address initiator_real_ipv4;
    Ipv6Address initiator_real_ipv6;
    Ipv4Address responder_real_ipv4;
    Ipv6Address responder_real_ipv6;
    Ipv4Address initiator_virtual_ipv4;
    Ipv6Address initiator_virtual_ipv6;
    Ipv4Address responder_virtual_ipv4;
    Ipv6Address responder_virtual_ipv6;
    Ipv4Address trs_ipv4;
    Ipv6Address trs_ipv6;
    CipherSuiteId cipher = CipherSuiteId::Aes256Gcm;
    KeyBytes tunnel_key{};
    KeyBytes temp_key{};
    Date expiry;
    std::string initiator_fqdn;
    std::string responder_fqdn;
    friend bool operator==(const RouteDirection&, const RouteDirection&) = default;
};

// §6.8: Relay Request and Relay Response (identical bodies). Fixed 20 bytes.
struct Relay {
    PathId path_id;
    CipherSuiteId cipher = CipherSuiteId::Aes256Gcm;
    KeyBytes tunnel_key{};
    friend bool operator==(const Relay&, const Relay&) = default;
};

// §6.9 Tunnel Request. Fixed 4 bytes. End Key is 32 bytes plain, or 80 (0x0001) / 60 (AEAD)
// bytes wrapped under the Temp Key when RELAYED (§5.3); which one is right for a message is
// checked by the receiver, which knows the flags and the suite.
struct TunnelRequest {
    Bytes end_key;
    friend bool operator==(const TunnelRequest&, const TunnelRequest&) = default;
};

// §6.9 Tunnel Response (D14): an empty body, or the Tunnel Request body with the responder's
// End Key.
struct TunnelResponse {
    std::optional<Bytes> end_key;
    friend bool operator==(const TunnelResponse&, const TunnelResponse&) = default;
};

// §6.10. Fixed 4 bytes. `payload` is a view into the decoded buffer, valid while it lives.
struct Capsule {
    ByteView payload;
    friend bool operator==(const Capsule& a, const Capsule& b) noexcept {
        return a.payload.size() == b.payload.size() &&
               std::equal(a.payload.begin(), a.payload.end(), b.payload.begin());
    }
};

// §6.11. Fixed 4 bytes. `code` is kept as received; unknown codes read as Internal through
// error_code().
struct Error {
    std::uint16_t code = static_cast<std::uint16_t>(ErrorCode::Internal);
    std::string reason;
    [[nodiscard]] ErrorCode error_code() const noexcept;
    friend bool operator==(const Error&, const Error&) = default;
};

[[nodiscard]] Expected<EmptyBody, DecodeError> decode_empty_body(ByteView body) noexcept;
[[nodiscard]] Expected<LoginRequest, DecodeError> decode_login_request(ByteView body);
[[nodiscard]] Expected<LoginResponse, DecodeError> decode_login_response(ByteView body);
[[nodiscard]] Expected<RegistrationRequest, DecodeError> decode_registration_request(
    ByteView body) noexcept;
[[nodiscard]] Expected<RegistrationResponse, DecodeError> decode_registration_response(
    ByteView body) noexcept;
[[nodiscard]] Expected<DirectionRequest, DecodeError> decode_direction_request(ByteView body);
[[nodiscard]] Expected<RouteDirection, DecodeError> decode_route_direction(ByteView body);
[[nodiscard]] Expected<Relay, DecodeError> decode_relay(ByteView body) noexcept;
[[nodiscard]] Expected<TunnelRequest, DecodeError> decode_tunnel_request(ByteView body);
[[nodiscard]] Expected<TunnelResponse, DecodeError> decode_tunnel_response(ByteView body);
[[nodiscard]] Expected<Capsule, DecodeError> decode_capsule(ByteView body) noexcept;
[[nodiscard]] Expected<Error, DecodeError> decode_error(ByteView body);

[[nodiscard]] std::size_t encoded_size(const EmptyBody& m) noexcept;
[[nodiscard]] std::size_t encoded_size(const LoginRequest& m) noexcept;
[[nodiscard]] std::size_t encoded_size(const LoginResponse& m) noexcept;
[[nodiscard]] std::size_t encoded_size(const RegistrationRequest& m) noexcept;
[[nodiscard]] std::size_t encoded_size(const RegistrationResponse& m) noexcept;
[[nodiscard]] std::size_t encoded_size(const DirectionRequest& m) noexcept;
[[nodiscard]] std::size_t encoded_size(const RouteDirection& m) noexcept;
[[nodiscard]] std::size_t encoded_size(const Relay& m) noexcept;
[[nodiscard]] std::size_t encoded_size(const TunnelRequest& m) noexcept;
[[nodiscard]] std::size_t encoded_size(const TunnelResponse& m) noexcept;
[[nodiscard]] std::size_t encoded_size(const Capsule& m) noexcept;
[[nodiscard]] std::size_t encoded_size(const Error& m) noexcept;

std::size_t encode(const EmptyBody& m, MutableByteView out) noexcept;
std::size_t encode(const LoginRequest& m, MutableByteView out) noexcept;
std::size_t encode(const LoginResponse& m, MutableByteView out) noexcept;
std::size_t encode(const RegistrationRequest& m, MutableByteView out) noexcept;
std::size_t encode(const RegistrationResponse& m, MutableByteView out) noexcept;
std::size_t encode(const DirectionRequest& m, MutableByteView out) noexcept;
std::size_t encode(const RouteDirection& m, MutableByteView out) noexcept;
std::size_t encode(const Relay& m, MutableByteView out) noexcept;
std::size_t encode(const TunnelRequest& m, MutableByteView out) noexcept;
std::size_t encode(const TunnelResponse& m, MutableByteView out) noexcept;
std::size_t encode(const Capsule& m, MutableByteView out) noexcept;
std::size_t encode(const Error& m, MutableByteView out) noexcept;

// Any body, selected by the header's Type.
using Body = std::variant<EmptyBody, LoginRequest, LoginResponse, RegistrationRequest,
                          RegistrationResponse, DirectionRequest, RouteDirection, Relay,
                          TunnelRequest, TunnelResponse, Capsule, Error>;

[[nodiscard]] Expected<Body, DecodeError> decode_body(MessageType type, ByteView body);
[[nodiscard]] std::size_t encoded_size(const Body& body) noexcept;
std::size_t encode(const Body& body, MutableByteView out) noexcept;
// True when `body` holds the alternative that `type` carries.
[[nodiscard]] bool body_matches(MessageType type, const Body& body) noexcept;

// A message on the AS stream (Login Request/Response, Error): header ‖ body, no trailer (D5).
struct StreamMessage {
    BaseHeader header;
    Body body;
    friend bool operator==(const StreamMessage&, const StreamMessage&) = default;
};
// `bytes` is exactly one message: Message Length must equal its size.
[[nodiscard]] Expected<StreamMessage, DecodeError> decode_stream_message(ByteView bytes);
// Fills in Message Length; returns the encoded bytes, or nothing when the message would not fit
// in 65535 bytes or a body field is too long for its length field.
[[nodiscard]] Bytes encode_stream_message(BaseHeader header, const Body& body);

}  // namespace cyphonic::wire
