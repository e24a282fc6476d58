#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <unordered_map>
#include <vector>

#include "config.hpp"
#include "route.hpp"
#include "store.hpp"

#include "cyphonic/app/metrics.hpp"
#include "cyphonic/app/service.hpp"
#include "cyphonic/crypto/cipher_suite.hpp"
#include "cyphonic/net/asio.hpp"
#include "cyphonic/signaling/sealed_message.hpp"

namespace cyphonic::nms {

// The UDP side of cyphonic-nms: receives node and TRS messages on IPv4 and IPv6, and runs
// registration, keep alive and route selection (PROTOCOL.md §7.2–§7.4). One I/O thread; the
// database calls run on the Database pool. Everything a node depends on is in PostgreSQL, so
// any replica can answer any node; per-replica memory holds only caches and waits.
class NmsServer {
public:
    NmsServer(app::ServiceRuntime& runtime, NmsConfig config, NmsSettings settings,
              db::Database& db, app::MetricsRegistry& metrics);
    ~NmsServer();

    // Binds the sockets (throws boost::system::system_error) and starts the loops.
    void start();
    // Stops reading and closes the sockets.
    void close();
    [[nodiscard]] std::vector<Endpoint> local_endpoints() const;
    // No datagram for shutdown.quiet_s.
    [[nodiscard]] bool idle() const;

private:
    using Udp = asio::ip::udp;
    using Clock = std::chrono::steady_clock;

    struct KeyEntry;
    struct Waiter;
    struct Received;

    asio::awaitable<void> receive_loop(Udp::socket& socket);
    void on_datagram(ByteView datagram, const Endpoint& from);
    asio::awaitable<void> handle(Received message);
    asio::awaitable<void> handle_node_message(Received message);
    asio::awaitable<void> handle_trs_message(Received message, std::size_t trs_index);
    asio::awaitable<void> direction(std::shared_ptr<KeyEntry> initiator, wire::BaseHeader header,
                                    wire::DirectionRequest request, Endpoint from);
    asio::awaitable<bool> request_relay(std::size_t trs_index, PathId path,
                                        wire::CipherSuiteId cipher, wire::KeyBytes tunnel_key,
                                        std::uint32_t transaction_id);
    asio::awaitable<std::optional<wire::Error>> direct_responder(
        std::shared_ptr<KeyEntry> responder, wire::BaseHeader header, wire::RouteDirection body,
        Endpoint to);

    asio::awaitable<std::shared_ptr<KeyEntry>> key_for(NodeId node, bool reload);
    asio::awaitable<void> send_to_node(std::shared_ptr<KeyEntry> entry, wire::BaseHeader header,
                                       wire::Body body, Endpoint to);
    asio::awaitable<void> send_error(std::shared_ptr<KeyEntry> entry,
                                     const wire::BaseHeader& request, std::array<std::byte, 16> id,
                                     wire::ErrorCode code, std::string reason, Endpoint to);
    asio::awaitable<void> send_to_trs(std::size_t trs_index, wire::BaseHeader header,
                                      wire::Body body);
    void send_raw(const Endpoint& to, ByteView bytes);
    asio::awaitable<void> sweep_loop();
    asio::awaitable<void> notify_loop();
    asio::awaitable<void> notify_adapter(NodeId adapter);

    void drop(std::string_view reason);
    void count(wire::MessageType type, std::string_view result);

    app::ServiceRuntime& runtime_;
    NmsConfig config_;
    NmsSettings settings_;
    Store store_;
    std::optional<Udp::socket> socket4_;
    std::optional<Udp::socket> socket6_;
    Clock::time_point last_datagram_ = Clock::now();

    std::unordered_map<NodeId, std::shared_ptr<KeyEntry>, Id128Hash> keys_;
    // Waiting procedures: Route Direction Confirmations by (responder, txid) and Relay
    // Responses by (TRS, txid).
    std::map<std::pair<NodeId, std::uint32_t>, std::shared_ptr<Waiter>> confirmations_;
    std::map<std::pair<NodeId, std::uint32_t>, std::shared_ptr<Waiter>> relays_;
    // General Node Update Notifies waiting for the adapter's ACK, by (adapter, txid).
    std::map<std::pair<NodeId, std::uint32_t>, std::shared_ptr<Waiter>> notifies_;
    // Direction Requests in progress on this replica, by (initiator, txid) (D18).
    std::set<std::pair<NodeId, std::uint32_t>> directions_in_progress_;

    struct TrsState;
    std::vector<std::unique_ptr<TrsState>> trs_;

    // Key loads from the database per second are bounded, so a flood of datagrams with made-up
    // NodeIDs cannot turn into a flood of queries.
    double key_load_tokens_ = 200;
    Clock::time_point key_load_refill_ = Clock::now();

    std::int64_t handling_ = 0;

    app::Family<app::Counter>& requests_;
    app::Family<app::Counter>& dropped_;
    app::Histogram& latency_;
    app::Gauge& active_nodes_;
    app::Gauge& active_paths_;
};

}  // namespace cyphonic::nms
