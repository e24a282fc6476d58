#include "cyphonic/wire/messages.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <string_view>
#include <utility>
#include <variant>

#include "cyphonic/core/fqdn.hpp"

// Body codecs of PROTOCOL.md §6. Offsets in this file are written as in the tables of §6, which
// count from the first byte of the Base Header: `at(34)` is the body offset of table offset 34.
// Every decoder first checks the structure (fixed part present → Truncated; each length field
// against the bytes left → Truncated; nothing left over → TrailingBytes), then the values
// (§5.5 step 4), so a length field that is off by one always gives a structural error.
namespace cyphonic::wire {

namespace {

constexpr std::size_t at(std::size_t protocol_offset) noexcept {
    return protocol_offset - kBaseHeaderSize;
}

constexpr std::size_t kMaxField = std::numeric_limits<std::uint16_t>::max();

template <std::size_t N>
using Fixed = std::span<const std::byte, N>;
template <std::size_t N>
using MutableFixed = std::span<std::byte, N>;

template <std::size_t Offset, std::size_t N>
Ipv4Address load_ipv4(Fixed<N> raw) noexcept {
    static_assert(Offset + 4 <= N);
    Ipv4Address a;
    std::memcpy(a.bytes.data(), raw.data() + Offset, a.bytes.size());
    return a;
}
template <std::size_t Offset, std::size_t N>
Ipv6Address load_ipv6(Fixed<N> raw) noexcept {
    static_assert(Offset + 16 <= N);
    Ipv6Address a;
    std::memcpy(a.bytes.data(), raw.data() + Offset, a.bytes.size());
    return a;
}
template <class Id, std::size_t Offset, std::size_t N>
Id load_id(Fixed<N> raw) noexcept {
    static_assert(Offset + Id::kSize <= N);
    return Id::from_span(raw.template subspan<Offset, Id::kSize>());
}
template <std::size_t Offset, std::size_t N, std::size_t M>
void store_array(MutableFixed<N> raw, const std::array<std::byte, M>& v) noexcept {
    static_assert(Offset + M <= N);
    std::memcpy(raw.data() + Offset, v.data(), M);
}

[[nodiscard]] std::string to_text(ByteView v) {
    return {reinterpret_cast<const char*>(v.data()), v.size()};
}
[[nodiscard]] Bytes to_owned(ByteView v) {
    return {v.begin(), v.end()};
}
[[nodiscard]] KeyBytes to_key(ByteView v) noexcept {
    KeyBytes k{};
    std::memcpy(k.data(), v.data(), std::min(v.size(), k.size()));
    return k;
}

[[nodiscard]] bool valid_fqdn(std::string_view s) noexcept {
    return Fqdn::validate(s).has_value();
}

// Auth Type 3 DeviceID: "aa:bb:cc:dd:ee:ff", lower-case hex (D6, §6.2).
[[nodiscard]] bool is_lower_mac(std::string_view s) noexcept {
    static constexpr std::size_t kMacText = 17;
    if (s.size() != kMacText) {
        return false;
    }
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (i % 3 == 2) {
            if (c != ':') {
                return false;
            }
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

[[nodiscard]] std::uint16_t u16(std::size_t n) noexcept {
    return static_cast<std::uint16_t>(n);
}

// Every variable field must fit its u16 length field, and `out` must hold the whole body;
// otherwise encode() writes nothing and returns 0.
[[nodiscard]] bool encodable(std::size_t size, MutableByteView out,
                             std::initializer_list<std::size_t> field_sizes) noexcept {
    for (const std::size_t n : field_sizes) {
        if (n > kMaxField) {
            return false;
        }
    }
    return out.size() >= size;
}

// Writes the variable fields after the fixed part; returns the total written.
template <std::size_t FixedSize>
std::size_t write_tail(MutableByteView out, std::initializer_list<ByteView> fields) noexcept {
    ByteWriter w(out.subspan(FixedSize));
    for (const ByteView f : fields) {
        w.bytes(f);
    }
    return FixedSize + w.position();
}

constexpr std::size_t kLoginRequestFixed = 24;
constexpr std::size_t kLoginResponseFixed = 52;
constexpr std::size_t kRegistrationRequestFixed = 24;
constexpr std::size_t kRegistrationResponseFixed = 4;
constexpr std::size_t kDirectionRequestFixed = 36;
constexpr std::size_t kRouteDirectionFixed = 180;
constexpr std::size_t kRelayFixed = 20;
constexpr std::size_t kTunnelFixed = 4;
constexpr std::size_t kCapsuleFixed = 4;
constexpr std::size_t kErrorFixed = 4;

// End Key sizes (§5.3, §6.9): plain, wrapped under an AEAD suite, wrapped under 0x0001.
[[nodiscard]] constexpr bool is_end_key_length(std::size_t n) noexcept {
    return n == kKeySize || n == 60 || n == 80;
}

// Tunnel Request body, shared by the Tunnel Response that carries a key (§6.9).
Expected<Bytes, DecodeError> decode_end_key(ByteView body) {
    if (body.size() < kTunnelFixed) {
        return fail(DecodeError::Truncated);
    }
    const auto raw = body.first<kTunnelFixed>();
    const std::uint16_t key_length = load_be16<at(32)>(raw);
    // 34: Padding, ignored.
    ByteReader f(body.subspan(kTunnelFixed));
    const auto key = f.take(key_length);
    if (!key) {
        return fail(DecodeError::Truncated);
    }
    if (f.remaining() != 0) {
        return fail(DecodeError::TrailingBytes);
    }
    if (!is_end_key_length(key_length)) {
        return fail(DecodeError::BadKeyLength);
    }
    return to_owned(*key);
}

std::size_t encode_end_key(const Bytes& key, MutableByteView out) noexcept {
    const std::size_t size = kTunnelFixed + key.size();
    if (!encodable(size, out, {key.size()})) {
        return 0;
    }
    const auto raw = out.first<kTunnelFixed>();
    store_be16<at(32)>(raw, u16(key.size()));
    store_be16<at(34)>(raw, 0);
    return write_tail<kTunnelFixed>(out, {key});
}

}  // namespace

bool Date::is_valid() const noexcept {
    static constexpr std::uint16_t kEpochYear = 1970;
    if (year < kEpochYear || month < 1 || month > 12 || day < 1) {
        return false;
    }
    static constexpr std::array<std::uint8_t, 12> kDays{31, 28, 31, 30, 31, 30,
                                                        31, 31, 30, 31, 30, 31};
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    const unsigned last = kDays[month - 1U] + ((month == 2 && leap) ? 1U : 0U);
    return day <= last;
}

ErrorCode Error::error_code() const noexcept {
    if (code >= static_cast<std::uint16_t>(ErrorCode::BadRequest) &&
        code <= static_cast<std::uint16_t>(ErrorCode::Internal)) {
        return static_cast<ErrorCode>(code);
    }
    return ErrorCode::Internal;  // §7.11: unknown codes are treated as INTERNAL
}

// ---- §6.1 Empty bodies ------------------------------------------------------------------

Expected<EmptyBody, DecodeError> decode_empty_body(ByteView body) noexcept {
    if (!body.empty()) {
        return fail(DecodeError::TrailingBytes);
    }
    return EmptyBody{};
}

std::size_t encoded_size(const EmptyBody& /*m*/) noexcept {
    return 0;
}

std::size_t encode(const EmptyBody& /*m*/, MutableByteView /*out*/) noexcept {
    return 0;
}

// ---- §6.2 Login Request -----------------------------------------------------------------
//  32       48     49     50        52       54         56
//  | app id | auth | exec | dev len | pw len | cert len |
//  56: DeviceID | Password | Certificate

Expected<LoginRequest, DecodeError> decode_login_request(ByteView body) {
    if (body.size() < kLoginRequestFixed) {
        return fail(DecodeError::Truncated);
    }
    const auto raw = body.first<kLoginRequestFixed>();
    const std::uint8_t auth = load_u8<at(48)>(raw);
    const std::uint8_t exec = load_u8<at(49)>(raw);
    ByteReader f(body.subspan(kLoginRequestFixed));
    const auto device_id = f.take(load_be16<at(50)>(raw));
    const auto password = device_id ? f.take(load_be16<at(52)>(raw)) : std::nullopt;
    const auto certificate = password ? f.take(load_be16<at(54)>(raw)) : std::nullopt;
    if (!certificate) {
        return fail(DecodeError::Truncated);
    }
    if (f.remaining() != 0) {
        return fail(DecodeError::TrailingBytes);
    }

    if (auth < 1 || auth > 3) {
        return fail(DecodeError::BadAuthType);
    }
    if (exec < 1 || exec > 3) {
        return fail(DecodeError::BadExecMode);
    }
    const auto auth_type = static_cast<AuthType>(auth);
    const std::string_view device_text(reinterpret_cast<const char*>(device_id->data()),
                                       device_id->size());
    if (device_text.empty()) {
        return fail(DecodeError::BadDeviceId);
    }
    if (auth_type == AuthType::MacAddress && !is_lower_mac(device_text)) {
        return fail(DecodeError::BadDeviceId);
    }
    if ((!password->empty() && auth_type != AuthType::Basic) ||
        (!certificate->empty() && auth_type != AuthType::Certificate)) {
        return fail(DecodeError::BadAuthType);
    }

    LoginRequest m;
    m.application_id = load_id<ApplicationId, at(32)>(raw);
    m.auth_type = auth_type;
    m.exec_mode = static_cast<ExecMode>(exec);
    m.device_id = std::string(device_text);
    m.password = to_text(*password);
    m.certificate = to_owned(*certificate);
    return m;
}

std::size_t encoded_size(const LoginRequest& m) noexcept {
    return kLoginRequestFixed + m.device_id.size() + m.password.size() + m.certificate.size();
}

std::size_t encode(const LoginRequest& m, MutableByteView out) noexcept {
    const std::size_t size = encoded_size(m);
    if (!encodable(size, out, {m.device_id.size(), m.password.size(), m.certificate.size()})) {
        return 0;
    }
    const auto raw = out.first<kLoginRequestFixed>();
    store_array<at(32)>(raw, m.application_id.raw());
    store_u8<at(48)>(raw, static_cast<std::uint8_t>(m.auth_type));
    store_u8<at(49)>(raw, static_cast<std::uint8_t>(m.exec_mode));
    store_be16<at(50)>(raw, u16(m.device_id.size()));
    store_be16<at(52)>(raw, u16(m.password.size()));
    store_be16<at(54)>(raw, u16(m.certificate.size()));
    return write_tail<kLoginRequestFixed>(
        out, {as_bytes(m.device_id), as_bytes(m.password), m.certificate});
}

// ---- §6.3 Login Response ----------------------------------------------------------------
//  32       34        36     38      39    40         42    44   48   64       68       84
//  | cipher | key len | year | month | day | fqdn len | pad | v4 | v6 | nms v4 | nms v6 |
//  84: Common Key | FQDN

Expected<LoginResponse, DecodeError> decode_login_response(ByteView body) {
    if (body.size() < kLoginResponseFixed) {
        return fail(DecodeError::Truncated);
    }
    const auto raw = body.first<kLoginResponseFixed>();
    const std::uint16_t cipher = load_be16<at(32)>(raw);
    const std::uint16_t key_length = load_be16<at(34)>(raw);
    const Date expiry{load_be16<at(36)>(raw), load_u8<at(38)>(raw), load_u8<at(39)>(raw)};
    // 42: Padding, ignored.
    ByteReader f(body.subspan(kLoginResponseFixed));
    const auto key = f.take(key_length);
    const auto fqdn = key ? f.take(load_be16<at(40)>(raw)) : std::nullopt;
    if (!fqdn) {
        return fail(DecodeError::Truncated);
    }
    if (f.remaining() != 0) {
        return fail(DecodeError::TrailingBytes);
    }

    if (!is_known_cipher_suite(cipher)) {
        return fail(DecodeError::UnknownCipher);
    }
    if (key_length != kKeySize) {
        return fail(DecodeError::BadKeyLength);
    }
    if (!expiry.is_valid()) {
        return fail(DecodeError::BadDate);
    }
    std::string name = to_text(*fqdn);
    if (!valid_fqdn(name)) {
        return fail(DecodeError::BadFqdn);
    }

    LoginResponse m;
    m.cipher = static_cast<CipherSuiteId>(cipher);
    m.expiry = expiry;
    m.virtual_ipv4 = load_ipv4<at(44)>(raw);
    m.virtual_ipv6 = load_ipv6<at(48)>(raw);
    m.nms_ipv4 = load_ipv4<at(64)>(raw);
    m.nms_ipv6 = load_ipv6<at(68)>(raw);
    m.common_key = to_key(*key);
    m.fqdn = std::move(name);
    return m;
}

std::size_t encoded_size(const LoginResponse& m) noexcept {
    return kLoginResponseFixed + m.common_key.size() + m.fqdn.size();
}

std::size_t encode(const LoginResponse& m, MutableByteView out) noexcept {
    const std::size_t size = encoded_size(m);
    if (!encodable(size, out, {m.fqdn.size()})) {
        return 0;
    }
    const auto raw = out.first<kLoginResponseFixed>();
    store_be16<at(32)>(raw, static_cast<std::uint16_t>(m.cipher));
    store_be16<at(34)>(raw, u16(m.common_key.size()));
    store_be16<at(36)>(raw, m.expiry.year);
    store_u8<at(38)>(raw, m.expiry.month);
    store_u8<at(39)>(raw, m.expiry.day);
    store_be16<at(40)>(raw, u16(m.fqdn.size()));
    store_be16<at(42)>(raw, 0);
    store_array<at(44)>(raw, m.virtual_ipv4.bytes);
    store_array<at(48)>(raw, m.virtual_ipv6.bytes);
    store_array<at(64)>(raw, m.nms_ipv4.bytes);
    store_array<at(68)>(raw, m.nms_ipv6.bytes);
    return write_tail<kLoginResponseFixed>(out, {m.common_key, as_bytes(m.fqdn)});
}

// ---- §6.4 Registration Request ----------------------------------------------------------
//  32         34             36        40        56
//  | app port | notification | node v4 | node v6 |

Expected<RegistrationRequest, DecodeError> decode_registration_request(ByteView body) noexcept {
    if (body.size() < kRegistrationRequestFixed) {
        return fail(DecodeError::Truncated);
    }
    if (body.size() > kRegistrationRequestFixed) {
        return fail(DecodeError::TrailingBytes);
    }
    const auto raw = body.first<kRegistrationRequestFixed>();
    const std::uint16_t notification = load_be16<at(34)>(raw);
    if (notification > static_cast<std::uint16_t>(NotificationType::Fcm)) {
        return fail(DecodeError::BadNotificationType);
    }
    RegistrationRequest m;
    m.application_port = load_be16<at(32)>(raw);
    m.notification = static_cast<NotificationType>(notification);
    m.node_ipv4 = load_ipv4<at(36)>(raw);
    m.node_ipv6 = load_ipv6<at(40)>(raw);
    return m;
}

std::size_t encoded_size(const RegistrationRequest& /*m*/) noexcept {
    return kRegistrationRequestFixed;
}

std::size_t encode(const RegistrationRequest& m, MutableByteView out) noexcept {
    if (!encodable(kRegistrationRequestFixed, out, {})) {
        return 0;
    }
    const auto raw = out.first<kRegistrationRequestFixed>();
    store_be16<at(32)>(raw, m.application_port);
    store_be16<at(34)>(raw, static_cast<std::uint16_t>(m.notification));
    store_array<at(36)>(raw, m.node_ipv4.bytes);
    store_array<at(40)>(raw, m.node_ipv6.bytes);
    return kRegistrationRequestFixed;
}

// ---- §6.5 Registration Response ---------------------------------------------------------
//  32         33        36
//  | NAT flag | padding |

Expected<RegistrationResponse, DecodeError> decode_registration_response(ByteView body) noexcept {
    if (body.size() < kRegistrationResponseFixed) {
        return fail(DecodeError::Truncated);
    }
    if (body.size() > kRegistrationResponseFixed) {
        return fail(DecodeError::TrailingBytes);
    }
    const auto raw = body.first<kRegistrationResponseFixed>();
    const std::uint8_t nat = load_u8<at(32)>(raw);
    // 33..35: Padding, ignored.
    if (nat > 1) {
        return fail(DecodeError::BadNatFlag);
    }
    return RegistrationResponse{nat == 1};
}

std::size_t encoded_size(const RegistrationResponse& /*m*/) noexcept {
    return kRegistrationResponseFixed;
}

std::size_t encode(const RegistrationResponse& m, MutableByteView out) noexcept {
    if (!encodable(kRegistrationResponseFixed, out, {})) {
        return 0;
    }
    const auto raw = out.first<kRegistrationResponseFixed>();
    store_u8<at(32)>(raw, m.behind_nat ? 1 : 0);
    store_u8<at(33)>(raw, 0);
    store_be16<at(34)>(raw, 0);
    return kRegistrationResponseFixed;
}

// ---- §6.6 Direction Request -------------------------------------------------------------
//  32       48        64         66         68
//  | app id | path id | fqdn len | cert len | FQDN | Certificate |

Expected<DirectionRequest, DecodeError> decode_direction_request(ByteView body) {
    if (body.size() < kDirectionRequestFixed) {
        return fail(DecodeError::Truncated);
    }
    const auto raw = body.first<kDirectionRequestFixed>();
    ByteReader f(body.subspan(kDirectionRequestFixed));
    const auto fqdn = f.take(load_be16<at(64)>(raw));
    const auto certificate = fqdn ? f.take(load_be16<at(66)>(raw)) : std::nullopt;
    if (!certificate) {
        return fail(DecodeError::Truncated);
    }
    if (f.remaining() != 0) {
        return fail(DecodeError::TrailingBytes);
    }
    std::string name = to_text(*fqdn);
    if (!valid_fqdn(name)) {
        return fail(DecodeError::BadFqdn);
    }
    DirectionRequest m;
    m.application_id = load_id<ApplicationId, at(32)>(raw);
    m.path_id = load_id<PathId, at(48)>(raw);
    m.responder_fqdn = std::move(name);
    m.certificate = to_owned(*certificate);  // ignored in version 1 (Q3), kept for the echo
    return m;
}

std::size_t encoded_size(const DirectionRequest& m) noexcept {
    return kDirectionRequestFixed + m.responder_fqdn.size() + m.certificate.size();
}

std::size_t encode(const DirectionRequest& m, MutableByteView out) noexcept {
    const std::size_t size = encoded_size(m);
    if (!encodable(size, out, {m.responder_fqdn.size(), m.certificate.size()})) {
        return 0;
    }
    const auto raw = out.first<kDirectionRequestFixed>();
    store_array<at(32)>(raw, m.application_id.raw());
    store_array<at(48)>(raw, m.path_id.raw());
    store_be16<at(64)>(raw, u16(m.responder_fqdn.size()));
    store_be16<at(66)>(raw, u16(m.certificate.size()));
    return write_tail<kDirectionRequestFixed>(out, {as_bytes(m.responder_fqdn), m.certificate});
}

// ---- §6.7 Route Direction ---------------------------------------------------------------
//  32 path id | 48 process | 49 exec | 50 gn flag | 52 NAT I port | 54 NAT R port
//  56 NAT I v4 | 60 NAT I v6 | 76 NAT R v4 | 80 NAT R v6 | 96 I real v4 | 100 I real v6
//  116 R real v4 | 120 R real v6 | 136 I virt v4 | 140 I virt v6 | 156 R virt v4
//  160 R virt v6 | 176 TRS v4 | 180 TRS v6 | 196 cipher | 198 tunnel key len
//  200 temp key len | 202 pad | 204 year | 206 month | 207 day | 208 I fqdn len
//  210 R fqdn len | 212 Tunnel Key | Temp Key | Initiator FQDN | Responder FQDN

Expected<RouteDirection, DecodeError> decode_route_direction(ByteView body) {
    if (body.size() < kRouteDirectionFixed) {
        return fail(DecodeError::Truncated);
    }
    const auto raw = body.first<kRouteDirectionFixed>();
    const std::uint8_t process = load_u8<at(48)>(raw);
    const std::uint16_t general_node_flags = load_be16<at(50)>(raw);
    const std::uint16_t cipher = load_be16<at(196)>(raw);
    const std::uint16_t tunnel_key_length = load_be16<at(198)>(raw);
    const std::uint16_t temp_key_length = load_be16<at(200)>(raw);
    // 202: Padding, ignored.
    const Date expiry{load_be16<at(204)>(raw), load_u8<at(206)>(raw), load_u8<at(207)>(raw)};
    ByteReader f(body.subspan(kRouteDirectionFixed));
    const auto tunnel_key = f.take(tunnel_key_length);
    const auto temp_key = tunnel_key ? f.take(temp_key_length) : std::nullopt;
    const auto initiator_fqdn = temp_key ? f.take(load_be16<at(208)>(raw)) : std::nullopt;
    const auto responder_fqdn = initiator_fqdn ? f.take(load_be16<at(210)>(raw)) : std::nullopt;
    if (!responder_fqdn) {
        return fail(DecodeError::Truncated);
    }
    if (f.remaining() != 0) {
        return fail(DecodeError::TrailingBytes);
    }

    if (process < 1 || process > 3) {
        return fail(DecodeError::BadProcessCode);
    }
    if ((general_node_flags & ~general_node_flag::kDefined) != 0) {
        return fail(DecodeError::BadGeneralNodeFlag);
    }
    if (!is_known_cipher_suite(cipher)) {
        return fail(DecodeError::UnknownCipher);
    }
    if (tunnel_key_length != kKeySize || temp_key_length != kKeySize) {
        return fail(DecodeError::BadKeyLength);
    }
    if (!expiry.is_valid()) {
        return fail(DecodeError::BadDate);
    }
    std::string initiator = to_text(*initiator_fqdn);
    std::string responder = to_text(*responder_fqdn);
    if (!valid_fqdn(initiator) || !valid_fqdn(responder)) {
        return fail(DecodeError::BadFqdn);
    }

    RouteDirection m;
    m.path_id = load_id<PathId, at(32)>(raw);
    m.process = static_cast<ProcessCode>(process);
    m.exec_mode = load_u8<at(49)>(raw);
    m.general_node_flags = general_node_flags;
    m.nat_initiator_port = load_be16<at(52)>(raw);
    m.nat_responder_port = load_be16<at(54)>(raw);
    m.nat_initiator_ipv4 = load_ipv4<at(56)>(raw);
    m.nat_initiator_ipv6 = load_ipv6<at(60)>(raw);
    m.nat_responder_ipv4 = load_ipv4<at(76)>(raw);
    m.nat_responder_ipv6 = load_ipv6<at(80)>(raw);
    m.initiator_real_ipv4 = load_ipv4<at(96)>(raw);
    m.initiator_real_ipv6 = load_ipv6<at(100)>(raw);
    m.responder_real_ipv4 = load_ipv4<at(116)>(raw);
    m.responder_real_ipv6 = load_ipv6<at(120)>(raw);
    m.initiator_virtual_ipv4 = load_ipv4<at(136)>(raw);
    m.initiator_virtual_ipv6 = load_ipv6<at(140)>(raw);
    m.responder_virtual_ipv4 = load_ipv4<at(156)>(raw);
    m.responder_virtual_ipv6 = load_ipv6<at(160)>(raw);
    m.trs_ipv4 = load_ipv4<at(176)>(raw);
    m.trs_ipv6 = load_ipv6<at(180)>(raw);
    m.cipher = static_cast<CipherSuiteId>(cipher);
    m.tunnel_key = to_key(*tunnel_key);
    m.temp_key = to_key(*temp_key);
    m.expiry = expiry;
    m.initiator_fqdn = std::move(initiator);
    m.responder_fqdn = std::move(responder);
    return m;
}

std::size_t encoded_size(const RouteDirection& m) noexcept {
    return kRouteDirectionFixed + m.tunnel_key.size() + m.temp_key.size() +
           m.initiator_fqdn.size() + m.responder_fqdn.size();
}

std::size_t encode(const RouteDirection& m, MutableByteView out) noexcept {
    const std::size_t size = encoded_size(m);
    if (!encodable(size, out, {m.initiator_fqdn.size(), m.responder_fqdn.size()})) {
        return 0;
    }
    const auto raw = out.first<kRouteDirectionFixed>();
    store_array<at(32)>(raw, m.path_id.raw());
    store_u8<at(48)>(raw, static_cast<std::uint8_t>(m.process));
    store_u8<at(49)>(raw, m.exec_mode);
    store_be16<at(50)>(raw, m.general_node_flags);
    store_be16<at(52)>(raw, m.nat_initiator_port);
    store_be16<at(54)>(raw, m.nat_responder_port);
    store_array<at(56)>(raw, m.nat_initiator_ipv4.bytes);
    store_array<at(60)>(raw, m.nat_initiator_ipv6.bytes);
    store_array<at(76)>(raw, m.nat_responder_ipv4.bytes);
    store_array<at(80)>(raw, m.nat_responder_ipv6.bytes);
    store_array<at(96)>(raw, m.initiator_real_ipv4.bytes);
    store_array<at(100)>(raw, m.initiator_real_ipv6.bytes);
    store_array<at(116)>(raw, m.responder_real_ipv4.bytes);
    store_array<at(120)>(raw, m.responder_real_ipv6.bytes);
    store_array<at(136)>(raw, m.initiator_virtual_ipv4.bytes);
    store_array<at(140)>(raw, m.initiator_virtual_ipv6.bytes);
    store_array<at(156)>(raw, m.responder_virtual_ipv4.bytes);
    store_array<at(160)>(raw, m.responder_virtual_ipv6.bytes);
    store_array<at(176)>(raw, m.trs_ipv4.bytes);
    store_array<at(180)>(raw, m.trs_ipv6.bytes);
    store_be16<at(196)>(raw, static_cast<std::uint16_t>(m.cipher));
    store_be16<at(198)>(raw, u16(m.tunnel_key.size()));
    store_be16<at(200)>(raw, u16(m.temp_key.size()));
    store_be16<at(202)>(raw, 0);
    store_be16<at(204)>(raw, m.expiry.year);
    store_u8<at(206)>(raw, m.expiry.month);
    store_u8<at(207)>(raw, m.expiry.day);
    store_be16<at(208)>(raw, u16(m.initiator_fqdn.size()));
    store_be16<at(210)>(raw, u16(m.responder_fqdn.size()));
    return write_tail<kRouteDirectionFixed>(
        out, {m.tunnel_key, m.temp_key, as_bytes(m.initiator_fqdn), as_bytes(m.responder_fqdn)});
}

// ---- §6.8 Relay Request / Relay Response ------------------------------------------------
//  32        48       50        52
//  | path id | cipher | key len | Tunnel Key |

Expected<Relay, DecodeError> decode_relay(ByteView body) noexcept {
    if (body.size() < kRelayFixed) {
        return fail(DecodeError::Truncated);
    }
    const auto raw = body.first<kRelayFixed>();
    const std::uint16_t cipher = load_be16<at(48)>(raw);
    const std::uint16_t key_length = load_be16<at(50)>(raw);
    ByteReader f(body.subspan(kRelayFixed));
    const auto key = f.take(key_length);
    if (!key) {
        return fail(DecodeError::Truncated);
    }
    if (f.remaining() != 0) {
        return fail(DecodeError::TrailingBytes);
    }
    if (!is_known_cipher_suite(cipher)) {
        return fail(DecodeError::UnknownCipher);
    }
    if (key_length != kKeySize) {
        return fail(DecodeError::BadKeyLength);
    }
    Relay m;
    m.path_id = load_id<PathId, at(32)>(raw);
    m.cipher = static_cast<CipherSuiteId>(cipher);
    m.tunnel_key = to_key(*key);
    return m;
}

std::size_t encoded_size(const Relay& m) noexcept {
    return kRelayFixed + m.tunnel_key.size();
}

std::size_t encode(const Relay& m, MutableByteView out) noexcept {
    const std::size_t size = encoded_size(m);
    if (!encodable(size, out, {})) {
        return 0;
    }
    const auto raw = out.first<kRelayFixed>();
    store_array<at(32)>(raw, m.path_id.raw());
    store_be16<at(48)>(raw, static_cast<std::uint16_t>(m.cipher));
    store_be16<at(50)>(raw, u16(m.tunnel_key.size()));
    return write_tail<kRelayFixed>(out, {m.tunnel_key});
}

// ---- §6.9 Tunnel Request / Tunnel Response ----------------------------------------------
//  32        34    36
//  | key len | pad | End Key |

Expected<TunnelRequest, DecodeError> decode_tunnel_request(ByteView body) {
    auto key = decode_end_key(body);
    if (!key.has_value()) {
        return fail(key.error());
    }
    return TunnelRequest{std::move(*key)};
}

std::size_t encoded_size(const TunnelRequest& m) noexcept {
    return kTunnelFixed + m.end_key.size();
}

std::size_t encode(const TunnelRequest& m, MutableByteView out) noexcept {
    return encode_end_key(m.end_key, out);
}

Expected<TunnelResponse, DecodeError> decode_tunnel_response(ByteView body) {
    if (body.empty()) {
        return TunnelResponse{};  // D14: no responder End Key
    }
    auto key = decode_end_key(body);  // D20: a present body has End Key Length ≥ 1
    if (!key.has_value()) {
        return fail(key.error());
    }
    return TunnelResponse{std::move(*key)};
}

std::size_t encoded_size(const TunnelResponse& m) noexcept {
    return m.end_key ? kTunnelFixed + m.end_key->size() : 0;
}

std::size_t encode(const TunnelResponse& m, MutableByteView out) noexcept {
    return m.end_key ? encode_end_key(*m.end_key, out) : 0;
}

// ---- §6.10 Capsule ----------------------------------------------------------------------
//  32            34    36
//  | payload len | pad | Payload |
// The inner packet is checked after decryption by the receiver (C18), not here.

Expected<Capsule, DecodeError> decode_capsule(ByteView body) noexcept {
    if (body.size() < kCapsuleFixed) {
        return fail(DecodeError::Truncated);
    }
    const auto raw = body.first<kCapsuleFixed>();
    const std::uint16_t payload_length = load_be16<at(32)>(raw);
    ByteReader f(body.subspan(kCapsuleFixed));
    const auto payload = f.take(payload_length);
    if (!payload) {
        return fail(DecodeError::Truncated);
    }
    if (f.remaining() != 0) {
        return fail(DecodeError::TrailingBytes);
    }
    if (payload_length == 0) {
        return fail(DecodeError::BadPayloadLength);
    }
    return Capsule{*payload};
}

std::size_t encoded_size(const Capsule& m) noexcept {
    return kCapsuleFixed + m.payload.size();
}

std::size_t encode(const Capsule& m, MutableByteView out) noexcept {
    const std::size_t size = encoded_size(m);
    if (!encodable(size, out, {m.payload.size()})) {
        return 0;
    }
    const auto raw = out.first<kCapsuleFixed>();
    store_be16<at(32)>(raw, u16(m.payload.size()));
    store_be16<at(34)>(raw, 0);
    return write_tail<kCapsuleFixed>(out, {m.payload});
}

// ---- §6.11 Error ------------------------------------------------------------------------
//  32     34           36
//  | code | reason len | Reason |

Expected<Error, DecodeError> decode_error(ByteView body) {
    if (body.size() < kErrorFixed) {
        return fail(DecodeError::Truncated);
    }
    const auto raw = body.first<kErrorFixed>();
    ByteReader f(body.subspan(kErrorFixed));
    const auto reason = f.take(load_be16<at(34)>(raw));
    if (!reason) {
        return fail(DecodeError::Truncated);
    }
    if (f.remaining() != 0) {
        return fail(DecodeError::TrailingBytes);
    }
    // The reason is for logs only and is kept as opaque bytes: no UTF-8 check (§6.11).
    return Error{load_be16<at(32)>(raw), to_text(*reason)};
}

std::size_t encoded_size(const Error& m) noexcept {
    return kErrorFixed + m.reason.size();
}

std::size_t encode(const Error& m, MutableByteView out) noexcept {
    const std::size_t size = encoded_size(m);
    if (!encodable(size, out, {m.reason.size()})) {
        return 0;
    }
    const auto raw = out.first<kErrorFixed>();
    store_be16<at(32)>(raw, m.code);
    store_be16<at(34)>(raw, u16(m.reason.size()));
    return write_tail<kErrorFixed>(out, {as_bytes(m.reason)});
}

// ---- Any body ---------------------------------------------------------------------------

namespace {

template <class T>
Expected<Body, DecodeError> lift(Expected<T, DecodeError>&& r) {
    if (!r.has_value()) {
        return fail(r.error());
    }
    return Body(std::in_place_type<T>, std::move(*r));
}

}  // namespace

Expected<Body, DecodeError> decode_body(MessageType type, ByteView body) {
    switch (type) {
        case MessageType::Ack:
        case MessageType::KeepAlive:
        case MessageType::HolePunching:
        case MessageType::GeneralNodeUpdateNotify:
            return lift(decode_empty_body(body));
        case MessageType::LoginRequest:
            return lift(decode_login_request(body));
        case MessageType::LoginResponse:
            return lift(decode_login_response(body));
        case MessageType::RegistrationRequest:
            return lift(decode_registration_request(body));
        case MessageType::RegistrationResponse:
            return lift(decode_registration_response(body));
        case MessageType::DirectionRequest:
            return lift(decode_direction_request(body));
        case MessageType::RouteDirectionToResponder:
        case MessageType::RouteDirectionConfirmation:
        case MessageType::RouteDirectionToInitiator:
            return lift(decode_route_direction(body));
        case MessageType::RelayRequest:
        case MessageType::RelayResponse:
            return lift(decode_relay(body));
        case MessageType::TunnelRequest:
            return lift(decode_tunnel_request(body));
        case MessageType::TunnelResponse:
            return lift(decode_tunnel_response(body));
        case MessageType::Capsule:
            return lift(decode_capsule(body));
        case MessageType::Error:
            return lift(decode_error(body));
    }
    return fail(DecodeError::UnknownType);  // a value outside §4.1 cast to MessageType
}

namespace {
// std::visit without its bad_variant_access path (a Body is never valueless: every alternative
// moves without throwing), so the Body overloads can stay noexcept.
template <class Fn>
std::size_t visit_body(const Body& body, Fn&& fn) noexcept {
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
        std::size_t result = 0;
        (void)((body.index() == I ? (result = fn(*std::get_if<I>(&body)), true) : false) || ...);
        return result;
    }
    (std::make_index_sequence<std::variant_size_v<Body>>{});
}
}  // namespace

std::size_t encoded_size(const Body& body) noexcept {
    return visit_body(body, [](const auto& m) noexcept { return encoded_size(m); });
}

std::size_t encode(const Body& body, MutableByteView out) noexcept {
    return visit_body(body, [out](const auto& m) noexcept { return encode(m, out); });
}

bool body_matches(MessageType type, const Body& body) noexcept {
    switch (type) {
        case MessageType::Ack:
        case MessageType::KeepAlive:
        case MessageType::HolePunching:
        case MessageType::GeneralNodeUpdateNotify:
            return std::holds_alternative<EmptyBody>(body);
        case MessageType::LoginRequest:
            return std::holds_alternative<LoginRequest>(body);
        case MessageType::LoginResponse:
            return std::holds_alternative<LoginResponse>(body);
        case MessageType::RegistrationRequest:
            return std::holds_alternative<RegistrationRequest>(body);
        case MessageType::RegistrationResponse:
            return std::holds_alternative<RegistrationResponse>(body);
        case MessageType::DirectionRequest:
            return std::holds_alternative<DirectionRequest>(body);
        case MessageType::RouteDirectionToResponder:
        case MessageType::RouteDirectionConfirmation:
        case MessageType::RouteDirectionToInitiator:
            return std::holds_alternative<RouteDirection>(body);
        case MessageType::RelayRequest:
        case MessageType::RelayResponse:
            return std::holds_alternative<Relay>(body);
        case MessageType::TunnelRequest:
            return std::holds_alternative<TunnelRequest>(body);
        case MessageType::TunnelResponse:
            return std::holds_alternative<TunnelResponse>(body);
        case MessageType::Capsule:
            return std::holds_alternative<Capsule>(body);
        case MessageType::Error:
            return std::holds_alternative<Error>(body);
    }
    return false;
}

// ---- AS stream (§5.5, D5, C21) ----------------------------------------------------------

Expected<StreamMessage, DecodeError> decode_stream_message(ByteView bytes) {
    if (bytes.size() < kBaseHeaderSize) {
        return fail(DecodeError::Truncated);
    }
    auto header = decode_stream_header(bytes.first<kBaseHeaderSize>());
    if (!header.has_value()) {
        return fail(header.error());
    }
    // The caller framed the message by its Message Length, so any difference is a claim that
    // disagrees with the bytes at hand, in either direction.
    if (header->message_length != bytes.size()) {
        return fail(DecodeError::LengthMismatch);
    }
    auto body = decode_body(header->type, bytes.subspan(kBaseHeaderSize));
    if (!body.has_value()) {
        return fail(body.error());
    }
    return StreamMessage{*header, std::move(*body)};
}

Bytes encode_stream_message(BaseHeader header, const Body& body) {
    const std::size_t size = kBaseHeaderSize + encoded_size(body);
    if (size > kMaxMessageLength) {
        return {};
    }
    header.message_length = static_cast<std::uint16_t>(size);
    Bytes out(size);
    encode(header, std::span(out).first<kBaseHeaderSize>());
    const std::size_t written = encode(body, std::span(out).subspan(kBaseHeaderSize));
    if (kBaseHeaderSize + written != size) {
        return {};  // a variable field longer than its u16 length field
    }
    return out;
}

}  // namespace cyphonic::wire
