#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "cyphonic/core/address.hpp"
#include "cyphonic/core/expected.hpp"
#include "cyphonic/core/ids.hpp"
#include "cyphonic/crypto/secret_bytes.hpp"
#include "cyphonic/net/asio.hpp"
#include "cyphonic/signaling/sealed_message.hpp"
#include "cyphonic/wire/messages.hpp"

namespace cyphonic::net {

// Why a request to NMS did not get its answer.
struct NmsFailure {
    enum class Kind : std::uint8_t {
        Timeout,  // no answer within the retransmission budget (D19)
        Error,    // NMS answered with an Error (see `code`, `reason`)
        Send,     // the datagram could not be sealed or sent (see `reason`)
    };
    Kind kind = Kind::Timeout;
    wire::ErrorCode code = wire::ErrorCode::Internal;
    std::string reason;
    [[nodiscard]] std::string describe() const;
};

// The node side of the NMS protocol for one identity (NodeID + NMS key) over one UDP socket:
// registration, keep alive, direction requests as initiator, and — as responder — confirming
// every Route Direction to Responder (PROTOCOL.md §7.2, §7.3 step 5, §7.4 step 7). Requests are
// retransmitted as D19 says. Used by the load generator and tests; the daemons build on it.
// I/O thread only.
class NmsSession {
public:
    struct Options {
        NodeId node_id;
        wire::CipherSuiteId cipher = wire::CipherSuiteId::Aes256Gcm;
        std::span<const std::byte, 32> nms_key;
        Endpoint nms;
        Endpoint local{*IpAddress::parse("0.0.0.0"), 0};  // bind address of the socket
        // Retransmission budget of requests (D19): 0, 0.5, 1.5, 3.5, 7.5 s, given up at 15.5 s.
        std::chrono::milliseconds give_up{15500};
        // When set, the session owns no socket: it sends through this function and the owner
        // feeds it the messages it receives with deliver(). A daemon sends everything from one
        // socket (D13), so its NMS session shares that socket.
        std::function<bool(ByteView datagram, const Endpoint& to)> send{};
    };
    // Called for each Route Direction to Responder this session confirmed.
    using ResponderHandler =
        std::function<void(const wire::BaseHeader&, const wire::RouteDirection&)>;

    NmsSession(asio::io_context& io,
               const Options& options);  // throws on a bad key or bind failure
    ~NmsSession();
    NmsSession(const NmsSession&) = delete;
    NmsSession& operator=(const NmsSession&) = delete;

    // Starts the receive loop (own socket only); call once.
    void start();
    // Handles one received message of a datagram addressed to this session (shared socket).
    // Returns false when it was dropped (counted in drops()).
    bool deliver(const wire::MessageView& message, const Endpoint& from);
    void close() noexcept;
    // Whether an answer under header ID `id` is awaited (a Route Direction to Initiator carries
    // the PathID, not the NodeID: an adapter finds the session of that general node this way).
    [[nodiscard]] bool expects(const std::array<std::byte, 16>& id) const;
    [[nodiscard]] const NodeId& node_id() const noexcept { return options_.node_id; }
    [[nodiscard]] Endpoint local_endpoint() const;
    void on_route_direction(ResponderHandler handler) { responder_handler_ = std::move(handler); }
    // Called for each General Node Update Notify (after it was acknowledged): refetch the list.
    void on_general_node_update(std::function<void()> handler) {
        update_handler_ = std::move(handler);
    }
    // Sends later requests to another NMS address (another replica, or a new address).
    void set_nms(const Endpoint& nms) { options_.nms = nms; }

    // `to` overrides the NMS address for this request (a dual-stack node registers and keeps
    // alive over each family, C15).
    asio::awaitable<Expected<wire::RegistrationResponse, NmsFailure>> register_node(
        wire::RegistrationRequest request, bool first, std::optional<Endpoint> to = std::nullopt);
    // One Keep Alive, answered by an ACK within `wait` (never retransmitted, D19).
    asio::awaitable<Expected<void, NmsFailure>> keep_alive(
        std::chrono::milliseconds wait = std::chrono::milliseconds(5000),
        std::optional<Endpoint> to = std::nullopt);
    asio::awaitable<Expected<wire::RouteDirection, NmsFailure>> direction_request(
        wire::DirectionRequest request);

    // Counters of what the receive loop dropped, by reason (bad MAC, replay, unmatched, ...).
    [[nodiscard]] const std::map<std::string, std::uint64_t>& drops() const noexcept {
        return drops_;
    }

private:
    struct Pending;
    asio::awaitable<void> receive_loop();
    asio::awaitable<Expected<wire::Body, NmsFailure>> request(wire::BaseHeader header,
                                                              wire::Body body,
                                                              wire::MessageType answer,
                                                              std::chrono::milliseconds give_up,
                                                              bool retransmit, Endpoint to);
    bool send(const wire::BaseHeader& header, const wire::Body& body, const Endpoint& to);

    asio::io_context& io_;
    Options options_;
    asio::ip::udp::socket socket_;
    signaling::Sealer sealer_;
    signaling::Opener opener_;
    // Pending requests by (header ID of the expected answer, Transaction ID) (D16).
    std::map<std::pair<std::array<std::byte, 16>, std::uint32_t>, std::shared_ptr<Pending>>
        pending_;
    ResponderHandler responder_handler_;
    std::function<void()> update_handler_;
    std::map<std::string, std::uint64_t> drops_;
};

}  // namespace cyphonic::net
