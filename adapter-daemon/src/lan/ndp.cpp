// Router Solicitation → Router Advertisement and proxy Neighbor Discovery (RFC 4861; PROTOCOL.md
// §7.10 steps 2 and 6). The adapter is the general nodes' router: M=1 and O=1 send them to
// DHCPv6 for their address; the overlay prefix is announced on-link (L=1) but not for SLAAC
// (A=0). Neighbor Solicitations for a peer's virtual IPv6 get the adapter's MAC.
#include <tins/ethernetII.h>
#include <tins/icmpv6.h>
#include <tins/ipv6.h>

#include "lan/handlers.hpp"
#include "lan/tins_util.hpp"

namespace cyphonic::adapterd::lan::detail {
namespace {

constexpr std::uint8_t kNdHopLimit = 255;
constexpr std::uint8_t kCurHopLimit = 64;
constexpr std::size_t kIpv6Header = 40;

bool is_multicast(const Ipv6Address& a) {
    return a.bytes[0] == std::byte{0xff};
}

// RFC 4861 §7.1.1: NS target not multicast; from ::, no source link-layer option and a
// solicited-node destination. §6.1.1 for RS: from ::, no source link-layer option.
bool has_source_lladdr(const Tins::ICMPv6& icmp) {
    return icmp.search_option(Tins::ICMPv6::SOURCE_ADDRESS) != nullptr;
}

// Only ever called for a specified, unicast asker (DAD is not answered), so the NA is solicited
// and unicast back to it.
Bytes build_na(const LinkConfig& config, const FrameInfo& info, const Ipv6Address& target) {
    Tins::ICMPv6 na(Tins::ICMPv6::NEIGHBOUR_ADVERT);
    na.router(1);
    na.solicited(1);
    na.override(1);
    na.target_addr(to_tins(target));
    na.target_link_layer_addr(to_tins(config.adapter_mac));
    Tins::EthernetII eth(to_tins(info.src), to_tins(config.adapter_mac));
    Tins::IPv6 ip(to_tins(info.ip_src.v6()), to_tins(config.link_local));
    ip.hop_limit(kNdHopLimit);
    Tins::EthernetII frame = eth / ip / na;
    return serialize(frame);
}

}  // namespace

Bytes build_router_advertisement(const LinkConfig& config, const MacAddress& dst_mac,
                                 const Ipv6Address& dst) {
    Tins::ICMPv6 ra(Tins::ICMPv6::ROUTER_ADVERT);
    ra.hop_limit(kCurHopLimit);
    ra.managed(1);
    ra.other(1);
    ra.router_lifetime(config.router_lifetime_s);
    ra.reachable_time(0);
    ra.retransmit_timer(0);
    ra.source_link_layer_addr(to_tins(config.adapter_mac));
    ra.mtu(Tins::ICMPv6::mtu_type(0, config.mtu));
    if (config.v6_prefix) {
        ra.prefix_info(Tins::ICMPv6::prefix_info_type(config.v6_prefix_len, /*A=*/0, /*L=*/1,
                                                      config.lease_s, config.lease_s,
                                                      to_tins(*config.v6_prefix)));
    }
    Tins::EthernetII eth(to_tins(dst_mac), to_tins(config.adapter_mac));
    Tins::IPv6 ip(to_tins(dst), to_tins(config.link_local));
    ip.hop_limit(kNdHopLimit);
    Tins::EthernetII frame = eth / ip / ra;
    return serialize(frame);
}

Result handle_ndp(const Context& ctx, ByteView frame, const FrameInfo& info) {
    const ByteView l3 = frame.subspan(info.l3_offset, info.l3_size);
    if (static_cast<std::uint8_t>(l3[7]) != kNdHopLimit) {
        return fail(std::string_view("bad_nd_hop_limit"));  // RFC 4861: off-link forgery
    }
    const ByteView message = l3.subspan(kIpv6Header);
    const Tins::ICMPv6 icmp(data_of(message), size_of(message));
    if (icmp.code() != 0) {
        return fail(std::string_view("bad_nd"));
    }
    const Ipv6Address& source = info.ip_src.v6();
    if (is_multicast(source)) {
        return fail(std::string_view("bad_nd"));
    }

    if (icmp.type() == Tins::ICMPv6::ROUTER_SOLICIT) {
        if (source.is_unspecified() && has_source_lladdr(icmp)) {
            return fail(std::string_view("bad_nd"));
        }
        const bool to_all = source.is_unspecified();
        return Reply{{build_router_advertisement(ctx.config, to_all ? all_nodes_mac() : info.src,
                                                 to_all ? all_nodes() : source)},
                     "ra_solicited"};
    }

    // Neighbor Solicitation.
    const Ipv6Address target = from_tins(icmp.target_addr());
    if (is_multicast(target) || (source.is_unspecified() && has_source_lladdr(icmp))) {
        return fail(std::string_view("bad_nd"));
    }
    // Duplicate address detection (source ::) is never answered: the node is probing an address
    // for itself, and an answer would make it give the address up. Nor is a node's question
    // about its own address.
    if (source.is_unspecified() || target == source) {
        return event("ignored_ns");
    }
    if (ctx.lookup) {
        if (const auto binding = ctx.lookup(info.src); binding && binding->v6 == target) {
            return event("ignored_ns");
        }
    }
    std::string_view name;
    if ((ctx.config.gateway_v6 && target == *ctx.config.gateway_v6) ||
        target == ctx.config.link_local) {
        name = "na_gateway";
    } else if (ctx.proxy && ctx.proxy(IpAddress(target), info.src)) {
        name = "na_proxy";
    } else {
        return event("ignored_ns");
    }
    return Reply{{build_na(ctx.config, info, target)}, name};
}

}  // namespace cyphonic::adapterd::lan::detail
