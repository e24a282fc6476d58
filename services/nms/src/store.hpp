#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cyphonic/core/address.hpp"
#include "cyphonic/core/ids.hpp"
#include "cyphonic/crypto/secret_bytes.hpp"
#include "cyphonic/db/database.hpp"
#include "cyphonic/replay/replay_window.hpp"
#include "cyphonic/wire/messages.hpp"

// Every SQL statement of cyphonic-nms. Each call is one transaction on the pool; the calling
// coroutine resumes on the I/O thread.
namespace cyphonic::nms {

using SystemClock = std::chrono::system_clock;

// The NMS key AS issued to a node, with what NMS needs to know about the node itself.
struct NodeKey {
    NodeId node_id;
    wire::CipherSuiteId cipher = wire::CipherSuiteId::Aes256Gcm;
    crypto::Key key;
    std::int64_t generation = 0;
    SystemClock::time_point expires_at;
};

struct NodeInfo {
    NodeId node_id;
    std::string device_id;
    int kind = 1;  // Exec Mode: 1 node, 2 adapter, 3 general node
    std::string fqdn;
    Ipv4Address virtual_ipv4;
    Ipv6Address virtual_ipv6;
};

// What NMS observed of one address family of a node.
struct FamilyLocation {
    IpAddress observed;
    std::uint16_t port = 0;
    bool nat = false;
    SystemClock::time_point seen_at;
};

struct Location {
    std::uint16_t application_port = 0;
    Ipv4Address real_ipv4;
    Ipv6Address real_ipv6;
    std::optional<FamilyLocation> v4;
    std::optional<FamilyLocation> v6;
    SystemClock::time_point last_seen;
    bool online = false;
};

// A received message's number checked against (and marked in) the window shared by every
// replica for that key (C10).
struct SequenceCheck {
    NodeId node_id;
    std::int64_t generation = 0;
    std::uint32_t sequence = 0;
};

// The verdict of the shared window, or `stale_key` when the node's key in the database is no
// longer the one the message was opened with (the node logged in again): reload the key.
struct WindowVerdict {
    replay::ReplayVerdict verdict = replay::ReplayVerdict::Accept;
    bool stale_key = false;
    [[nodiscard]] bool accepted() const noexcept {
        return !stale_key && verdict == replay::ReplayVerdict::Accept;
    }
};

enum class PathState : std::int16_t { Pending = 1, Confirmed = 2, Done = 3, Failed = 4 };

struct PathRecord {
    PathId path_id;
    NodeId initiator;
    NodeId responder;
    std::uint32_t transaction_id = 0;
    PathState state = PathState::Pending;
    Bytes body;                   // the encoded Route Direction body
    std::chrono::seconds age{0};  // since the row was last written (find_path only)
};

class Store {
public:
    explicit Store(db::Database& db) : db_(db) {}

    asio::awaitable<std::optional<NodeKey>> load_key(NodeId node);
    asio::awaitable<std::optional<NodeInfo>> find_node(NodeId node);
    asio::awaitable<std::optional<NodeInfo>> find_node_by_fqdn(std::string fqdn);
    asio::awaitable<std::optional<Location>> location(NodeId node);

    // Window check alone (messages whose handling writes nothing else).
    asio::awaitable<WindowVerdict> accept_sequence(SequenceCheck check);

    // Registration (§7.2): window check, then the location row (replaced), and on
    // FIRST_REGISTRATION the node's stale paths deleted (C11) — one transaction.
    struct Registration {
        wire::RegistrationRequest request;
        Endpoint observed;
        bool nat = false;
        bool first = false;
    };
    asio::awaitable<WindowVerdict> register_node(SequenceCheck check, Registration registration);

    // Keep Alive: window check, then the observed endpoint of its family and last_seen.
    // `registered` is false when the node has no location yet (it must register first).
    struct KeepAliveResult {
        WindowVerdict window;
        bool registered = false;
    };
    asio::awaitable<KeepAliveResult> keep_alive(SequenceCheck check, Endpoint observed);

    // Reserves `count` sending numbers of the NMS side of the node's key; returns the first.
    // The block is shared through the database so replicas never reuse a number (C10).
    asio::awaitable<std::uint32_t> reserve_send_block(NodeId node, std::int64_t generation,
                                                      std::uint32_t count);

    // The same for the service key shared with a TRS.
    asio::awaitable<std::uint32_t> reserve_service_block(NodeId trs, std::uint32_t count);

    // Route selection bookkeeping.
    asio::awaitable<std::optional<PathRecord>> find_path(PathId path);
    struct NewPath {
        PathRecord record;
        wire::RouteDirection direction;
        std::optional<NodeId> trs;
    };
    asio::awaitable<void> save_path(NewPath path);
    // Pending → Confirmed for a matching responder and transaction; false if nothing matched.
    asio::awaitable<bool> confirm_path(PathId path, NodeId responder, std::uint32_t transaction_id);
    asio::awaitable<void> set_path_state(PathId path, std::uint32_t transaction_id,
                                         PathState state);

    // Adapters whose general-node list changed since it was last announced, each claimed by
    // this call (another replica polling at the same time gets the others, never the same).
    asio::awaitable<std::vector<NodeId>> claim_general_node_changes();

    // Marks nodes silent for longer than `silence` offline; returns how many changed.
    asio::awaitable<std::int64_t> mark_offline(std::chrono::seconds silence);
    asio::awaitable<std::int64_t> count_online();
    // Routes selected and answered whose Tunnel Key has not expired.
    asio::awaitable<std::int64_t> count_active_paths();

private:
    db::Database& db_;
};

}  // namespace cyphonic::nms
