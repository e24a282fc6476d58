#include "route.hpp"

namespace cyphonic::nms {

namespace {

bool trs_serves(const std::optional<TrsAddresses>& trs, bool v6) {
    return trs && (v6 ? !trs->ipv6.is_unspecified() : !trs->ipv4.is_unspecified());
}

// The family an end uses towards the TRS: IPv6 when both have it (C15), else IPv4.
std::optional<bool> trs_family(const Location& end, const std::optional<TrsAddresses>& trs) {
    if (end.v6 && trs_serves(trs, true)) {
        return true;
    }
    if (end.v4 && trs_serves(trs, false)) {
        return false;
    }
    return std::nullopt;
}

std::optional<RouteChoice> relayed(const Location& i, const Location& r,
                                   const std::optional<TrsAddresses>& trs) {
    const auto fi = trs_family(i, trs);
    const auto fr = trs_family(r, trs);
    if (!fi || !fr) {
        return std::nullopt;
    }
    return RouteChoice{wire::ProcessCode::Relayed, *fi, *fr};
}

}  // namespace

std::optional<RouteChoice> choose_route(const Location& initiator, const Location& responder,
                                        const std::optional<TrsAddresses>& trs) {
    if ((!initiator.v4 && !initiator.v6) || (!responder.v4 && !responder.v6)) {
        return std::nullopt;
    }
    // IPv6 is preferred when both ends have an observed IPv6 endpoint (C15).
    bool v6 = false;
    if (initiator.v6 && responder.v6) {
        v6 = true;
    } else if (initiator.v4 && responder.v4) {
        v6 = false;
    } else {
        return relayed(initiator, responder, trs);  // no common family
    }
    const FamilyLocation& i = v6 ? *initiator.v6 : *initiator.v4;
    const FamilyLocation& r = v6 ? *responder.v6 : *responder.v4;
    if (i.nat && r.nat) {
        // Same observed IPv4 = behind the same NAT (Q8): direct on the private addresses.
        if (!v6 && i.observed == r.observed) {
            return RouteChoice{wire::ProcessCode::SharedNat, false, false};
        }
        return relayed(initiator, responder, trs);
    }
    return RouteChoice{wire::ProcessCode::Direct, v6, v6};
}

wire::RouteDirection build_route_direction(const PathId& path, const RouteChoice& choice,
                                           const RouteEnds& ends,
                                           const std::optional<TrsAddresses>& trs) {
    wire::RouteDirection d;
    d.path_id = path;
    d.process = choice.code;
    d.general_node_flags = static_cast<std::uint16_t>(
        (ends.initiator.kind == 3 ? wire::general_node_flag::kInitiator : 0) |
        (ends.responder.kind == 3 ? wire::general_node_flag::kResponder : 0));
    const bool shared = choice.code == wire::ProcessCode::SharedNat;
    // One family per side (C15); with Process Code 2 the ports are Application Ports (C16).
    auto fill = [shared](const Location& l, bool v6, std::uint16_t& port, Ipv4Address& a4,
                         Ipv6Address& a6) {
        const auto& f = v6 ? l.v6 : l.v4;
        if (!f) {
            return;
        }
        port = shared ? l.application_port : f->port;
        if (v6) {
            a6 = f->observed.v6();
        } else {
            a4 = f->observed.v4();
        }
    };
    fill(ends.initiator_location, choice.initiator_v6, d.nat_initiator_port, d.nat_initiator_ipv4,
         d.nat_initiator_ipv6);
    fill(ends.responder_location, choice.responder_v6, d.nat_responder_port, d.nat_responder_ipv4,
         d.nat_responder_ipv6);
    d.initiator_real_ipv4 = ends.initiator_location.real_ipv4;
    d.initiator_real_ipv6 = ends.initiator_location.real_ipv6;
    d.responder_real_ipv4 = ends.responder_location.real_ipv4;
    d.responder_real_ipv6 = ends.responder_location.real_ipv6;
    d.initiator_virtual_ipv4 = ends.initiator.virtual_ipv4;
    d.initiator_virtual_ipv6 = ends.initiator.virtual_ipv6;
    d.responder_virtual_ipv4 = ends.responder.virtual_ipv4;
    d.responder_virtual_ipv6 = ends.responder.virtual_ipv6;
    if (choice.code == wire::ProcessCode::Relayed && trs) {
        d.trs_ipv4 = trs->ipv4;
        d.trs_ipv6 = trs->ipv6;
    }
    d.initiator_fqdn = ends.initiator.fqdn;
    d.responder_fqdn = ends.responder.fqdn;
    return d;
}

bool direct_route_failed_before(const wire::RouteDirection& fresh, const PreviousRoute& previous,
                                std::chrono::seconds window) {
    const auto& old = previous.body;
    const bool direct = fresh.process != wire::ProcessCode::Relayed;
    return direct && old.process == fresh.process && previous.age < window &&
           old.initiator_fqdn == fresh.initiator_fqdn &&
           old.responder_fqdn == fresh.responder_fqdn &&
           old.nat_initiator_ipv4 == fresh.nat_initiator_ipv4 &&
           old.nat_initiator_ipv6 == fresh.nat_initiator_ipv6 &&
           old.nat_initiator_port == fresh.nat_initiator_port &&
           old.nat_responder_ipv4 == fresh.nat_responder_ipv4 &&
           old.nat_responder_ipv6 == fresh.nat_responder_ipv6 &&
           old.nat_responder_port == fresh.nat_responder_port &&
           old.initiator_real_ipv4 == fresh.initiator_real_ipv4 &&
           old.initiator_real_ipv6 == fresh.initiator_real_ipv6 &&
           old.responder_real_ipv4 == fresh.responder_real_ipv4 &&
           old.responder_real_ipv6 == fresh.responder_real_ipv6;
}

std::optional<RouteChoice> relay_route(const Location& initiator, const Location& responder,
                                       const std::optional<TrsAddresses>& trs) {
    return relayed(initiator, responder, trs);
}

std::optional<Endpoint> reach(const Location& location, bool prefer_v6) {
    const auto& first = prefer_v6 ? location.v6 : location.v4;
    const auto& second = prefer_v6 ? location.v4 : location.v6;
    if (first) {
        return Endpoint{first->observed, first->port};
    }
    if (second) {
        return Endpoint{second->observed, second->port};
    }
    return std::nullopt;
}

}  // namespace cyphonic::nms
