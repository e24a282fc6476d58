#include "cyphonic/wire/messages.hpp"

#include <array>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "support/sample_messages.hpp"

namespace cyphonic::wire {
namespace {

// ---- helpers ------------------------------------------------------------------------------

Bytes encode_body(const Body& body) {
    Bytes out(encoded_size(body));
    const std::size_t written = encode(body, out);
    EXPECT_EQ(written, out.size());
    return out;
}

std::uint16_t get_be16(const Bytes& b, std::size_t off) {
    return static_cast<std::uint16_t>((static_cast<unsigned>(b.at(off)) << 8U) |
                                      static_cast<unsigned>(b.at(off + 1)));
}

void set_be16(Bytes& b, std::size_t off, std::uint16_t v) {
    b.at(off) = static_cast<std::byte>(v >> 8U);
    b.at(off + 1) = static_cast<std::byte>(v & 0xFFU);
}

// Sets the length field at `length_offset` to `new_length` and grows or shrinks the field it
// describes (which starts at `data_offset`) to match, so the body stays consistent.
Bytes resize_field(Bytes b, std::size_t length_offset, std::size_t data_offset,
                   std::uint16_t new_length) {
    const std::uint16_t old_length = get_be16(b, length_offset);
    const auto end = b.begin() + static_cast<std::ptrdiff_t>(data_offset + old_length);
    if (new_length > old_length) {
        b.insert(end, new_length - old_length, std::byte{0x5A});
    } else {
        b.erase(end - (old_length - new_length), end);
    }
    set_be16(b, length_offset, new_length);
    return b;
}

template <class T>
void expect_error(const Expected<T, DecodeError>& r, DecodeError e) {
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), e) << "got " << to_string(r.error()) << ", want " << to_string(e);
}

template <class T>
void expect_ok(const Expected<T, DecodeError>& r) {
    EXPECT_TRUE(r.has_value()) << to_string(r.error());
}

std::string pascal(std::string_view snake) {
    std::string out;
    bool up = true;
    for (const char c : snake) {
        if (c == '_') {
            up = true;
            continue;
        }
        out.push_back(up ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c);
        up = false;
    }
    return out;
}

// Body-relative offsets (PROTOCOL.md §6 offset − 32) of every u16 length field, and of every
// Padding byte, per body alternative.
template <class T, class M>
constexpr bool is = std::is_same_v<std::decay_t<M>, T>;

std::vector<std::size_t> length_fields(const Body& body) {
    return std::visit(
        [](const auto& m) -> std::vector<std::size_t> {
            using M = decltype(m);
            if constexpr (is<LoginRequest, M>) {
                return {18, 20, 22};
            } else if constexpr (is<LoginResponse, M>) {
                return {2, 8};
            } else if constexpr (is<DirectionRequest, M>) {
                return {32, 34};
            } else if constexpr (is<RouteDirection, M>) {
                return {166, 168, 176, 178};
            } else if constexpr (is<Relay, M>) {
                return {18};
            } else if constexpr (is<TunnelResponse, M>) {
                return m.end_key ? std::vector<std::size_t>{0} : std::vector<std::size_t>{};
            } else if constexpr (is<TunnelRequest, M> || is<Capsule, M>) {
                return {0};
            } else if constexpr (is<Error, M>) {
                return {2};
            } else {
                return {};  // no variable fields
            }
        },
        body);
}

std::vector<std::size_t> padding_bytes(const Body& body) {
    return std::visit(
        [](const auto& m) -> std::vector<std::size_t> {
            using M = decltype(m);
            if constexpr (is<LoginResponse, M>) {
                return {10, 11};
            } else if constexpr (is<RegistrationResponse, M>) {
                return {1, 2, 3};
            } else if constexpr (is<RouteDirection, M>) {
                return {170, 171};
            } else if constexpr (is<TunnelResponse, M>) {
                return m.end_key ? std::vector<std::size_t>{2, 3} : std::vector<std::size_t>{};
            } else if constexpr (is<TunnelRequest, M> || is<Capsule, M>) {
                return {2, 3};
            } else {
                return {};
            }
        },
        body);
}

bool is_empty_tunnel_response(const Body& body) {
    const auto* r = std::get_if<TunnelResponse>(&body);
    return r != nullptr && !r->end_key;
}

// ---- cases: every sample message plus variants covering the other field values --------------

struct Case {
    std::string name;
    MessageType type;
    Body body;
};
void PrintTo(const Case& c, std::ostream* os) {
    *os << c.name;
}

Bytes pattern(std::uint8_t first, std::size_t n) {
    Bytes b(n);
    for (std::size_t i = 0; i < n; ++i) {
        b[i] = static_cast<std::byte>(first + i * 7);
    }
    return b;
}

Ipv4Address v4(std::string_view s) {
    return *Ipv4Address::parse(s);
}
Ipv6Address v6(std::string_view s) {
    return *Ipv6Address::parse(s);
}

// 253 bytes: four labels of 63 with dots → 255, so three of 63 and one of 61.
std::string longest_fqdn() {
    return std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(63, 'c') + "." +
           std::string(61, 'd');
}

const std::array<std::uint8_t, 1> kOneByte{0x60};
const std::array<std::uint8_t, 1360> kLargePacket{};

std::vector<Case> all_cases() {
    std::vector<Case> cases;
    for (auto& s : samples::sample_messages()) {
        cases.push_back({pascal(s.name), s.header.type, std::move(s.body)});
    }
    const auto sample_body = [](MessageType t) { return samples::sample_message(t).body; };

    {
        LoginRequest m = std::get<LoginRequest>(sample_body(MessageType::LoginRequest));
        m.auth_type = AuthType::Certificate;
        m.exec_mode = ExecMode::Node;
        m.device_id = "node-7";
        m.password.clear();
        m.certificate = pattern(0x30, 300);
        cases.push_back({"LoginRequestCertificate", MessageType::LoginRequest, m});
        m.certificate.clear();  // D20: the TLS peer certificate is used
        cases.push_back({"LoginRequestCertificateEmpty", MessageType::LoginRequest, m});
        m.auth_type = AuthType::MacAddress;
        m.exec_mode = ExecMode::GeneralNode;
        m.device_id = "02:00:5e:10:0a:ff";
        cases.push_back({"LoginRequestMacAddress", MessageType::LoginRequest, m});
        m.auth_type = AuthType::Basic;
        m.device_id = "ünïcödé-device";  // UTF-8 bytes pass through
        m.password = "pässwörd";
        cases.push_back({"LoginRequestUtf8", MessageType::LoginRequest, m});
    }
    {
        LoginResponse m = std::get<LoginResponse>(sample_body(MessageType::LoginResponse));
        m.cipher = CipherSuiteId::ChaCha20Poly1305;
        m.virtual_ipv4 = {};
        m.nms_ipv4 = {};
        m.expiry = {2028, 2, 29};
        m.fqdn = longest_fqdn();
        cases.push_back({"LoginResponseIpv6Only", MessageType::LoginResponse, m});
    }
    cases.push_back({"RegistrationRequestUdpIpv4Only", MessageType::RegistrationRequest,
                     RegistrationRequest{65535, NotificationType::Udp, v4("192.0.2.1"), {}}});
    cases.push_back({"RegistrationRequestApns", MessageType::RegistrationRequest,
                     RegistrationRequest{1, NotificationType::Apns, {}, v6("2001:db8::1")}});
    cases.push_back({"RegistrationResponseNoNat", MessageType::RegistrationResponse,
                     RegistrationResponse{false}});
    {
        DirectionRequest m = std::get<DirectionRequest>(sample_body(MessageType::DirectionRequest));
        m.certificate = pattern(0x30, 17);
        m.responder_fqdn = "x";
        cases.push_back({"DirectionRequestWithCertificate", MessageType::DirectionRequest, m});
    }
    {
        RouteDirection m =
            std::get<RouteDirection>(sample_body(MessageType::RouteDirectionToResponder));
        m.process = ProcessCode::Direct;
        m.exec_mode = 0xA7;  // undefined (Q4): kept as received
        m.general_node_flags = general_node_flag::kDefined;
        m.cipher = CipherSuiteId::AesCbcHmacMd5;
        m.trs_ipv4 = {};
        m.trs_ipv6 = {};
        m.initiator_fqdn = longest_fqdn();
        cases.push_back({"RouteDirectionDirect", MessageType::RouteDirectionToInitiator, m});
        m.process = ProcessCode::SharedNat;
        m.general_node_flags = 0;
        m.expiry = {2000, 2, 29};
        cases.push_back({"RouteDirectionSharedNat", MessageType::RouteDirectionConfirmation, m});
    }
    {
        Relay m = std::get<Relay>(sample_body(MessageType::RelayRequest));
        m.cipher = CipherSuiteId::ChaCha20Poly1305;
        cases.push_back({"RelayChaCha", MessageType::RelayResponse, m});
    }
    cases.push_back(
        {"TunnelRequestWrappedAead", MessageType::TunnelRequest, TunnelRequest{pattern(1, 60)}});
    cases.push_back(
        {"TunnelRequestWrappedCbc", MessageType::TunnelRequest, TunnelRequest{pattern(2, 80)}});
    cases.push_back({"TunnelResponseNoEndKey", MessageType::TunnelResponse, TunnelResponse{}});
    cases.push_back(
        {"TunnelResponsePlain", MessageType::TunnelResponse, TunnelResponse{pattern(3, 32)}});
    cases.push_back(
        {"TunnelResponseWrappedCbc", MessageType::TunnelResponse, TunnelResponse{pattern(4, 80)}});
    cases.push_back(
        {"CapsuleOneByte", MessageType::Capsule, Capsule{std::as_bytes(std::span(kOneByte))}});
    cases.push_back(
        {"CapsuleMtuSized", MessageType::Capsule, Capsule{std::as_bytes(std::span(kLargePacket))}});
    cases.push_back({"ErrorEmptyReason", MessageType::Error, Error{0x0002, ""}});
    cases.push_back({"ErrorUnknownCodeAndRawReason", MessageType::Error,
                     Error{0xBEEF, std::string("\xff\xfe\x00 not utf-8", 14)}});
    return cases;
}

class BodyCodec : public ::testing::TestWithParam<Case> {};

INSTANTIATE_TEST_SUITE_P(AllBodies, BodyCodec, ::testing::ValuesIn(all_cases()),
                         [](const ::testing::TestParamInfo<Case>& p) { return p.param.name; });

TEST_P(BodyCodec, RoundTrips) {
    const Case& c = GetParam();
    ASSERT_TRUE(body_matches(c.type, c.body));
    const Bytes bytes = encode_body(c.body);
    const auto decoded = decode_body(c.type, bytes);
    ASSERT_TRUE(decoded.has_value()) << to_string(decoded.error());
    EXPECT_EQ(decoded->index(), c.body.index());
    EXPECT_EQ(*decoded, c.body);
    EXPECT_EQ(encode_body(*decoded), bytes);
}

TEST_P(BodyCodec, EncodeWritesExactlyEncodedSizeBytes) {
    const Case& c = GetParam();
    const std::size_t size = encoded_size(c.body);
    Bytes out(size + 8, std::byte{0xEE});
    EXPECT_EQ(encode(c.body, out), size);
    for (std::size_t i = size; i < out.size(); ++i) {
        EXPECT_EQ(out[i], std::byte{0xEE}) << i;
    }
}

TEST_P(BodyCodec, EncodeWritesNothingIntoASmallerBuffer) {
    const Case& c = GetParam();
    const std::size_t size = encoded_size(c.body);
    if (size == 0) {
        EXPECT_EQ(encode(c.body, MutableByteView{}), 0U);  // nothing to write, nothing needed
        return;
    }
    Bytes out(size - 1, std::byte{0xEE});
    EXPECT_EQ(encode(c.body, out), 0U);
    EXPECT_EQ(out, Bytes(size - 1, std::byte{0xEE}));
}

TEST_P(BodyCodec, RejectsEveryTruncation) {
    const Case& c = GetParam();
    const Bytes bytes = encode_body(c.body);
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        SCOPED_TRACE(n);
        const auto result = decode_body(c.type, std::span(bytes).first(n));
        if (n == 0 && c.type == MessageType::TunnelResponse) {
            ASSERT_TRUE(result.has_value());  // D14: no End Key
            EXPECT_EQ(*result, Body(TunnelResponse{}));
            continue;
        }
        expect_error(result, DecodeError::Truncated);
    }
}

TEST_P(BodyCodec, RejectsEveryLengthFieldOneTooHigh) {
    const Case& c = GetParam();
    const Bytes bytes = encode_body(c.body);
    for (const std::size_t off : length_fields(c.body)) {
        SCOPED_TRACE(off);
        Bytes bad = bytes;
        set_be16(bad, off, static_cast<std::uint16_t>(get_be16(bad, off) + 1));
        expect_error(decode_body(c.type, bad), DecodeError::Truncated);
    }
}

TEST_P(BodyCodec, RejectsEveryLengthFieldOneTooLow) {
    const Case& c = GetParam();
    const Bytes bytes = encode_body(c.body);
    for (const std::size_t off : length_fields(c.body)) {
        SCOPED_TRACE(off);
        const std::uint16_t value = get_be16(bytes, off);
        if (value == 0) {
            continue;  // cannot go lower; covered by the case with a non-empty field
        }
        Bytes bad = bytes;
        set_be16(bad, off, static_cast<std::uint16_t>(value - 1));
        expect_error(decode_body(c.type, bad), DecodeError::TrailingBytes);
    }
}

TEST_P(BodyCodec, RejectsAnAppendedByte) {
    const Case& c = GetParam();
    Bytes bytes = encode_body(c.body);
    bytes.push_back(std::byte{0});
    // One byte after an empty Tunnel Response is a body without its fixed part.
    expect_error(decode_body(c.type, bytes), is_empty_tunnel_response(c.body)
                                                 ? DecodeError::Truncated
                                                 : DecodeError::TrailingBytes);
}

TEST_P(BodyCodec, WritesPaddingAsZeroAndIgnoresItOnReceipt) {
    const Case& c = GetParam();
    const Bytes bytes = encode_body(c.body);
    Bytes padded = bytes;
    for (const std::size_t off : padding_bytes(c.body)) {
        EXPECT_EQ(bytes.at(off), std::byte{0}) << off;
        padded.at(off) = std::byte{0xFF};
    }
    const auto decoded = decode_body(c.type, padded);
    ASSERT_TRUE(decoded.has_value()) << to_string(decoded.error());
    EXPECT_EQ(*decoded, c.body);
}

TEST_P(BodyCodec, DecodesOnlyWithTypesOfTheSameBody) {
    const Case& c = GetParam();
    const Bytes bytes = encode_body(c.body);
    for (std::uint8_t t = kFirstMessageType; t <= kLastMessageType; ++t) {
        const auto type = static_cast<MessageType>(t);
        SCOPED_TRACE(to_string(type));
        const auto decoded = decode_body(type, bytes);
        if (body_matches(type, c.body)) {
            ASSERT_TRUE(decoded.has_value());
            EXPECT_EQ(*decoded, c.body);
        } else if (decoded.has_value()) {
            EXPECT_NE(decoded->index(), c.body.index());
        }
    }
}

// ---- decode_body / body_matches for every type ----------------------------------------------

std::vector<Body> one_of_each_alternative() {
    return {EmptyBody{},
            LoginRequest{},
            LoginResponse{},
            RegistrationRequest{},
            RegistrationResponse{},
            DirectionRequest{},
            RouteDirection{},
            Relay{},
            TunnelRequest{},
            TunnelResponse{},
            Capsule{},
            Error{}};
}

TEST(BodyMatches, HoldsForExactlyTheAlternativeEachTypeCarries) {
    const std::vector<Body> alternatives = one_of_each_alternative();
    ASSERT_EQ(alternatives.size(), std::variant_size_v<Body>);
    const std::array<std::pair<MessageType, std::size_t>, 18> expected{{
        {MessageType::Ack, 0},
        {MessageType::LoginRequest, 1},
        {MessageType::LoginResponse, 2},
        {MessageType::RegistrationRequest, 3},
        {MessageType::RegistrationResponse, 4},
        {MessageType::KeepAlive, 0},
        {MessageType::DirectionRequest, 5},
        {MessageType::RouteDirectionToResponder, 6},
        {MessageType::RouteDirectionConfirmation, 6},
        {MessageType::RouteDirectionToInitiator, 6},
        {MessageType::RelayRequest, 7},
        {MessageType::RelayResponse, 7},
        {MessageType::HolePunching, 0},
        {MessageType::TunnelRequest, 8},
        {MessageType::TunnelResponse, 9},
        {MessageType::Capsule, 10},
        {MessageType::GeneralNodeUpdateNotify, 0},
        {MessageType::Error, 11},
    }};
    for (const auto& [type, index] : expected) {
        SCOPED_TRACE(to_string(type));
        for (std::size_t i = 0; i < alternatives.size(); ++i) {
            EXPECT_EQ(body_matches(type, alternatives[i]), i == index) << i;
        }
        const auto sample = samples::sample_message(type);
        const Bytes bytes = samples::plaintext(sample);
        const auto decoded = decode_body(type, std::span(bytes).subspan(kBaseHeaderSize));
        ASSERT_TRUE(decoded.has_value()) << to_string(decoded.error());
        EXPECT_EQ(decoded->index(), index);
        EXPECT_EQ(*decoded, sample.body);
    }
}

TEST(BodyMatches, IsFalseForValuesOutsideTheTypeTable) {
    for (const unsigned t : {0x00U, 0x13U, 0xFFU}) {
        for (const Body& b : one_of_each_alternative()) {
            EXPECT_FALSE(body_matches(static_cast<MessageType>(t), b));
        }
    }
}

TEST(DecodeBody, RejectsValuesOutsideTheTypeTable) {
    for (const unsigned t : {0x00U, 0x13U, 0xFFU}) {
        expect_error(decode_body(static_cast<MessageType>(t), {}), DecodeError::UnknownType);
    }
}

TEST(EmptyBodyDecode, RejectsAnyByte) {
    expect_ok(decode_empty_body({}));
    for (std::size_t n = 1; n <= 64; ++n) {
        expect_error(decode_empty_body(Bytes(n)), DecodeError::TrailingBytes);
    }
}

// ---- semantic rejections --------------------------------------------------------------------

LoginRequest login_request() {
    return std::get<LoginRequest>(samples::sample_message(MessageType::LoginRequest).body);
}

Expected<LoginRequest, DecodeError> reencode(const LoginRequest& m) {
    return decode_login_request(encode_body(m));
}

TEST(LoginRequestDecode, RejectsAuthTypeOutsideOneToThree) {
    const Bytes bytes = encode_body(login_request());
    for (unsigned v = 0; v <= 0xFF; ++v) {
        SCOPED_TRACE(v);
        Bytes b = bytes;
        b[16] = static_cast<std::byte>(v);
        const auto result = decode_login_request(b);
        if (v == 1) {
            expect_ok(result);
        } else if (v == 0 || v > 3) {
            expect_error(result, DecodeError::BadAuthType);
        }  // 2 and 3 fail on the sample's password / DeviceID: see the tests below
    }
}

TEST(LoginRequestDecode, RejectsExecModeOutsideOneToThree) {
    const Bytes bytes = encode_body(login_request());
    for (unsigned v = 0; v <= 0xFF; ++v) {
        SCOPED_TRACE(v);
        Bytes b = bytes;
        b[17] = static_cast<std::byte>(v);
        const auto result = decode_login_request(b);
        if (v >= 1 && v <= 3) {
            expect_ok(result);
        } else {
            expect_error(result, DecodeError::BadExecMode);
        }
    }
}

TEST(LoginRequestDecode, RejectsEmptyDeviceId) {
    for (const AuthType auth : {AuthType::Basic, AuthType::Certificate, AuthType::MacAddress}) {
        LoginRequest m = login_request();
        m.auth_type = auth;
        m.password.clear();
        m.device_id.clear();
        expect_error(reencode(m), DecodeError::BadDeviceId);
    }
}

TEST(LoginRequestDecode, RequiresLowerCaseMacForMacAuthentication) {
    LoginRequest m = login_request();
    m.auth_type = AuthType::MacAddress;
    m.password.clear();
    m.device_id = "00:1a:2b:3c:4d:5e";
    expect_ok(reencode(m));
    for (const char* bad : {"00:1A:2B:3C:4D:5E", "00:1a:2b:3c:4d", "00:1a:2b:3c:4d:5e:6f",
                            "00-1a-2b-3c-4d-5e", "001a.2b3c.4d5e", "00:1a:2b:3c:4d:5g",
                            "00:1a:2b:3c:4d:5e ", "0:1a:2b:3c:4d:5e0", "adapter-01"}) {
        SCOPED_TRACE(bad);
        m.device_id = bad;
        expect_error(reencode(m), DecodeError::BadDeviceId);
    }
}

TEST(LoginRequestDecode, RejectsPasswordUnlessBasic) {
    for (const AuthType auth : {AuthType::Certificate, AuthType::MacAddress}) {
        LoginRequest m = login_request();
        m.auth_type = auth;
        m.device_id = "00:1a:2b:3c:4d:5e";
        m.password = "x";
        expect_error(reencode(m), DecodeError::BadAuthType);
        m.password.clear();
        expect_ok(reencode(m));
    }
}

TEST(LoginRequestDecode, RejectsCertificateUnlessCertificateAuth) {
    for (const AuthType auth : {AuthType::Basic, AuthType::MacAddress}) {
        LoginRequest m = login_request();
        m.auth_type = auth;
        m.device_id = "00:1a:2b:3c:4d:5e";
        m.password.clear();
        m.certificate = pattern(0x30, 10);
        expect_error(reencode(m), DecodeError::BadAuthType);
        m.certificate.clear();
        expect_ok(reencode(m));
    }
}

// Where a cipher type, key lengths and a date sit in the three bodies that carry keys (body
// offsets: PROTOCOL.md offset − 32).
struct KeyedBody {
    const char* name;
    MessageType type;
    std::size_t cipher_offset;
    std::vector<std::pair<std::size_t, std::size_t>> keys;  // (length field, key data)
    std::optional<std::size_t> date_offset;                 // year; month, day follow
};
void PrintTo(const KeyedBody& k, std::ostream* os) {
    *os << k.name;
}

std::vector<KeyedBody> keyed_bodies() {
    return {
        {"LoginResponse", MessageType::LoginResponse, 0, {{2, 52}}, 4},
        {"RouteDirection",
         MessageType::RouteDirectionToResponder,
         164,
         {{166, 180}, {168, 212}},
         172},
        {"Relay", MessageType::RelayRequest, 16, {{18, 20}}, std::nullopt},
    };
}

class KeyedBodyDecode : public ::testing::TestWithParam<KeyedBody> {
protected:
    Bytes sample_bytes() const {
        return encode_body(samples::sample_message(GetParam().type).body);
    }
};

INSTANTIATE_TEST_SUITE_P(AllKeyedBodies, KeyedBodyDecode, ::testing::ValuesIn(keyed_bodies()),
                         [](const ::testing::TestParamInfo<KeyedBody>& p) {
                             return std::string(p.param.name);
                         });

TEST_P(KeyedBodyDecode, RejectsUnknownCipherTypes) {
    const Bytes bytes = sample_bytes();
    for (const unsigned v : {0x0000U, 0x0001U, 0x0002U, 0x0003U, 0x0004U, 0x0100U, 0xFFFFU}) {
        SCOPED_TRACE(v);
        Bytes b = bytes;
        set_be16(b, GetParam().cipher_offset, static_cast<std::uint16_t>(v));
        const auto result = decode_body(GetParam().type, b);
        if (v >= 1 && v <= 3) {
            ASSERT_TRUE(result.has_value()) << to_string(result.error());
        } else {
            expect_error(result, DecodeError::UnknownCipher);
        }
    }
}

TEST_P(KeyedBodyDecode, RejectsKeyLengthsOtherThan32) {
    const Bytes bytes = sample_bytes();
    for (const auto& [length_offset, data_offset] : GetParam().keys) {
        for (const std::uint16_t n : {0, 1, 16, 31, 33, 48, 64, 80}) {
            SCOPED_TRACE(::testing::Message() << length_offset << " " << n);
            const Bytes b = resize_field(bytes, length_offset, data_offset, n);
            ASSERT_EQ(b.size() + kKeySize, bytes.size() + n);
            expect_error(decode_body(GetParam().type, b), DecodeError::BadKeyLength);
        }
    }
}

TEST_P(KeyedBodyDecode, RejectsInvalidDates) {
    if (!GetParam().date_offset) {
        return;  // Relay carries no date
    }
    const std::size_t off = *GetParam().date_offset;
    const Bytes bytes = sample_bytes();
    const std::vector<std::pair<Date, bool>> dates{
        {{2026, 1, 31}, true},  {{2026, 2, 28}, true},     {{2028, 2, 29}, true},
        {{2000, 2, 29}, true},  {{1970, 1, 1}, true},      {{65535, 12, 31}, true},
        {{2026, 4, 30}, true},  {{2026, 0, 1}, false},     {{2026, 13, 1}, false},
        {{2026, 1, 0}, false},  {{2026, 1, 32}, false},    {{2026, 2, 29}, false},
        {{2100, 2, 29}, false}, {{2026, 4, 31}, false},    {{2026, 6, 31}, false},
        {{2026, 9, 31}, false}, {{2026, 11, 31}, false},   {{1969, 12, 31}, false},
        {{0, 1, 1}, false},     {{2026, 255, 255}, false},
    };
    for (const auto& [date, valid] : dates) {
        SCOPED_TRACE(::testing::Message()
                     << date.year << "-" << unsigned{date.month} << "-" << unsigned{date.day});
        EXPECT_EQ(date.is_valid(), valid);
        Bytes b = bytes;
        set_be16(b, off, date.year);
        b[off + 2] = static_cast<std::byte>(date.month);
        b[off + 3] = static_cast<std::byte>(date.day);
        const auto result = decode_body(GetParam().type, b);
        if (valid) {
            ASSERT_TRUE(result.has_value()) << to_string(result.error());
        } else {
            expect_error(result, DecodeError::BadDate);
        }
    }
}

const std::vector<std::string>& bad_fqdns() {
    static const std::vector<std::string> names{
        "",
        "Alice.example.net",
        "alice..example.net",
        ".alice.example.net",
        "alice.example.net.",
        "-alice.example.net",
        "alice-.example.net",
        "alice_1.example.net",
        "alice example.net",
        std::string(64, 'a') + ".net",
        std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(63, 'c') + "." +
            std::string(62, 'd'),
        std::string("alice\0.net", 10),
    };
    return names;
}

TEST(FqdnFieldsDecode, RejectsInvalidNamesInEveryFqdnField) {
    for (const std::string& bad : bad_fqdns()) {
        SCOPED_TRACE(bad);
        auto login =
            std::get<LoginResponse>(samples::sample_message(MessageType::LoginResponse).body);
        login.fqdn = bad;
        expect_error(decode_login_response(encode_body(login)), DecodeError::BadFqdn);

        auto direction =
            std::get<DirectionRequest>(samples::sample_message(MessageType::DirectionRequest).body);
        direction.responder_fqdn = bad;
        expect_error(decode_direction_request(encode_body(direction)), DecodeError::BadFqdn);

        const auto route = std::get<RouteDirection>(
            samples::sample_message(MessageType::RouteDirectionToResponder).body);
        auto initiator = route;
        initiator.initiator_fqdn = bad;
        expect_error(decode_route_direction(encode_body(initiator)), DecodeError::BadFqdn);
        auto responder = route;
        responder.responder_fqdn = bad;
        expect_error(decode_route_direction(encode_body(responder)), DecodeError::BadFqdn);
    }
}

TEST(RegistrationRequestDecode, RejectsNotificationTypeAboveTwo) {
    const Bytes bytes = encode_body(samples::sample_message(MessageType::RegistrationRequest).body);
    for (unsigned v = 0; v <= 0xFFFF; ++v) {
        Bytes b = bytes;
        set_be16(b, 2, static_cast<std::uint16_t>(v));
        const auto result = decode_registration_request(b);
        if (v <= 2) {
            ASSERT_TRUE(result.has_value()) << v;
            EXPECT_EQ(static_cast<unsigned>(result->notification), v);
        } else {
            ASSERT_FALSE(result.has_value()) << v;
            ASSERT_EQ(result.error(), DecodeError::BadNotificationType) << v;
        }
    }
}

TEST(RegistrationResponseDecode, RejectsNatFlagOtherThanZeroOrOne) {
    for (unsigned v = 0; v <= 0xFF; ++v) {
        SCOPED_TRACE(v);
        const Bytes b{static_cast<std::byte>(v), std::byte{0}, std::byte{0}, std::byte{0}};
        const auto result = decode_registration_response(b);
        if (v <= 1) {
            ASSERT_TRUE(result.has_value());
            EXPECT_EQ(result->behind_nat, v == 1);
        } else {
            expect_error(result, DecodeError::BadNatFlag);
        }
    }
}

TEST(RouteDirectionDecode, RejectsProcessCodeOutsideOneToThree) {
    const Bytes bytes =
        encode_body(samples::sample_message(MessageType::RouteDirectionToResponder).body);
    for (unsigned v = 0; v <= 0xFF; ++v) {
        SCOPED_TRACE(v);
        Bytes b = bytes;
        b[16] = static_cast<std::byte>(v);
        const auto result = decode_route_direction(b);
        if (v >= 1 && v <= 3) {
            ASSERT_TRUE(result.has_value());
            EXPECT_EQ(static_cast<unsigned>(result->process), v);
        } else {
            expect_error(result, DecodeError::BadProcessCode);
        }
    }
}

TEST(RouteDirectionDecode, RejectsUndefinedGeneralNodeFlagBits) {
    const Bytes bytes =
        encode_body(samples::sample_message(MessageType::RouteDirectionToResponder).body);
    for (unsigned bit = 0; bit < 16; ++bit) {
        SCOPED_TRACE(bit);
        Bytes b = bytes;
        set_be16(b, 18, static_cast<std::uint16_t>(1U << bit));
        const auto result = decode_route_direction(b);
        if (bit < 2) {
            ASSERT_TRUE(result.has_value());
        } else {
            expect_error(result, DecodeError::BadGeneralNodeFlag);
        }
    }
}

TEST(RouteDirectionDecode, KeepsExecModeAsReceived) {
    Bytes bytes = encode_body(samples::sample_message(MessageType::RouteDirectionToResponder).body);
    bytes[17] = std::byte{0xFF};
    const auto result = decode_route_direction(bytes);
    ASSERT_TRUE(result.has_value());
    EXPECT_EQ(result->exec_mode, 0xFF);
}

TEST(TunnelRequestDecode, AcceptsOnlyPlainAndWrappedEndKeySizes) {
    for (std::size_t n = 0; n <= 128; ++n) {
        SCOPED_TRACE(n);
        const Bytes bytes = encode_body(TunnelRequest{pattern(0, n)});
        const auto request = decode_tunnel_request(bytes);
        const auto response = decode_tunnel_response(bytes);
        if (n == 32 || n == 60 || n == 80) {
            ASSERT_TRUE(request.has_value());
            EXPECT_EQ(request->end_key, pattern(0, n));
            ASSERT_TRUE(response.has_value());
            EXPECT_EQ(response->end_key, pattern(0, n));
        } else {
            expect_error(request, DecodeError::BadKeyLength);
            expect_error(response, DecodeError::BadKeyLength);
        }
    }
}

TEST(TunnelResponseDecode, TreatsAnEmptyBodyAsNoEndKeyButRejectsLengthZero) {
    const auto empty = decode_tunnel_response({});
    ASSERT_TRUE(empty.has_value());
    EXPECT_FALSE(empty->end_key.has_value());
    // D20: a present body with End Key Length 0 is invalid.
    expect_error(decode_tunnel_response(Bytes(4)), DecodeError::BadKeyLength);
    expect_error(decode_tunnel_request({}), DecodeError::Truncated);
}

TEST(CapsuleDecode, RejectsPayloadLengthZero) {
    expect_error(decode_capsule(Bytes(4)), DecodeError::BadPayloadLength);
    expect_error(decode_capsule(Bytes(5)), DecodeError::TrailingBytes);
}

TEST(CapsuleDecode, ReturnsAViewIntoTheInputWithoutInspectingThePacket) {
    Bytes bytes{std::byte{0},    std::byte{3},    std::byte{0},   std::byte{0},
                std::byte{0xFF}, std::byte{0xFF}, std::byte{0xFF}};  // not an IP packet
    const auto result = decode_capsule(bytes);
    ASSERT_TRUE(result.has_value());
    EXPECT_EQ(result->payload.data(), bytes.data() + 4);
    EXPECT_EQ(result->payload.size(), 3U);
}

TEST(ErrorDecode, KeepsReasonBytesVerbatim) {
    const std::string raw("\xc3\x28\xff\x00", 4);  // invalid UTF-8 and a NUL
    const auto result = decode_error(encode_body(Error{0x0001, raw}));
    ASSERT_TRUE(result.has_value());
    EXPECT_EQ(result->reason, raw);
}

TEST(ErrorCodeMapping, MapsUnknownCodesToInternal) {
    for (unsigned v = 0; v <= 0xFFFF; ++v) {
        const Error e{static_cast<std::uint16_t>(v), {}};
        const ErrorCode expected =
            (v >= 1 && v <= 10) ? static_cast<ErrorCode>(v) : ErrorCode::Internal;
        ASSERT_EQ(e.error_code(), expected) << v;
    }
}

TEST(BodyEncode, WritesNothingWhenAFieldOutgrowsItsLengthField) {
    const Error too_long{1, std::string(0x10000, 'x')};
    EXPECT_EQ(encoded_size(too_long), 4U + 0x10000U);
    Bytes out(encoded_size(too_long));
    EXPECT_EQ(encode(too_long, out), 0U);
    Error longest{1, std::string(0xFFFF, 'x')};
    Bytes out2(encoded_size(longest));
    EXPECT_EQ(encode(longest, out2), out2.size());
}

// ---- AS stream --------------------------------------------------------------------------------

std::vector<samples::SampleMessage> stream_samples() {
    std::vector<samples::SampleMessage> out;
    for (auto& s : samples::sample_messages()) {
        if (allowed_on_stream(s.header.type)) {
            out.push_back(std::move(s));
        }
    }
    return out;
}

TEST(StreamMessage, RoundTripsEveryStreamType) {
    const auto all = stream_samples();
    ASSERT_EQ(all.size(), 3U);
    for (const auto& s : all) {
        SCOPED_TRACE(s.name);
        BaseHeader header = s.header;
        header.message_length = 0;  // filled in by the encoder
        const Bytes bytes = encode_stream_message(header, s.body);
        EXPECT_EQ(bytes, samples::plaintext(s));
        const auto decoded = decode_stream_message(bytes);
        ASSERT_TRUE(decoded.has_value()) << to_string(decoded.error());
        EXPECT_EQ(*decoded, (StreamMessage{s.header, s.body}));
    }
}

TEST(StreamMessage, RejectsTypesThatNeverTravelOnTheStream) {
    for (const auto& s : samples::sample_messages()) {
        if (allowed_on_stream(s.header.type)) {
            continue;
        }
        SCOPED_TRACE(s.name);
        expect_error(decode_stream_message(samples::plaintext(s)), DecodeError::WrongTransport);
    }
}

TEST(StreamMessage, RejectsEveryTruncation) {
    for (const auto& s : stream_samples()) {
        SCOPED_TRACE(s.name);
        const Bytes bytes = samples::plaintext(s);
        for (std::size_t n = 0; n < bytes.size(); ++n) {
            SCOPED_TRACE(n);
            expect_error(
                decode_stream_message(std::span(bytes).first(n)),
                n < kBaseHeaderSize ? DecodeError::Truncated : DecodeError::LengthMismatch);
        }
    }
}

TEST(StreamMessage, RejectsMessageLengthOtherThanTheInputSize) {
    for (const auto& s : stream_samples()) {
        SCOPED_TRACE(s.name);
        const Bytes bytes = samples::plaintext(s);
        for (const int delta : {-1, 1}) {
            Bytes b = bytes;
            set_be16(b, 12, static_cast<std::uint16_t>(static_cast<int>(b.size()) + delta));
            expect_error(decode_stream_message(b), DecodeError::LengthMismatch);
        }
        Bytes longer = bytes;
        longer.push_back(std::byte{0});
        expect_error(decode_stream_message(longer), DecodeError::LengthMismatch);
    }
}

TEST(StreamMessage, RejectsNonZeroCount) {
    for (const auto& s : stream_samples()) {
        SCOPED_TRACE(s.name);
        Bytes b = samples::plaintext(s);
        b[7] = std::byte{1};
        expect_error(decode_stream_message(b), DecodeError::BadCount);
    }
}

TEST(StreamMessage, RejectsHeaderErrors) {
    const Bytes bytes = samples::plaintext(samples::sample_message(MessageType::LoginRequest));
    Bytes version = bytes;
    version[4] = std::byte{2};
    expect_error(decode_stream_message(version), DecodeError::UnknownVersion);
    Bytes next_opt = bytes;
    next_opt[14] = std::byte{1};
    expect_error(decode_stream_message(next_opt), DecodeError::UnknownNextOpt);
    Bytes type = bytes;
    type[6] = std::byte{0x13};
    expect_error(decode_stream_message(type), DecodeError::UnknownType);
}

TEST(StreamMessage, ReportsBodyErrors) {
    Bytes bytes = samples::plaintext(samples::sample_message(MessageType::LoginRequest));
    bytes[kBaseHeaderSize + 16] = std::byte{9};  // Auth Type
    expect_error(decode_stream_message(bytes), DecodeError::BadAuthType);
    // A bare Login Response header: the body's fixed part is missing.
    BaseHeader h = samples::sample_message(MessageType::LoginResponse).header;
    h.message_length = kBaseHeaderSize;
    Bytes bare(kBaseHeaderSize);
    encode(h, std::span(bare).first<kBaseHeaderSize>());
    expect_error(decode_stream_message(bare), DecodeError::Truncated);
}

TEST(StreamMessage, EncodeGivesNothingForAMessageOver65535Bytes) {
    const BaseHeader h = samples::sample_message(MessageType::Error).header;
    EXPECT_TRUE(encode_stream_message(h, Error{1, std::string(0xFFFF - 36, 'x')}).size() == 0xFFFF);
    EXPECT_TRUE(encode_stream_message(h, Error{1, std::string(0xFFFF - 35, 'x')}).empty());
}

}  // namespace
}  // namespace cyphonic::wire
