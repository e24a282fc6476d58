// Proxy ARP (PROTOCOL.md §7.10 step 6): the general node ARPs for a peer's virtual IPv4, which
// looks on-link to it, and for the gateway; the adapter answers with its own MAC.
#include <tins/arp.h>
#include <tins/ethernetII.h>

#include "lan/handlers.hpp"
#include "lan/tins_util.hpp"

namespace cyphonic::adapterd::lan::detail {
namespace {
constexpr std::size_t kArpSize = 28;
constexpr std::uint16_t kHwEthernet = 1;
}  // namespace

Result handle_arp(const Context& ctx, ByteView frame, const FrameInfo& info) {
    const ByteView body = frame.subspan(info.l3_offset);
    if (body.size() < kArpSize) {
        return fail(std::string_view("bad_arp"));
    }
    const Tins::ARP arp(data_of(body), size_of(body));
    if (arp.hw_addr_format() != kHwEthernet || arp.prot_addr_format() != kEthertypeIpv4 ||
        arp.hw_addr_length() != 6 || arp.prot_addr_length() != 4) {
        return fail(std::string_view("bad_arp"));
    }
    if (arp.opcode() == Tins::ARP::REPLY) {
        return event("ignored_arp");  // replies, gratuitous or not
    }
    if (arp.opcode() != Tins::ARP::REQUEST) {
        return fail(std::string_view("bad_arp_opcode"));
    }
    const MacAddress sender_mac = from_tins(arp.sender_hw_addr());
    if (sender_mac != info.src) {
        return fail(std::string_view("arp_sender_mismatch"));
    }
    const Ipv4Address sender = from_tins(arp.sender_ip_addr());
    const Ipv4Address target = from_tins(arp.target_ip_addr());
    // Gratuitous ARP (sender == target) and probes (sender 0.0.0.0, RFC 5227) are never
    // answered: an answer would tell the node its own address is taken.
    if (target.is_unspecified()) {
        return fail(std::string_view("bad_arp_target"));  // nobody is 0.0.0.0
    }
    if (sender == target || sender.is_unspecified()) {
        return event("ignored_arp");
    }
    if (ctx.lookup) {
        if (const auto binding = ctx.lookup(info.src); binding && binding->v4 == target) {
            return event("ignored_arp");
        }
    }
    std::string_view name;
    if (!ctx.config.gateway_v4.is_unspecified() && target == ctx.config.gateway_v4) {
        name = "arp_gateway";
    } else if (ctx.proxy && ctx.proxy(IpAddress(target), info.src)) {
        name = "arp_proxy";
    } else {
        return event("ignored_arp");
    }
    Tins::EthernetII reply = Tins::ARP::make_arp_reply(
        to_tins(sender), to_tins(target), to_tins(sender_mac), to_tins(ctx.config.adapter_mac));
    reply.dst_addr(to_tins(info.src));
    reply.src_addr(to_tins(ctx.config.adapter_mac));
    return Reply{{serialize(reply)}, name};
}

}  // namespace cyphonic::adapterd::lan::detail
