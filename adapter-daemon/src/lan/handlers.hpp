#pragma once
// Private to adapterd_lan: one function per protocol, called by Responder::dispatch with a frame
// classify() accepted. They may throw (libtins throws on malformed input); the Responder turns
// any exception into the drop reason "malformed".

#include <string_view>

#include "lan/frame.hpp"
#include "lan/responder.hpp"

#include "cyphonic/core/bytes.hpp"
#include "cyphonic/core/expected.hpp"

namespace cyphonic::adapterd::lan::detail {

struct Context {
    const LinkConfig& config;
    const BindingLookup& lookup;
    const ProxyPredicate& proxy;
};

using Result = Expected<Reply, std::string_view>;

[[nodiscard]] Result handle_arp(const Context& ctx, ByteView frame, const FrameInfo& info);
[[nodiscard]] Result handle_dhcp4(const Context& ctx, ByteView frame, const FrameInfo& info);
[[nodiscard]] Result handle_dhcp6(const Context& ctx, ByteView frame, const FrameInfo& info);
[[nodiscard]] Result handle_ndp(const Context& ctx, ByteView frame, const FrameInfo& info);

// The RA of handle_ndp and Responder::router_advertisement.
[[nodiscard]] Bytes build_router_advertisement(const LinkConfig& config, const MacAddress& dst_mac,
                                               const Ipv6Address& dst);

[[nodiscard]] inline Reply event(std::string_view name) {
    return Reply{{}, name};
}

}  // namespace cyphonic::adapterd::lan::detail
