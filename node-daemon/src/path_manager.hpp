#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "data_plane.hpp"

#include "cyphonic/core/address.hpp"
#include "cyphonic/core/ids.hpp"
#include "cyphonic/crypto/cipher_suite.hpp"
#include "cyphonic/net/asio.hpp"
#include "cyphonic/net/nms_session.hpp"
#include "cyphonic/signaling/sealed_message.hpp"
#include "cyphonic/wire/messages.hpp"

// The peers of cyphonicd: route selection as initiator and responder (PROTOCOL.md §7.3, §7.4),
// tunnel establishment (§7.5), path keepalive (§7.6), route optimisation (§7.7), re-selection
// after a move (§7.8), idle teardown and on-demand re-establishment. Control thread only; the
// packet threads see the paths through DataPlane.
namespace cyphonic::noded {

// Who this node is, from the login and the registration.
struct Identity {
    NodeId node_id;
    std::string fqdn;
    std::optional<Ipv4Address> virtual_v4;
    std::optional<Ipv6Address> virtual_v6;
    bool behind_nat = false;
    bool has_v4 = false;  // a real address of that family is registered
    bool has_v6 = false;
};

// The answer of connect(): the peer's virtual addresses.
struct PeerAddresses {
    std::optional<Ipv4Address> v4;
    std::optional<Ipv6Address> v6;
};

struct ConnectFailure {
    bool unknown_peer = false;  // NXDOMAIN rather than SERVFAIL
    std::string reason;
};

// One line of `cyphonicd status`.
struct PeerStatus {
    std::string fqdn;
    std::string path_id;
    std::string role;   // initiator | responder
    std::string state;  // routing | establishing | up
    std::optional<Ipv4Address> v4;
    std::optional<Ipv6Address> v6;
    bool relayed = false;
    std::optional<Endpoint> endpoint;
    std::uint64_t tx_packets = 0;
    std::uint64_t tx_bytes = 0;
    std::uint64_t rx_packets = 0;
    std::uint64_t rx_bytes = 0;
    std::uint64_t drops = 0;
    std::optional<std::int64_t> last_handshake_s;  // seconds ago
};

class PathManager {
public:
    struct Options {
        ApplicationId application_id;
        std::vector<wire::CipherSuiteId> accepted_ciphers;
        bool responder_end_key = true;  // D14: as responder, answer with an own End Key
        std::chrono::seconds path_keepalive{15};
        std::chrono::seconds idle{300};
        std::chrono::seconds renew_before{3600};
        std::chrono::seconds reoptimise{60};  // 0: route optimisation only at set-up
        std::uint16_t trs_port = 4700;        // every TRS listens on the deployment's port (§3)
    };

    PathManager(asio::io_context& io, PathTable& data, Options options);
    ~PathManager();
    PathManager(const PathManager&) = delete;
    PathManager& operator=(const PathManager&) = delete;

    void set_identity(Identity identity) { identity_ = std::move(identity); }
    [[nodiscard]] const Identity& identity() const noexcept { return identity_; }
    void set_nms(std::shared_ptr<net::NmsSession> nms) { nms_ = std::move(nms); }

    // Starts the keepalive/idle timer.
    void start();
    void stop();

    // Route selection and tunnel establishment towards `fqdn` (resolver). Returns once the
    // route is chosen (§7.3 step 7); the tunnel comes up in the background.
    // `repeat`: the Direction Request follows a direct route the ends could not use, so NMS
    // relays this one (Q8, N11); a repeated route is not repeated again.
    asio::awaitable<Expected<PeerAddresses, ConnectFailure>> connect(std::string fqdn,
                                                                     bool force = false,
                                                                     bool repeat = false);
    // A Route Direction to Responder this node confirmed (NmsSession handler).
    void on_route_direction(const wire::BaseHeader& header, const wire::RouteDirection& body);
    // A path message (Tunnel Request/Response, Hole Punching, ACK, Error) from `from`.
    void on_message(const wire::MessageView& message, const Endpoint& from);
    [[nodiscard]] bool knows(const PathId& id) const { return paths_.contains(id); }
    // A packet to `destination` found no path (send thread, posted here).
    void on_miss(const IpAddress& destination);
    // The receive thread switched a relayed path to a direct endpoint.
    void on_switch(const PathId& id, const Endpoint& to);
    // The real address changed (§7.8 step 3): route selection again for every peer.
    void reselect_all();
    // This end is registered again after losing NMS (an outage, a new login): route selection
    // again for every peer whose path keepalive went unanswered meanwhile.
    void reselect_unhealthy();

    // The peers met so far (virtual address → FQDN): what on-demand re-establishment uses. An
    // adapter persists them so a restart can rebuild tunnels for packets without a DNS query.
    [[nodiscard]] const std::map<IpAddress, std::string>& known_peers() const noexcept {
        return known_peers_;
    }
    void remember_peer(const IpAddress& address, std::string fqdn) {
        known_peers_[address] = std::move(fqdn);
    }

    [[nodiscard]] std::vector<PeerStatus> status() const;
    [[nodiscard]] const std::map<std::string, std::uint64_t>& drops() const noexcept {
        return drops_;
    }

private:
    struct Path;
    struct Connecting;

    asio::awaitable<void> establish(std::shared_ptr<Path> path);
    asio::awaitable<void> punch(std::shared_ptr<Path> path, Endpoint to, int times);
    asio::awaitable<void> optimise(std::shared_ptr<Path> path);
    asio::awaitable<void> tick_loop();
    void tick();

    std::shared_ptr<Path> make_path(const wire::RouteDirection& rd, bool initiator);
    void spawn_connect(std::string fqdn, bool force, bool repeat);
    // Route selection again for every peer with a path (or only those whose path keepalives
    // went unanswered).
    void reselect_where(bool only_unanswered, std::string_view why);
    bool send_path_message(Path& path, wire::MessageType type, std::uint8_t flags,
                           std::uint32_t transaction_id, const wire::Body& body,
                           const Endpoint& to);
    void handle_tunnel_request(Path& path, const wire::BaseHeader& h,
                               const wire::TunnelRequest& body, const Endpoint& from);
    void handle_tunnel_response(Path& path, const wire::BaseHeader& h,
                                const wire::TunnelResponse& body, const Endpoint& from);
    void mark_up(Path& path);
    void retire_others(const Path& keep);
    void remove_path(const PathId& id, const std::string& why);
    void count(const std::string& reason) { ++drops_[reason]; }

    asio::io_context& io_;
    PathTable& data_;
    Options options_;
    Identity identity_;
    std::shared_ptr<net::NmsSession> nms_;
    std::map<PathId, std::shared_ptr<Path>> paths_;
    std::map<std::string, std::shared_ptr<Connecting>> connecting_;  // by peer FQDN
    std::map<IpAddress, std::string> known_peers_;  // virtual address → FQDN (on demand)
    std::map<IpAddress, Clock::time_point> recent_misses_;
    std::map<std::string, std::uint64_t> drops_;
    std::unique_ptr<asio::steady_timer> ticker_;
    bool stopped_ = false;
};

}  // namespace cyphonic::noded
