#pragma once

#include <chrono>
#include <optional>

#include "store.hpp"

#include "cyphonic/wire/messages.hpp"

// Route selection (PROTOCOL.md §7.3, §7.4, C15, C16, Q8): pure functions of what NMS knows of
// both ends, so every rule has a unit test.
namespace cyphonic::nms {

struct RouteChoice {
    wire::ProcessCode code = wire::ProcessCode::Direct;
    // The family each end uses on this route: the same for direct routes; for relayed
    // routes each end's own (an IPv4-only end and an IPv6-only end meet at the TRS).
    bool initiator_v6 = false;
    bool responder_v6 = false;
};

struct TrsAddresses {
    NodeId node_id;
    Ipv4Address ipv4;  // unspecified: the TRS has no IPv4
    Ipv6Address ipv6;  // unspecified: the TRS has no IPv6
};

// nullopt when an end has no observed endpoint at all, or the route needs a TRS that can serve
// neither end's family (`trs` lists what is configured; only the families matter here).
[[nodiscard]] std::optional<RouteChoice> choose_route(const Location& initiator,
                                                      const Location& responder,
                                                      const std::optional<TrsAddresses>& trs);

struct RouteEnds {
    const NodeInfo& initiator;
    const Location& initiator_location;
    const NodeInfo& responder;
    const Location& responder_location;
};

// The Route Direction body (§6.7) for a chosen route. Keys, suite and expiry are the caller's.
[[nodiscard]] wire::RouteDirection build_route_direction(const PathId& path,
                                                         const RouteChoice& choice,
                                                         const RouteEnds& ends,
                                                         const std::optional<TrsAddresses>& trs);

// Q8, generalised (docs/DECISIONS.md N11): a Direction Request for a PathID whose previous
// route was direct (Process Code 1 or 2), answered less than `window` ago between the very
// same observed endpoints, means the ends could not use that route (no Tunnel Response, or
// the path died at once): NMS then relays instead, when a TRS serves both ends. `fresh` is the
// route just chosen, `previous` the Route Direction body answered before and its age.
struct PreviousRoute {
    const wire::RouteDirection& body;
    std::chrono::seconds age;
};
[[nodiscard]] bool direct_route_failed_before(const wire::RouteDirection& fresh,
                                              const PreviousRoute& previous,
                                              std::chrono::seconds window);
[[nodiscard]] std::optional<RouteChoice> relay_route(const Location& initiator,
                                                     const Location& responder,
                                                     const std::optional<TrsAddresses>& trs);

// The endpoint NMS sends to for a node: the observed endpoint of the given family if known,
// else the most recently seen one.
[[nodiscard]] std::optional<Endpoint> reach(const Location& location, bool prefer_v6);

}  // namespace cyphonic::nms
