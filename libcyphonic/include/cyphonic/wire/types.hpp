#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace cyphonic::wire {

inline constexpr std::uint8_t kProtocolVersion = 1;
inline constexpr std::size_t kBaseHeaderSize = 32;
inline constexpr std::size_t kTrailerSize = 16;
// D20: the smallest message on UDP is a header and a trailer; on the AS stream a bare header.
inline constexpr std::size_t kMinUdpMessageLength = kBaseHeaderSize + kTrailerSize;
inline constexpr std::size_t kMinStreamMessageLength = kBaseHeaderSize;
inline constexpr std::size_t kMaxMessageLength = 0xFFFF;
inline constexpr std::size_t kKeySize = 32;

// PROTOCOL.md §4.1 / D2.
enum class MessageType : std::uint8_t {
    Ack = 0x01,
    LoginRequest = 0x02,
    LoginResponse = 0x03,
    RegistrationRequest = 0x04,
    RegistrationResponse = 0x05,
    KeepAlive = 0x06,
    DirectionRequest = 0x07,
    RouteDirectionToResponder = 0x08,
    RouteDirectionConfirmation = 0x09,
    RouteDirectionToInitiator = 0x0A,
    RelayRequest = 0x0B,
    RelayResponse = 0x0C,
    HolePunching = 0x0D,
    TunnelRequest = 0x0E,
    TunnelResponse = 0x0F,
    Capsule = 0x10,
    GeneralNodeUpdateNotify = 0x11,
    Error = 0x12,
};
inline constexpr std::uint8_t kFirstMessageType = 0x01;
inline constexpr std::uint8_t kLastMessageType = 0x12;

[[nodiscard]] constexpr bool is_known_message_type(std::uint8_t v) noexcept {
    return v >= kFirstMessageType && v <= kLastMessageType;
}
// Login Request/Response exist only on the AS TLS stream; Error on both; the rest only on UDP.
[[nodiscard]] constexpr bool allowed_on_udp(MessageType t) noexcept {
    return t != MessageType::LoginRequest && t != MessageType::LoginResponse;
}
[[nodiscard]] constexpr bool allowed_on_stream(MessageType t) noexcept {
    return t == MessageType::LoginRequest || t == MessageType::LoginResponse ||
           t == MessageType::Error;
}
[[nodiscard]] std::string_view to_string(MessageType t) noexcept;

// PROTOCOL.md §4.3 / D3. Bits 5–7 are reserved: zero on send, ignored on receive.
namespace flag {
inline constexpr std::uint8_t kSuccess = 0x01;
inline constexpr std::uint8_t kFirstRegistration = 0x02;
inline constexpr std::uint8_t kRelayed = 0x04;
inline constexpr std::uint8_t kResponse = 0x08;
inline constexpr std::uint8_t kSenderSide = 0x10;
inline constexpr std::uint8_t kDefined = 0x1F;
}  // namespace flag

// PROTOCOL.md §5.1 / D4.
enum class CipherSuiteId : std::uint16_t {
    AesCbcHmacMd5 = 0x0001,
    Aes256Gcm = 0x0002,
    ChaCha20Poly1305 = 0x0003,
};
[[nodiscard]] constexpr bool is_known_cipher_suite(std::uint16_t v) noexcept {
    return v >= 0x0001 && v <= 0x0003;
}
[[nodiscard]] std::string_view to_string(CipherSuiteId s) noexcept;
// A suite by name ("aes-256-gcm"), decimal or 0x-hex number; nullopt for anything else.
[[nodiscard]] std::optional<CipherSuiteId> parse_cipher_suite(std::string_view text) noexcept;

// Login Request Auth Type (D6).
enum class AuthType : std::uint8_t { Basic = 1, Certificate = 2, MacAddress = 3 };
// Login Request Exec Mode (C13).
enum class ExecMode : std::uint8_t { Node = 1, Adapter = 2, GeneralNode = 3 };
// Registration Request Notification Type (C13).
enum class NotificationType : std::uint16_t { Udp = 0, Apns = 1, Fcm = 2 };
// Route Direction Process Code (C13).
enum class ProcessCode : std::uint8_t { Direct = 1, SharedNat = 2, Relayed = 3 };
// Route Direction General Node Flag bits (C13).
namespace general_node_flag {
inline constexpr std::uint16_t kInitiator = 0x0001;
inline constexpr std::uint16_t kResponder = 0x0002;
inline constexpr std::uint16_t kDefined = 0x0003;
}  // namespace general_node_flag

// Error codes (§7.11, C13). Unknown codes are kept as received and treated as Internal.
enum class ErrorCode : std::uint16_t {
    BadRequest = 0x0001,
    AuthFailed = 0x0002,
    Unsupported = 0x0003,
    KeyExpired = 0x0004,
    UnknownPeer = 0x0005,
    PeerUnreachable = 0x0006,
    RelayUnavailable = 0x0007,
    UnknownPath = 0x0008,
    RateLimited = 0x0009,
    Internal = 0x000A,
};
[[nodiscard]] std::string_view to_string(ErrorCode c) noexcept;

// Why a decoder rejected its input: one enumerator per rejection reason, each counted by the
// receiver (STYLE.md §3). Keep `CYPHONIC_DECODE_ERRORS` the single list.
#define CYPHONIC_DECODE_ERRORS(X)                                                          \
    X(Truncated)           /* fewer bytes than the fixed part or a length field needs */   \
    X(LengthMismatch)      /* Message Length below the minimum or beyond the input */      \
    X(UnknownVersion)      /* Version other than 1 */                                      \
    X(UnknownType)         /* Type not in §4.1 */                                         \
    X(WrongTransport)      /* a type that never travels on this transport */               \
    X(UnknownNextOpt)      /* Next Opt other than 0 (D10) */                               \
    X(BadCount)            /* Count on a following header, or messages that do not fill */ \
    X(TrailingBytes)       /* bytes left after the last field or message */                \
    X(BadBodyLength)       /* body-as-sent of a size the cipher suite cannot produce */    \
    X(UnknownCipher)       /* Cipher Type not in §5.1 */                                  \
    X(BadKeyLength)        /* a key length field other than the suite's */                 \
    X(BadDate)             /* Year/Month/Day not a calendar date */                        \
    X(BadFqdn)             /* an FQDN field failing §0 */                                 \
    X(BadAuthType)         /* Auth Type not 1–3, or fields not matching it */            \
    X(BadExecMode)         /* Exec Mode not 1–3 */                                       \
    X(BadDeviceId)         /* DeviceID empty, or not a MAC for Auth Type 3 */              \
    X(BadNotificationType) /* Notification Type not 0–2 */                               \
    X(BadNatFlag)          /* NAT Flag not 0/1 */                                          \
    X(BadProcessCode)      /* Process Code not 1–3 */                                    \
    X(BadGeneralNodeFlag)  /* undefined General Node Flag bits */                          \
    X(BadPayloadLength)    /* Capsule Payload Length 0 */

enum class DecodeError : std::uint8_t {
#define CYPHONIC_ENUMERATOR(name) name,
    CYPHONIC_DECODE_ERRORS(CYPHONIC_ENUMERATOR)
#undef CYPHONIC_ENUMERATOR
};
inline constexpr std::size_t kDecodeErrorCount = 0
#define CYPHONIC_COUNT(name) +1  // NOLINT(bugprone-macro-parentheses)
    CYPHONIC_DECODE_ERRORS(CYPHONIC_COUNT)
#undef CYPHONIC_COUNT
    ;
[[nodiscard]] std::string_view to_string(DecodeError e) noexcept;

}  // namespace cyphonic::wire
