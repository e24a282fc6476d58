#include "lan/responder.hpp"

#include <exception>
#include <utility>

#include "lan/handlers.hpp"
#include "lan/tins_util.hpp"

namespace cyphonic::adapterd::lan {

Responder::Responder(LinkConfig config, BindingLookup lookup, ProxyPredicate proxy)
    : config_(std::move(config)), lookup_(std::move(lookup)), proxy_(std::move(proxy)) {}

Expected<Reply, std::string_view> Responder::handle(ByteView frame) {
    const auto info = classify(frame);
    if (!info.has_value()) {
        count(info.error());
        return fail(info.error());
    }
    return handle(frame, *info);
}

Expected<Reply, std::string_view> Responder::handle(ByteView frame, const FrameInfo& info) {
    auto result = dispatch(frame, info);
    count(result.has_value() ? result->event : result.error());
    return result;
}

Expected<Reply, std::string_view> Responder::dispatch(ByteView frame, const FrameInfo& info) {
    const detail::Context ctx{config_, lookup_, proxy_};
    // libtins throws on malformed input (malformed_packet, option_not_found, runtime_error...);
    // no exception crosses the packet path (STYLE.md §3).
    try {
        switch (info.kind) {
            case FrameKind::Arp:
                return detail::handle_arp(ctx, frame, info);
            case FrameKind::Dhcp4:
                return detail::handle_dhcp4(ctx, frame, info);
            case FrameKind::Dhcp6:
                return detail::handle_dhcp6(ctx, frame, info);
            case FrameKind::Ndp:
                return detail::handle_ndp(ctx, frame, info);
            case FrameKind::Ipv4:
            case FrameKind::Ipv6:
            case FrameKind::Other:
                break;
        }
        return fail(std::string_view("not_control_frame"));
    } catch (const std::bad_alloc&) {
        return fail(std::string_view("internal_error"));
    } catch (...) {
        return fail(std::string_view("malformed"));
    }
}

Bytes Responder::router_advertisement() const {
    return detail::build_router_advertisement(config_, detail::all_nodes_mac(),
                                              detail::all_nodes());
}

void Responder::count(std::string_view name) {
    if (const auto it = counters_.find(name); it != counters_.end()) {
        ++it->second;
        return;
    }
    counters_.emplace(std::string(name), 1);
}

}  // namespace cyphonic::adapterd::lan
