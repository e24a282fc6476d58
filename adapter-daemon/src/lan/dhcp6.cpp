// Stateful DHCPv6 server for general nodes (RFC 8415; PROTOCOL.md §7.10 step 2): the node's
// virtual IPv6 in an IA_NA, bound by the Ethernet source MAC; the gateway's virtual IPv6 as DNS
// server. Replies go from the adapter's link-local address to the client's, Ethernet unicast.
#include <algorithm>
#include <vector>

#include <tins/dhcpv6.h>
#include <tins/ethernetII.h>
#include <tins/ipv6.h>
#include <tins/udp.h>

#include "lan/handlers.hpp"
#include "lan/tins_util.hpp"

namespace cyphonic::adapterd::lan::detail {
namespace {

using Option = Tins::DHCPv6::option;
using OptionBytes = std::vector<std::uint8_t>;

constexpr std::size_t kUdpHeader = 8;
constexpr std::uint16_t kServerPort = 547;
constexpr std::uint16_t kClientPort = 546;
constexpr std::uint8_t kHopLimit = 64;
constexpr std::uint16_t kDuidLl = 3;
constexpr std::uint16_t kHwEthernet = 1;
constexpr std::size_t kIaNaHeader = 12;  // IAID, T1, T2
constexpr std::uint8_t kMaxPreference = 255;

// RFC 8415 §21.13 status codes.
constexpr std::uint16_t kSuccess = 0;
constexpr std::uint16_t kNoAddrsAvail = 2;
constexpr std::uint16_t kNotOnLink = 4;

void put16(OptionBytes& out, std::uint32_t v) {
    out.push_back(static_cast<std::uint8_t>((v >> 8U) & 0xFFU));
    out.push_back(static_cast<std::uint8_t>(v & 0xFFU));
}
void put32(OptionBytes& out, std::uint32_t v) {
    put16(out, v >> 16U);
    put16(out, v & 0xFFFFU);
}
void put_address(OptionBytes& out, const Ipv6Address& a) {
    std::transform(a.bytes.begin(), a.bytes.end(), std::back_inserter(out),
                   [](std::byte b) { return static_cast<std::uint8_t>(b); });
}
// A nested option (inside IA_NA): code, length, data.
void put_option(OptionBytes& out, std::uint16_t code, const OptionBytes& data) {
    put16(out, code);
    put16(out, static_cast<std::uint32_t>(data.size()));
    out.insert(out.end(), data.begin(), data.end());
}
OptionBytes status_data(std::uint16_t code, std::string_view message) {
    OptionBytes data;
    put16(data, code);
    data.insert(data.end(), message.begin(), message.end());
    return data;
}

std::uint32_t iaid_of(const Option& ia_na) {
    const std::uint8_t* p = ia_na.data_ptr();
    return (std::uint32_t{p[0]} << 24U) | (std::uint32_t{p[1]} << 16U) |
           (std::uint32_t{p[2]} << 8U) | std::uint32_t{p[3]};
}

// The IA_ADDR addresses inside a client's IA_NA; nullopt when its nested options overrun it.
std::optional<std::vector<Ipv6Address>> addresses_in(const Option& ia_na) {
    std::vector<Ipv6Address> out;
    const std::uint8_t* p = ia_na.data_ptr();
    std::size_t at = kIaNaHeader;
    const std::size_t size = ia_na.data_size();
    while (at < size) {
        if (size - at < 4) {
            return std::nullopt;
        }
        const unsigned code = (unsigned{p[at]} << 8U) | p[at + 1];
        const std::size_t length = (std::size_t{p[at + 2]} << 8U) | p[at + 3];
        at += 4;
        if (length > size - at) {
            return std::nullopt;
        }
        if (code == Tins::DHCPv6::IA_ADDR && length >= 16) {
            Ipv6Address a;
            std::transform(p + at, p + at + 16, a.bytes.begin(),
                           [](std::uint8_t b) { return static_cast<std::byte>(b); });
            out.push_back(a);
        }
        at += length;
    }
    return out;
}

// RFC 1035 §3.1 name encoding for option 24 (RFC 3646).
OptionBytes encode_domain(std::string_view domain) {
    OptionBytes out;
    while (!domain.empty()) {
        const std::size_t dot = domain.find('.');
        const std::string_view label = domain.substr(0, dot);
        if (!label.empty() && label.size() <= 63) {
            out.push_back(static_cast<std::uint8_t>(label.size()));
            out.insert(out.end(), label.begin(), label.end());
        }
        domain = dot == std::string_view::npos ? std::string_view() : domain.substr(dot + 1);
    }
    out.push_back(0);
    return out;
}

OptionBytes server_duid(const LinkConfig& config) {
    OptionBytes duid;
    put16(duid, kDuidLl);
    put16(duid, kHwEthernet);
    std::transform(config.adapter_mac.bytes.begin(), config.adapter_mac.bytes.end(),
                   std::back_inserter(duid),
                   [](std::byte b) { return static_cast<std::uint8_t>(b); });
    return duid;
}

Option make_option(Tins::DHCPv6::OptionTypes code, const OptionBytes& data) {
    return {static_cast<std::uint16_t>(code), data.begin(), data.end()};
}

// An IA_NA for the client's IAID: the bound address, or a NoAddrsAvail status when `address` is
// empty (a second IA_NA: a general node has one virtual IPv6).
Option make_ia_na(const LinkConfig& config, std::uint32_t iaid,
                  const std::optional<Ipv6Address>& address) {
    const std::uint64_t lease = config.lease_s;
    OptionBytes data;
    put32(data, iaid);
    put32(data, address ? static_cast<std::uint32_t>(lease / 2) : 0U);
    put32(data, address ? static_cast<std::uint32_t>(lease * 7 / 8) : 0U);
    if (address) {
        OptionBytes ia_addr;
        put_address(ia_addr, *address);
        put32(ia_addr, config.lease_s);  // preferred lifetime
        put32(ia_addr, config.lease_s);  // valid lifetime
        put_option(data, Tins::DHCPv6::IA_ADDR, ia_addr);
    } else {
        put_option(data, Tins::DHCPv6::STATUS_CODE, status_data(kNoAddrsAvail, "one address"));
    }
    return make_option(Tins::DHCPv6::IA_NA, data);
}

Bytes send(const LinkConfig& config, const FrameInfo& info, Tins::DHCPv6& reply) {
    Tins::EthernetII eth(to_tins(info.src), to_tins(config.adapter_mac));
    Tins::IPv6 ip(to_tins(info.ip_src.v6()), to_tins(config.link_local));
    ip.hop_limit(kHopLimit);
    Tins::UDP udp(kClientPort, kServerPort);
    Tins::EthernetII frame = eth / ip / udp / reply;
    return serialize(frame);
}

}  // namespace

Result handle_dhcp6(const Context& ctx, ByteView frame, const FrameInfo& info) {
    const ByteView udp = frame.subspan(info.l4_offset);
    const std::size_t udp_length =
        (static_cast<std::size_t>(udp[4]) << 8U) | static_cast<std::size_t>(udp[5]);
    const ByteView payload = udp.subspan(kUdpHeader, udp_length - kUdpHeader);
    if (payload.empty()) {
        return fail(std::string_view("malformed"));
    }
    const Ipv6Address& client = info.ip_src.v6();
    if (client.is_unspecified() || client.bytes[0] == std::byte{0xff}) {
        return fail(std::string_view("bad_dhcp6_source"));  // nowhere to send a reply
    }
    const Tins::DHCPv6 request(data_of(payload), size_of(payload));
    if (request.is_relay_message()) {
        return fail(std::string_view("dhcp6_relay"));  // no relays on the internal link
    }
    // The raw byte, not msg_type(): libtins returns it as an enum, and an unknown value loaded
    // as that enum is undefined behaviour.
    const auto type = static_cast<std::uint8_t>(payload[0]);
    switch (type) {
        case Tins::DHCPv6::SOLICIT:
        case Tins::DHCPv6::REQUEST:
        case Tins::DHCPv6::CONFIRM:
        case Tins::DHCPv6::RENEW:
        case Tins::DHCPv6::REBIND:
        case Tins::DHCPv6::RELEASE:
        case Tins::DHCPv6::DECLINE:
        case Tins::DHCPv6::INFO_REQUEST:
            break;
        case Tins::DHCPv6::ADVERTISE:
        case Tins::DHCPv6::REPLY:
        case Tins::DHCPv6::RECONFIGURE:
            return event("ignored_dhcp6");  // server messages: another server's business
        default:
            return fail(std::string_view("dhcp6_unknown_message_type"));
    }

    const Option* client_id = request.search_option(Tins::DHCPv6::CLIENTID);
    if (client_id == nullptr && type != Tins::DHCPv6::INFO_REQUEST) {
        return fail(std::string_view("dhcp6_no_client_id"));
    }
    // RFC 8415 §16: Request, Renew, Release and Decline name their server; the others may not
    // name another one.
    const OptionBytes duid = server_duid(ctx.config);
    const Option* server_id = request.search_option(Tins::DHCPv6::SERVERID);
    const bool ours = server_id != nullptr && server_id->data_size() == duid.size() &&
                      std::equal(duid.begin(), duid.end(), server_id->data_ptr());
    const bool needs_server_id = type == Tins::DHCPv6::REQUEST || type == Tins::DHCPv6::RENEW ||
                                 type == Tins::DHCPv6::RELEASE || type == Tins::DHCPv6::DECLINE;
    if ((needs_server_id && !ours) || (server_id != nullptr && !ours)) {
        return event("ignored_dhcp6_other_server");
    }

    const auto binding = ctx.lookup ? ctx.lookup(info.src) : std::nullopt;
    if (!binding || (!binding->v6 && type != Tins::DHCPv6::INFO_REQUEST)) {
        return fail(std::string_view("unknown_mac"));
    }

    Tins::DHCPv6 reply;
    reply.transaction_id(request.transaction_id());
    reply.msg_type(Tins::DHCPv6::REPLY);
    reply.add_option(make_option(Tins::DHCPv6::SERVERID, duid));
    if (client_id != nullptr) {
        reply.add_option(*client_id);
    }

    std::string_view name = "dhcp6_reply";
    switch (type) {
        case Tins::DHCPv6::CONFIRM: {
            // RFC 8415 §18.3.3: Success when every address is the bound one, else NotOnLink; no
            // IA in the Reply.
            bool on_link = true;
            for (const Option& opt : request.options()) {
                if (opt.option() != Tins::DHCPv6::IA_NA) {
                    continue;
                }
                if (opt.data_size() < kIaNaHeader) {
                    return fail(std::string_view("malformed"));
                }
                const auto addresses = addresses_in(opt);
                if (!addresses) {
                    return fail(std::string_view("malformed"));
                }
                on_link = on_link && std::all_of(addresses->begin(), addresses->end(),
                                                 [&](const auto& a) { return a == *binding->v6; });
            }
            reply.add_option(make_option(
                Tins::DHCPv6::STATUS_CODE,
                on_link ? status_data(kSuccess, "") : status_data(kNotOnLink, "not on link")));
            return Reply{{send(ctx.config, info, reply)}, "dhcp6_confirm"};
        }
        case Tins::DHCPv6::RELEASE:
        case Tins::DHCPv6::DECLINE:
            reply.add_option(make_option(Tins::DHCPv6::STATUS_CODE, status_data(kSuccess, "")));
            return Reply{{send(ctx.config, info, reply)},
                         type == Tins::DHCPv6::RELEASE ? "dhcp6_release" : "dhcp6_decline"};
        case Tins::DHCPv6::INFO_REQUEST:
            name = "dhcp6_information";
            break;
        default: {
            // Solicit, Request, Renew, Rebind: echo every IA_NA; the first holds the address.
            bool first = true;
            for (const Option& opt : request.options()) {
                if (opt.option() != Tins::DHCPv6::IA_NA) {
                    continue;
                }
                if (opt.data_size() < kIaNaHeader) {
                    return fail(std::string_view("malformed"));
                }
                reply.add_option(
                    make_ia_na(ctx.config, iaid_of(opt), first ? binding->v6 : std::nullopt));
                first = false;
            }
            if (type == Tins::DHCPv6::SOLICIT) {
                if (request.has_rapid_commit()) {
                    reply.rapid_commit();  // RFC 8415 §18.3.1: Reply at once
                } else {
                    reply.msg_type(Tins::DHCPv6::ADVERTISE);
                    reply.preference(kMaxPreference);  // the only server: no need to wait
                    name = "dhcp6_advertise";
                }
            }
            break;
        }
    }
    if (ctx.config.gateway_v6) {
        OptionBytes dns;
        put_address(dns, *ctx.config.gateway_v6);
        reply.add_option(make_option(Tins::DHCPv6::DNS_SERVERS, dns));
    }
    if (!ctx.config.domain.empty()) {
        reply.add_option(make_option(Tins::DHCPv6::DOMAIN_LIST, encode_domain(ctx.config.domain)));
    }
    return Reply{{send(ctx.config, info, reply)}, name};
}

}  // namespace cyphonic::adapterd::lan::detail
