#include "support/sample_messages.hpp"

#include <array>
#include <stdexcept>

namespace cyphonic::samples {

namespace {

using wire::MessageType;
namespace flag = wire::flag;

template <class Id>
Id id_from_hex(std::string_view hex) {
    const auto id = Id::from_hex(hex);
    if (!id) {
        throw std::logic_error("sample_messages: bad id literal");
    }
    return *id;
}

Ipv4Address v4(std::string_view text) {
    const auto a = Ipv4Address::parse(text);
    if (!a) {
        throw std::logic_error("sample_messages: bad IPv4 literal");
    }
    return *a;
}

Ipv6Address v6(std::string_view text) {
    const auto a = Ipv6Address::parse(text);
    if (!a) {
        throw std::logic_error("sample_messages: bad IPv6 literal");
    }
    return *a;
}

// `first`, first + 1, … (a recognisable key pattern).
wire::KeyBytes key_from(std::uint8_t first) {
    wire::KeyBytes k{};
    for (std::size_t i = 0; i < k.size(); ++i) {
        k[i] = static_cast<std::byte>(first + i);
    }
    return k;
}

Bytes bytes_from(std::uint8_t first, std::size_t n) {
    Bytes b(n);
    for (std::size_t i = 0; i < n; ++i) {
        b[i] = static_cast<std::byte>(first + i);
    }
    return b;
}

// ICMP echo request 10.64.0.5 → 10.64.0.9 with data "cyphonic", both checksums valid.
constexpr std::array<std::uint8_t, 36> kCapsulePacket{
    0x45, 0x00, 0x00, 0x24, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x01, 0x0a, 0x06,
    0x0a, 0x40, 0x00, 0x05, 0x0a, 0x40, 0x00, 0x09, 0x08, 0x00, 0x4b, 0x4a,
    0x00, 0x01, 0x00, 0x01, 0x63, 0x79, 0x70, 0x68, 0x6f, 0x6e, 0x69, 0x63};

wire::RouteDirection route_direction() {
    wire::RouteDirection m;
    m.path_id = path_id();
    m.process = wire::ProcessCode::Relayed;
    m.exec_mode = 0;
    m.general_node_flags = wire::general_node_flag::kResponder;
    m.nat_initiator_port = 40001;
    m.nat_responder_port = 40002;
    m.nat_initiator_ipv4 = v4("203.0.113.5");  // C15: one family per side
    m.nat_responder_ipv6 = v6("2001:db8:2::9");
    m.initiator_real_ipv4 = v4("192.168.1.10");
    m.responder_real_ipv4 = v4("10.0.0.9");
    m.responder_real_ipv6 = v6("2001:db8:2::9");
    m.initiator_virtual_ipv4 = v4("10.64.0.5");
    m.initiator_virtual_ipv6 = v6("fd00:cafe::5");
    m.responder_virtual_ipv4 = v4("10.64.0.9");
    m.responder_virtual_ipv6 = v6("fd00:cafe::9");
    m.trs_ipv4 = v4("198.51.100.20");
    m.trs_ipv6 = v6("2001:db8:ff::20");
    m.cipher = wire::CipherSuiteId::Aes256Gcm;
    m.tunnel_key = key_from(0x40);
    m.temp_key = key_from(0x20);  // the §11 Temp Key
    m.expiry = {2026, 12, 31};
    m.initiator_fqdn = "alice.example.net";
    m.responder_fqdn = "bob.example.net";
    return m;
}

wire::Relay relay() {
    wire::Relay m;
    m.path_id = path_id();
    m.cipher = wire::CipherSuiteId::Aes256Gcm;
    m.tunnel_key = key_from(0x40);
    return m;
}

wire::Body body_of(MessageType type) {
    switch (type) {
        case MessageType::Ack:
        case MessageType::KeepAlive:
        case MessageType::HolePunching:
        case MessageType::GeneralNodeUpdateNotify:
            return wire::EmptyBody{};
        case MessageType::LoginRequest: {
            wire::LoginRequest m;
            m.application_id = application_id();
            m.auth_type = wire::AuthType::Basic;
            m.exec_mode = wire::ExecMode::Adapter;
            m.device_id = "adapter-01";
            m.password = "correct horse battery staple";
            return m;
        }
        case MessageType::LoginResponse: {
            wire::LoginResponse m;
            m.cipher = wire::CipherSuiteId::AesCbcHmacMd5;
            m.expiry = {2026, 3, 31};
            m.virtual_ipv4 = v4("10.64.0.5");
            m.virtual_ipv6 = v6("fd00:cafe::5");
            m.nms_ipv4 = v4("192.0.2.10");
            m.nms_ipv6 = v6("2001:db8::10");
            m.common_key = key_from(0x00);  // the §11 key K
            m.fqdn = "alice.example.net";
            return m;
        }
        case MessageType::RegistrationRequest: {
            wire::RegistrationRequest m;
            m.application_port = 4800;
            m.notification = wire::NotificationType::Fcm;
            m.node_ipv4 = v4("192.168.1.10");
            m.node_ipv6 = v6("2001:db8:1::7");
            return m;
        }
        case MessageType::RegistrationResponse:
            return wire::RegistrationResponse{true};
        case MessageType::DirectionRequest: {
            wire::DirectionRequest m;
            m.application_id = application_id();
            m.path_id = path_id();
            m.responder_fqdn = "bob.example.net";
            return m;  // Certificate empty: version 1 (Q3)
        }
        case MessageType::RouteDirectionToResponder:
        case MessageType::RouteDirectionConfirmation:
        case MessageType::RouteDirectionToInitiator:
            return route_direction();  // C17: the same body all three times
        case MessageType::RelayRequest:
        case MessageType::RelayResponse:
            return relay();
        case MessageType::TunnelRequest:
            return wire::TunnelRequest{bytes_from(0x00, 32)};  // direct: K in clear
        case MessageType::TunnelResponse:
            // Relayed: a 60-byte wrapped End Key (AEAD shape, §5.3). The bytes are a pattern,
            // not a real wrap; the plaintext codec does not look inside.
            return wire::TunnelResponse{bytes_from(0xa0, 60)};
        case MessageType::Capsule:
            return wire::Capsule{std::as_bytes(std::span(kCapsulePacket))};
        case MessageType::Error:
            return wire::Error{static_cast<std::uint16_t>(wire::ErrorCode::UnknownPeer),
                               "unknown peer fqdn=carol.example.net"};
    }
    throw std::logic_error("sample_messages: unknown type");
}

struct HeaderFields {
    std::uint8_t flags;
    std::array<std::byte, 16> id;
};

// Flags and ID per §4.1–§4.3 and D15 in the scenario of the header comment.
HeaderFields header_fields(MessageType type) {
    constexpr std::uint8_t kOk = flag::kSuccess | flag::kResponse;
    switch (type) {
        case MessageType::Ack:  // NMS acknowledges alice's Keep Alive
            return {kOk | flag::kSenderSide, alice_node_id().raw()};
        case MessageType::LoginRequest:
            return {0, {}};
        case MessageType::LoginResponse:  // AS stream: no SENDER_SIDE (D3)
            return {kOk, alice_node_id().raw()};
        case MessageType::RegistrationRequest:
            return {flag::kFirstRegistration, alice_node_id().raw()};
        case MessageType::RegistrationResponse:
            return {kOk | flag::kSenderSide, alice_node_id().raw()};
        case MessageType::KeepAlive:
            return {0, alice_node_id().raw()};
        case MessageType::DirectionRequest:
            return {0, alice_node_id().raw()};
        case MessageType::RouteDirectionToResponder:
            return {flag::kRelayed | flag::kSenderSide, bob_node_id().raw()};
        case MessageType::RouteDirectionConfirmation:
            return {kOk | flag::kRelayed, bob_node_id().raw()};
        case MessageType::RouteDirectionToInitiator:
            return {kOk | flag::kRelayed | flag::kSenderSide, path_id().raw()};
        case MessageType::RelayRequest:
            return {flag::kSenderSide, nms_node_id().raw()};
        case MessageType::RelayResponse:
            return {kOk, trs_node_id().raw()};
        case MessageType::HolePunching:  // the responder punches (§7.3 step 4)
            return {flag::kSenderSide, path_id().raw()};
        case MessageType::TunnelRequest:
            return {0, path_id().raw()};
        case MessageType::TunnelResponse:
            return {kOk | flag::kRelayed | flag::kSenderSide, path_id().raw()};
        case MessageType::Capsule:
            return {0, path_id().raw()};
        case MessageType::GeneralNodeUpdateNotify:
            return {flag::kSenderSide, adapter_node_id().raw()};
        case MessageType::Error:  // NMS: UNKNOWN_PEER for a Direction Request (§7.3)
            return {flag::kResponse | flag::kSenderSide, path_id().raw()};
    }
    throw std::logic_error("sample_messages: unknown type");
}

}  // namespace

NodeId alice_node_id() {
    return id_from_hex<NodeId>("a11ce000000000000000000000000001");
}
NodeId bob_node_id() {
    return id_from_hex<NodeId>("b0b00000000000000000000000000002");
}
NodeId nms_node_id() {
    return id_from_hex<NodeId>("4e4d5300000000000000000000000003");
}
NodeId trs_node_id() {
    return id_from_hex<NodeId>("54525300000000000000000000000004");
}
NodeId adapter_node_id() {
    return id_from_hex<NodeId>("ada97e00000000000000000000000005");
}
PathId path_id() {
    return id_from_hex<PathId>("dd5fcb64b9089d1d47787370c4c08b02");
}
ApplicationId application_id() {
    return id_from_hex<ApplicationId>("c0ffee00c0ffee00c0ffee00c0ffee01");
}

SampleMessage sample_message(wire::MessageType type) {
    const auto fields = header_fields(type);
    SampleMessage m{{}, body_of(type), std::string(wire::to_string(type))};
    m.header.transaction_id = kTransactionId;
    m.header.version = wire::kProtocolVersion;
    m.header.flags = fields.flags;
    m.header.type = type;
    m.header.count = 0;
    m.header.sequence = kSequence;
    m.header.message_length =
        static_cast<std::uint16_t>(wire::kBaseHeaderSize + wire::encoded_size(m.body));
    m.header.next_opt = 0;
    m.header.id = fields.id;
    return m;
}

std::vector<SampleMessage> sample_messages() {
    std::vector<SampleMessage> out;
    for (std::uint8_t t = wire::kFirstMessageType; t <= wire::kLastMessageType; ++t) {
        out.push_back(sample_message(static_cast<MessageType>(t)));
    }
    return out;
}

Bytes plaintext(const SampleMessage& m) {
    Bytes out(wire::kBaseHeaderSize + wire::encoded_size(m.body));
    wire::encode(m.header, std::span(out).first<wire::kBaseHeaderSize>());
    if (wire::encode(m.body, std::span(out).subspan(wire::kBaseHeaderSize)) !=
        out.size() - wire::kBaseHeaderSize) {
        throw std::logic_error("sample_messages: body did not encode");
    }
    return out;
}

}  // namespace cyphonic::samples
