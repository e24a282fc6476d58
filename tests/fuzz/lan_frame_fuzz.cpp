// adapterd_lan: any frame through classify() and, for control kinds, Responder::handle() with a
// lookup that knows one MAC. No crash, no exception, every call counted, and a reply only for
// a frame classify() accepted as a control frame.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>

#include "lan/frame.hpp"
#include "lan/responder.hpp"

namespace {

using cyphonic::adapterd::lan::Binding;
using cyphonic::adapterd::lan::FrameKind;
using cyphonic::adapterd::lan::LinkConfig;
using cyphonic::adapterd::lan::MacAddress;
using cyphonic::adapterd::lan::Responder;

Responder make_responder() {
    LinkConfig config;
    config.adapter_mac = *MacAddress::parse("02:00:00:00:00:01");
    config.gateway_v4 = *cyphonic::Ipv4Address::parse("10.20.0.1");
    config.gateway_v6 = cyphonic::Ipv6Address::parse("fd00:20::1");
    config.link_local = *cyphonic::Ipv6Address::parse("fe80::1");
    config.v6_prefix = cyphonic::Ipv6Address::parse("fd00:20::");
    config.domain = "overlay.example";
    const MacAddress known = *MacAddress::parse("52:54:00:12:34:56");
    return Responder(
        config,
        [known](const MacAddress& mac) -> std::optional<Binding> {
            if (mac != known) {
                return std::nullopt;
            }
            return Binding{mac, cyphonic::Ipv4Address::parse("10.20.0.5"),
                           cyphonic::Ipv6Address::parse("fd00:20::5"), "gn1"};
        },
        [](const cyphonic::IpAddress& target, const MacAddress&) {
            return target == cyphonic::IpAddress(*cyphonic::Ipv4Address::parse("10.20.0.9")) ||
                   target == cyphonic::IpAddress(*cyphonic::Ipv6Address::parse("fd00:20::9"));
        });
}

std::uint64_t total(const Responder& responder) {
    std::uint64_t sum = 0;
    for (const auto& entry : responder.counters()) {
        sum += entry.second;
    }
    return sum;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const cyphonic::ByteView frame(reinterpret_cast<const std::byte*>(data), size);  // NOLINT
    const auto info = cyphonic::adapterd::lan::classify(frame);
    if (!info) {
        return 0;
    }
    if (info->l3_offset + info->l3_size > size) {
        std::abort();  // classify() promised the IP packet fits the frame
    }
    const bool control = info->kind == FrameKind::Arp || info->kind == FrameKind::Dhcp4 ||
                         info->kind == FrameKind::Dhcp6 || info->kind == FrameKind::Ndp;
    if (!control) {
        return 0;
    }
    static Responder responder = make_responder();
    const std::uint64_t before = total(responder);
    const auto reply = responder.handle(frame);
    if (total(responder) != before + 1) {
        std::abort();  // every call is counted exactly once
    }
    if (reply) {
        for (const auto& out : reply->frames) {
            if (!cyphonic::adapterd::lan::classify(out)) {
                std::abort();  // what we send must pass our own checks
            }
        }
    }
    return 0;
}
