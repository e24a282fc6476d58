// DHCPv4 server for general nodes (RFC 2131; PROTOCOL.md §7.10 step 2): a static binding by MAC
// to the node's virtual IPv4, the gateway as router and DNS server. Renewals, rebinding and
// init-reboot always get the bound address, so a node that comes back after its lease expired
// keeps it.
#include <algorithm>
#include <vector>

#include <tins/dhcp.h>
#include <tins/ethernetII.h>
#include <tins/ip.h>
#include <tins/udp.h>

#include "lan/handlers.hpp"
#include "lan/tins_util.hpp"

namespace cyphonic::adapterd::lan::detail {
namespace {

constexpr std::size_t kUdpHeader = 8;
constexpr std::uint16_t kServerPort = 67;
constexpr std::uint16_t kClientPort = 68;
constexpr std::uint16_t kBroadcastFlag = 0x8000;
constexpr std::uint8_t kTtl = 64;
// RFC 1542 §3.4 / RFC 2131 §2: some clients and relays want at least a 300-byte BOOTP message.
constexpr std::uint32_t kMinBootpSize = 300;
constexpr std::uint8_t kOptionMtu = 26;

enum class Kind { Offer, Ack, Nak, InformAck };

Ipv4Address mask_from_prefix(std::uint8_t prefix_len) {
    const unsigned len = std::min<unsigned>(prefix_len, 32U);
    const std::uint32_t mask = len == 0 ? 0U : ~std::uint32_t{0} << (32U - len);
    Ipv4Address out;
    for (std::size_t i = 0; i < out.bytes.size(); ++i) {
        out.bytes[i] = static_cast<std::byte>((mask >> (24U - 8U * i)) & 0xFFU);
    }
    return out;
}

Tins::IPv4Address any_v4() {
    return Tins::IPv4Address(std::uint32_t{0});
}

Bytes build_reply(const LinkConfig& config, const Tins::DHCP& request, const FrameInfo& info,
                  Kind kind, const Ipv4Address& bound, const std::string& hostname) {
    Tins::DHCP reply;
    reply.opcode(Tins::BootP::BOOTREPLY);
    reply.htype(1);
    reply.hlen(6);
    reply.xid(request.xid());
    reply.padding(request.padding());  // the flags field: echo the broadcast bit
    reply.giaddr(request.giaddr());
    reply.chaddr(request.chaddr());
    const bool keep_ciaddr = kind == Kind::Ack || kind == Kind::InformAck;
    reply.ciaddr(keep_ciaddr ? request.ciaddr() : any_v4());
    reply.yiaddr(kind == Kind::Offer || kind == Kind::Ack ? to_tins(bound) : any_v4());

    switch (kind) {
        case Kind::Offer:
            reply.type(Tins::DHCP::OFFER);
            break;
        case Kind::Ack:
        case Kind::InformAck:
            reply.type(Tins::DHCP::ACK);
            break;
        case Kind::Nak:
            reply.type(Tins::DHCP::NAK);
            break;
    }
    reply.server_identifier(to_tins(config.gateway_v4));
    if (kind != Kind::Nak) {
        if (kind != Kind::InformAck) {  // RFC 2131 §4.3.5: no lease for DHCPINFORM
            const std::uint64_t lease = config.lease_s;
            reply.lease_time(config.lease_s);
            reply.renewal_time(static_cast<std::uint32_t>(lease / 2));
            reply.rebind_time(static_cast<std::uint32_t>(lease * 7 / 8));
        }
        reply.subnet_mask(to_tins(mask_from_prefix(config.v4_prefix_len)));
        reply.routers({to_tins(config.gateway_v4)});
        reply.domain_name_servers({to_tins(config.gateway_v4)});
        const std::array<std::uint8_t, 2> mtu{static_cast<std::uint8_t>(config.mtu >> 8U),
                                              static_cast<std::uint8_t>(config.mtu & 0xFFU)};
        reply.add_option(Tins::DHCP::option(static_cast<Tins::DHCP::OptionTypes>(kOptionMtu),
                                            mtu.size(), mtu.data()));
        if (!config.domain.empty()) {
            reply.domain_name(config.domain);
        }
        if (!hostname.empty() && kind != Kind::InformAck) {
            reply.hostname(hostname);
        }
    }
    reply.end();
    while (reply.header_size() < kMinBootpSize) {
        reply.add_option(Tins::DHCP::option(Tins::DHCP::PAD));  // zeros after END
    }

    // RFC 2131 §4.1 as the adapter applies it: broadcast when the client asked for it, has no
    // address yet, or is being NAKed; otherwise unicast to ciaddr and chaddr.
    const bool broadcast = kind == Kind::Nak || (request.padding() & kBroadcastFlag) != 0 ||
                           request.ciaddr() == any_v4();
    Tins::EthernetII eth(to_tins(broadcast ? kBroadcastMac : info.src),
                         to_tins(config.adapter_mac));
    Tins::IP ip(broadcast ? Tins::IPv4Address("255.255.255.255") : request.ciaddr(),
                to_tins(config.gateway_v4));
    ip.ttl(kTtl);
    Tins::UDP udp(kClientPort, kServerPort);
    Tins::EthernetII frame = eth / ip / udp / reply;
    return serialize(frame);
}

}  // namespace

Result handle_dhcp4(const Context& ctx, ByteView frame, const FrameInfo& info) {
    // classify() checked that the UDP length fits the IP packet.
    const ByteView udp = frame.subspan(info.l4_offset);
    const std::size_t udp_length =
        (static_cast<std::size_t>(udp[4]) << 8U) | static_cast<std::size_t>(udp[5]);
    const ByteView payload = udp.subspan(kUdpHeader, udp_length - kUdpHeader);
    const Tins::DHCP request(data_of(payload), size_of(payload));

    if (request.opcode() != Tins::BootP::BOOTREQUEST || request.htype() != 1 ||
        request.hlen() != 6) {
        return fail(std::string_view("not_bootrequest"));
    }
    const auto chaddr = request.chaddr();
    if (!std::equal(
            info.src.bytes.begin(), info.src.bytes.end(), chaddr.begin(),
            [](std::byte a, std::uint8_t b) { return static_cast<std::uint8_t>(a) == b; })) {
        return fail(std::string_view("chaddr_mismatch"));
    }
    const Tins::DHCP::option* type_option = request.search_option(Tins::DHCP::DHCP_MESSAGE_TYPE);
    if (type_option == nullptr || type_option->data_size() != 1) {
        return fail(std::string_view("dhcp4_no_message_type"));  // plain BOOTP is not served
    }
    const std::uint8_t type = *type_option->data_ptr();
    if (type == Tins::DHCP::OFFER || type == Tins::DHCP::ACK || type == Tins::DHCP::NAK) {
        return event("ignored_dhcp4");  // server messages, not for us
    }

    const auto binding = ctx.lookup ? ctx.lookup(info.src) : std::nullopt;
    if (!binding || !binding->v4) {
        return fail(std::string_view("unknown_mac"));
    }
    const Ipv4Address bound = *binding->v4;

    const Tins::DHCP::option* server_option =
        request.search_option(Tins::DHCP::DHCP_SERVER_IDENTIFIER);
    const bool other_server =
        server_option != nullptr &&
        (server_option->data_size() != 4 ||
         !std::equal(ctx.config.gateway_v4.bytes.begin(), ctx.config.gateway_v4.bytes.end(),
                     server_option->data_ptr(), [](std::byte a, std::uint8_t b) {
                         return static_cast<std::uint8_t>(a) == b;
                     }));

    switch (type) {
        case Tins::DHCP::DISCOVER:
            return Reply{
                {build_reply(ctx.config, request, info, Kind::Offer, bound, binding->hostname)},
                "dhcp4_offer"};
        case Tins::DHCP::REQUEST: {
            if (other_server) {
                return event("ignored_dhcp4_other_server");  // the client chose another offer
            }
            // Selecting / init-reboot name the address in option 50; renewing / rebinding in
            // ciaddr. Either way only the bound address is acceptable.
            const Tins::DHCP::option* requested_option =
                request.search_option(Tins::DHCP::DHCP_REQUESTED_ADDRESS);
            Ipv4Address requested = from_tins(request.ciaddr());
            if (requested_option != nullptr) {
                if (requested_option->data_size() != 4) {
                    return fail(std::string_view("malformed"));
                }
                std::transform(requested_option->data_ptr(), requested_option->data_ptr() + 4,
                               requested.bytes.begin(),
                               [](std::uint8_t b) { return static_cast<std::byte>(b); });
            }
            if (!requested.is_unspecified() && requested != bound) {
                return Reply{{build_reply(ctx.config, request, info, Kind::Nak, bound, {})},
                             "dhcp4_nak"};
            }
            return Reply{
                {build_reply(ctx.config, request, info, Kind::Ack, bound, binding->hostname)},
                "dhcp4_ack"};
        }
        case Tins::DHCP::INFORM:
            return Reply{{build_reply(ctx.config, request, info, Kind::InformAck, bound, {})},
                         "dhcp4_inform"};
        case Tins::DHCP::RELEASE:
            return event("dhcp4_release");
        case Tins::DHCP::DECLINE:
            return event("dhcp4_decline");
        default:
            return fail(std::string_view("dhcp4_unknown_message_type"));  // no client sends it
    }
}

}  // namespace cyphonic::adapterd::lan::detail
