#include "server.hpp"

#include <spdlog/spdlog.h>

#include "cyphonic/app/health_server.hpp"
#include "cyphonic/crypto/random.hpp"

namespace cyphonic::nms {

using std::chrono::milliseconds;

namespace {

constexpr std::size_t kMaxDatagram = 65535;
// D19: the NMS's own legs are sent at 0, 0.5 and 1.5 s and given up at 3.5 s.
constexpr std::array<milliseconds, 3> kLegSends = {milliseconds(0), milliseconds(500),
                                                   milliseconds(1500)};
constexpr milliseconds kLegGiveUp{3500};
// A replica uses a reserved block of sending numbers only this long, so numbers other
// replicas send meanwhile cannot push it out of the node's window (C10).
constexpr std::chrono::seconds kBlockMaxAge{10};
constexpr std::chrono::seconds kKeyReloadInterval{1};
constexpr double kKeyLoadsPerSecond = 200;

wire::Date date_after_days(std::uint32_t days) {
    using namespace std::chrono;
    const auto day = floor<std::chrono::days>(system_clock::now()) + std::chrono::days(days);
    const year_month_day ymd(day);
    return {static_cast<std::uint16_t>(static_cast<int>(ymd.year())),
            static_cast<std::uint8_t>(static_cast<unsigned>(ymd.month())),
            static_cast<std::uint8_t>(static_cast<unsigned>(ymd.day()))};
}

Endpoint from_asio(const asio::ip::udp::endpoint& ep) {
    return {app::from_asio(ep.address()).normalized(), ep.port()};
}

wire::KeyBytes random_key_bytes() {
    wire::KeyBytes out{};
    crypto::random_bytes(out);
    return out;
}

}  // namespace

struct NmsServer::KeyEntry {
    NodeKey key;
    crypto::CipherSuite opener;
    std::optional<signaling::Sealer> sealer;
    std::uint32_t block_end = 0;
    Clock::time_point block_reserved_at{};
    // The last reload caused by a message that failed authentication: at most one per node
    // per kKeyReloadInterval, so forged messages cannot turn into a database load each.
    Clock::time_point mac_reload_at{};

    KeyEntry(NodeKey k, crypto::CipherSuite suite) : key(std::move(k)), opener(std::move(suite)) {}
};

struct NmsServer::Waiter {
    explicit Waiter(asio::io_context& io) : timer(io) {}
    asio::steady_timer timer;
    bool done = false;
    std::optional<wire::Error> error;
    // Wakes the waiting procedure.
    void finish() {
        done = true;
        timer.cancel();
    }
};

namespace {

using WaitKey = std::pair<NodeId, std::uint32_t>;

// A procedure's wait for one answer (D19 "NMS legs"): listed under its key while it lives, so
// the receive path can wake it, and removed with it.
template <class Waiter>
class ScopedWait {
public:
    ScopedWait(std::map<WaitKey, std::shared_ptr<Waiter>>& map, WaitKey key, asio::io_context& io)
        : map_(map), key_(std::move(key)), waiter_(std::make_shared<Waiter>(io)) {
        map_[key_] = waiter_;
    }
    ~ScopedWait() { map_.erase(key_); }
    ScopedWait(const ScopedWait&) = delete;
    ScopedWait& operator=(const ScopedWait&) = delete;

    Waiter* operator->() const noexcept { return waiter_.get(); }

    // Sleeps until the next send of the leg (sends at 0, 0.5, 1.5 s; given up at 3.5 s), or
    // until the answer wakes it. `sent` counts the sends so far.
    asio::awaitable<void> until_next_send(std::chrono::steady_clock::time_point start,
                                          std::size_t sent) {
        const auto next = sent < kLegSends.size() ? kLegSends[sent] : kLegGiveUp;
        waiter_->timer.expires_at(start + next);
        boost::system::error_code ec;
        co_await waiter_->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }

private:
    std::map<WaitKey, std::shared_ptr<Waiter>>& map_;
    WaitKey key_;
    std::shared_ptr<Waiter> waiter_;
};

}  // namespace

struct NmsServer::TrsState {
    TrsPeer peer;
    signaling::Sealer sealer;
    signaling::Opener opener;
    std::uint32_t block_end = 0;
    Clock::time_point block_reserved_at{};
};

struct NmsServer::Received {
    wire::BaseHeader header;
    Bytes bytes;
    Endpoint from;
};

NmsServer::NmsServer(app::ServiceRuntime& runtime, NmsConfig config, NmsSettings settings,
                     db::Database& db, app::MetricsRegistry& metrics)
    : runtime_(runtime),
      config_(std::move(config)),
      settings_(std::move(settings)),
      store_(db),
      requests_(metrics.counter("cyphonic_nms_requests_total",
                                "messages handled, by type and result", {"type", "result"})),
      dropped_(
          metrics.counter("cyphonic_nms_dropped_total", "messages dropped, by reason", {"reason"})),
      latency_(metrics
                   .histogram("cyphonic_nms_request_seconds",
                              "time from a request's arrival to its answer")
                   .with({})),
      active_nodes_(
          metrics.gauge("cyphonic_nms_active_nodes", "nodes online in the database").with({})),
      active_paths_(metrics
                        .gauge("cyphonic_nms_active_paths",
                               "routes answered whose Tunnel Key has not expired")
                        .with({})) {
    for (auto& peer : settings_.trs) {
        auto seal_suite = crypto::CipherSuite::create(peer.cipher, peer.key);
        auto open_suite = crypto::CipherSuite::create(peer.cipher, peer.key);
        if (!seal_suite.has_value() || !open_suite.has_value()) {
            throw std::runtime_error(
                "cannot set up the service key of a TRS: " +
                (seal_suite.has_value() ? open_suite.error() : seal_suite.error()));
        }
        trs_.push_back(std::make_unique<TrsState>(TrsState{
            std::move(peer), signaling::Sealer(std::move(*seal_suite), signaling::Side::Set),
            signaling::Opener(std::move(*open_suite), signaling::Side::Set)}));
    }
}

NmsServer::~NmsServer() = default;

void NmsServer::start() {
    auto open = [this](const std::string& address, const char* key,
                       std::optional<Udp::socket>& socket) {
        if (address.empty()) {
            return;
        }
        const auto ip = IpAddress::parse(address);
        if (!ip) {
            throw app::ConfigError("config", key, "not an IP address: " + address);
        }
        const Udp::endpoint ep(app::to_asio(*ip), config_.listen_port);
        socket.emplace(runtime_.io());
        socket->open(ep.protocol());
        if (ep.protocol() == Udp::v6()) {
            socket->set_option(asio::ip::v6_only(true));
        }
        socket->set_option(asio::socket_base::receive_buffer_size(4 << 20));
        socket->bind(ep);
        asio::co_spawn(runtime_.io(), receive_loop(*socket), [this](const std::exception_ptr& e) {
            if (e) {
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& ex) {
                    runtime_.fail(std::string("receive loop: ") + ex.what());
                }
            }
        });
    };
    open(config_.listen_ipv4, "listen.ipv4", socket4_);
    open(config_.listen_ipv6, "listen.ipv6", socket6_);
    if (config_.notify_poll_s > 0) {
        asio::co_spawn(runtime_.io(), notify_loop(), [this](const std::exception_ptr& e) {
            if (e) {
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& ex) {
                    runtime_.fail(std::string("general node notify: ") + ex.what());
                }
            }
        });
    }
    asio::co_spawn(runtime_.io(), sweep_loop(), [this](const std::exception_ptr& e) {
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                runtime_.fail(std::string("offline sweep: ") + ex.what());
            }
        }
    });
}

void NmsServer::close() {
    boost::system::error_code ignored;
    if (socket4_) {
        socket4_->close(ignored);
    }
    if (socket6_) {
        socket6_->close(ignored);
    }
}

std::vector<Endpoint> NmsServer::local_endpoints() const {
    std::vector<Endpoint> out;
    for (const auto* s : {&socket4_, &socket6_}) {
        if (*s && (*s)->is_open()) {
            out.push_back(from_asio((*s)->local_endpoint()));
        }
    }
    return out;
}

bool NmsServer::idle() const {
    return Clock::now() - last_datagram_ > std::chrono::duration_cast<Clock::duration>(
                                               std::chrono::duration<double>(config_.quiet_s));
}

void NmsServer::drop(std::string_view reason) {
    dropped_.with({std::string(reason)}).inc();
}

void NmsServer::count(wire::MessageType type, std::string_view result) {
    requests_.with({std::string(wire::to_string(type)), std::string(result)}).inc();
}

asio::awaitable<void> NmsServer::receive_loop(Udp::socket& socket) {
    std::vector<std::byte> buffer(kMaxDatagram);
    Udp::endpoint from;
    for (;;) {
        boost::system::error_code ec;
        const std::size_t n = co_await socket.async_receive_from(
            asio::buffer(buffer), from, asio::redirect_error(asio::use_awaitable, ec));
        if (ec == asio::error::operation_aborted || !socket.is_open()) {
            co_return;
        }
        if (ec) {
            continue;  // ICMP errors surface here on Linux; nothing to do
        }
        last_datagram_ = Clock::now();
        on_datagram(std::span(buffer).first(n), from_asio(from));
    }
}

void NmsServer::on_datagram(ByteView datagram, const Endpoint& from) {
    auto messages = wire::split_datagram(datagram);
    if (!messages.has_value()) {
        drop(wire::to_string(messages.error()));
        return;
    }
    for (const auto& m : *messages) {
        if (handling_ >= static_cast<std::int64_t>(config_.max_in_flight)) {
            drop("overloaded");
            continue;
        }
        Received r{m.header, Bytes(m.bytes.begin(), m.bytes.end()), from};
        ++handling_;
        asio::co_spawn(runtime_.io(), handle(std::move(r)), [this](const std::exception_ptr& e) {
            --handling_;
            if (e) {
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& ex) {
                    // A database failure: the message is lost, the sender
                    // retransmits; the service keeps running.
                    drop("internal_error");
                    spdlog::warn("message handling failed reason={}", ex.what());
                }
            }
        });
    }
}

asio::awaitable<void> NmsServer::handle(Received message) {
    const auto in_flight = runtime_.in_flight();
    for (std::size_t i = 0; i < trs_.size(); ++i) {
        if (message.header.id == trs_[i]->peer.node_id.raw()) {
            co_await handle_trs_message(std::move(message), i);
            co_return;
        }
    }
    co_await handle_node_message(std::move(message));
}

asio::awaitable<std::shared_ptr<NmsServer::KeyEntry>> NmsServer::key_for(NodeId node, bool reload) {
    if (!reload) {
        if (const auto it = keys_.find(node); it != keys_.end()) {
            co_return it->second;
        }
    }
    const auto now = Clock::now();
    key_load_tokens_ =
        std::min(kKeyLoadsPerSecond,
                 key_load_tokens_ + std::chrono::duration<double>(now - key_load_refill_).count() *
                                        kKeyLoadsPerSecond);
    key_load_refill_ = now;
    if (key_load_tokens_ < 1) {
        drop("key_load_limited");
        co_return nullptr;
    }
    key_load_tokens_ -= 1;
    auto key = co_await store_.load_key(node);
    if (!key) {
        keys_.erase(node);
        co_return nullptr;
    }
    if (const auto it = keys_.find(node);
        it != keys_.end() && it->second->key.generation == key->generation) {
        co_return it->second;
    }
    auto opener = crypto::CipherSuite::create(key->cipher, key->key);
    auto sealer = crypto::CipherSuite::create(key->cipher, key->key);
    if (!opener.has_value() || !sealer.has_value()) {
        drop("internal_error");
        co_return nullptr;
    }
    auto entry = std::make_shared<KeyEntry>(std::move(*key), std::move(*opener));
    entry->sealer.emplace(std::move(*sealer), signaling::Side::Set);
    if (const auto it = keys_.find(node); it != keys_.end()) {
        entry->mac_reload_at = it->second->mac_reload_at;
    }
    keys_[node] = entry;
    co_return entry;
}

asio::awaitable<void> NmsServer::handle_node_message(Received message) {
    const auto started = Clock::now();
    const wire::BaseHeader& header = message.header;
    const NodeId node = header.node_id();
    auto entry = co_await key_for(node, false);
    if (!entry) {
        drop("unknown_id");
        co_return;
    }
    Bytes plaintext(crypto::CipherSuite::max_plaintext_size(message.bytes.size()));
    auto opened = entry->opener.open(message.bytes, plaintext);
    if (!opened.has_value() && opened.error() == crypto::OpenError::BadMac &&
        Clock::now() - entry->mac_reload_at > kKeyReloadInterval) {
        // The node may have logged in again since the key was cached, however recently that
        // was: its first message under the new key must not be lost (a Keep Alive is never
        // sent again).
        entry->mac_reload_at = Clock::now();
        entry = co_await key_for(node, true);
        if (!entry) {
            drop("unknown_id");
            co_return;
        }
        opened = entry->opener.open(message.bytes, plaintext);
    }
    if (!opened.has_value()) {
        drop(crypto::to_string(opened.error()));
        co_return;
    }
    if (header.has(wire::flag::kSenderSide)) {
        drop("reflected");  // D15: the NMS side's own message sent back
        co_return;
    }
    auto body = wire::decode_body(header.type, std::span(plaintext).first(*opened));
    if (!body.has_value()) {
        drop(wire::to_string(body.error()));
        co_return;
    }
    if (SystemClock::now() > entry->key.expires_at) {
        // Authentic but under an expired key: tell the node to log in again.
        const bool request = header.type == wire::MessageType::RegistrationRequest ||
                             header.type == wire::MessageType::KeepAlive ||
                             header.type == wire::MessageType::DirectionRequest;
        drop("key_expired");
        if (request) {
            co_await send_error(entry, header, header.id, wire::ErrorCode::KeyExpired,
                                "the NMS key expired; log in to AS again", message.from);
        }
        co_return;
    }
    const SequenceCheck seq{node, entry->key.generation, header.sequence};

    switch (header.type) {
        case wire::MessageType::RegistrationRequest: {
            const auto& req = std::get<wire::RegistrationRequest>(*body);
            // §7.2: NAT Flag 0 only if the observed source equals the reported address of
            // the same family and the observed port equals the Application Port.
            const IpAddress observed = message.from.address.normalized();
            const bool same_address = observed.is_v4() ? (observed.v4() == req.node_ipv4)
                                                       : (observed.v6() == req.node_ipv6);
            const bool nat = !(same_address && message.from.port == req.application_port);
            Store::Registration registration{req, message.from, nat,
                                             header.has(wire::flag::kFirstRegistration)};
            const auto verdict = co_await store_.register_node(seq, registration);
            if (verdict.stale_key) {
                keys_.erase(node);
                drop("stale_key");
                co_return;
            }
            if (!verdict.accepted()) {
                drop(replay::to_string(verdict.verdict));
                co_return;
            }
            wire::BaseHeader reply;
            reply.transaction_id = header.transaction_id;
            reply.type = wire::MessageType::RegistrationResponse;
            reply.flags = wire::flag::kSuccess | wire::flag::kResponse;
            reply.id = header.id;
            const wire::Body response = wire::RegistrationResponse{nat};
            co_await send_to_node(entry, reply, response, message.from);
            spdlog::info("registered node_id={} observed={} nat={} first={}", node, message.from,
                         nat, header.has(wire::flag::kFirstRegistration));
            count(header.type, "ok");
            break;
        }
        case wire::MessageType::KeepAlive: {
            const auto result = co_await store_.keep_alive(seq, message.from);
            if (result.window.stale_key) {
                keys_.erase(node);
                drop("stale_key");
                co_return;
            }
            if (!result.window.accepted()) {
                drop(replay::to_string(result.window.verdict));
                co_return;
            }
            if (!result.registered) {
                co_await send_error(entry, header, header.id, wire::ErrorCode::BadRequest,
                                    "not registered: send a Registration Request first",
                                    message.from);
                count(header.type, "not_registered");
                co_return;
            }
            wire::BaseHeader ack;
            ack.transaction_id = header.transaction_id;
            ack.type = wire::MessageType::Ack;
            ack.flags = wire::flag::kSuccess | wire::flag::kResponse;
            ack.id = header.id;
            const wire::Body empty = wire::EmptyBody{};
            co_await send_to_node(entry, ack, empty, message.from);
            count(header.type, "ok");
            break;
        }
        case wire::MessageType::DirectionRequest: {
            const auto verdict = co_await store_.accept_sequence(seq);
            if (!verdict.accepted()) {
                if (verdict.stale_key) {
                    keys_.erase(node);
                }
                drop(verdict.stale_key ? "stale_key" : replay::to_string(verdict.verdict));
                co_return;
            }
            co_await direction(entry, header, std::get<wire::DirectionRequest>(*body),
                               message.from);
            break;
        }
        case wire::MessageType::Ack: {
            // An adapter acknowledging a General Node Update Notify.
            const auto verdict = co_await store_.accept_sequence(seq);
            if (!verdict.accepted()) {
                drop(verdict.stale_key ? "stale_key" : replay::to_string(verdict.verdict));
                co_return;
            }
            const auto it = notifies_.find({node, header.transaction_id});
            if (it != notifies_.end()) {
                it->second->finish();
            }
            count(header.type, it != notifies_.end() ? "ok" : "unmatched");
            break;
        }
        case wire::MessageType::RouteDirectionConfirmation:
        case wire::MessageType::Error: {
            const auto verdict = co_await store_.accept_sequence(seq);
            if (!verdict.accepted()) {
                drop(verdict.stale_key ? "stale_key" : replay::to_string(verdict.verdict));
                co_return;
            }
            const auto it = confirmations_.find({node, header.transaction_id});
            if (header.type == wire::MessageType::Error) {
                if (it != confirmations_.end()) {
                    it->second->error = std::get<wire::Error>(*body);
                    it->second->finish();
                }
                count(header.type, it != confirmations_.end() ? "ok" : "unmatched");
                co_return;
            }
            const auto& confirmation = std::get<wire::RouteDirection>(*body);
            if (it != confirmations_.end()) {
                it->second->finish();
                count(header.type, "ok");
            } else if (co_await store_.confirm_path(confirmation.path_id, node,
                                                    header.transaction_id)) {
                count(header.type, "handed_over");  // another replica is waiting for it
            } else {
                count(header.type, "unmatched");
            }
            break;
        }
        default:
            drop("unexpected_type");
            co_return;
    }
    latency_.observe(std::chrono::duration<double>(Clock::now() - started).count());
}

asio::awaitable<void> NmsServer::handle_trs_message(Received message, std::size_t trs_index) {
    TrsState& trs = *trs_[trs_index];
    Bytes plaintext(crypto::CipherSuite::max_plaintext_size(message.bytes.size()));
    auto opened = trs.opener.open(wire::MessageView{message.header, message.bytes}, plaintext);
    if (!opened.has_value()) {
        drop(opened.error().reason());
        co_return;
    }
    const auto key = std::make_pair(trs.peer.node_id, message.header.transaction_id);
    const auto it = relays_.find(key);
    if (it == relays_.end()) {
        count(message.header.type, "unmatched");
        co_return;
    }
    if (message.header.type == wire::MessageType::RelayResponse &&
        message.header.has(wire::flag::kSuccess)) {
        it->second->finish();
        count(message.header.type, "ok");
    } else if (message.header.type == wire::MessageType::Error) {
        it->second->error = std::get<wire::Error>(opened->body);
        it->second->finish();
        count(message.header.type, "ok");
    } else {
        drop("unexpected_type");
    }
    co_return;
}

asio::awaitable<void> NmsServer::direction(std::shared_ptr<KeyEntry> initiator,
                                           wire::BaseHeader header, wire::DirectionRequest request,
                                           Endpoint from) {
    const auto started = Clock::now();
    const NodeId initiator_id = header.node_id();
    const auto procedure = std::make_pair(initiator_id, header.transaction_id);
    const PathId path = request.path_id;
    // D18: a duplicate of a request in progress is ignored; a duplicate of an answered one gets
    // the answer again (the path row holds it, whichever replica answered).
    if (directions_in_progress_.contains(procedure)) {
        count(header.type, "duplicate_in_progress");
        co_return;
    }
    const auto known = co_await store_.find_path(path);
    if (known && known->initiator == initiator_id &&
        known->transaction_id == header.transaction_id) {
        if (known->state == PathState::Done) {
            auto body = wire::decode_route_direction(known->body);
            if (body.has_value()) {
                wire::BaseHeader answer;
                answer.transaction_id = header.transaction_id;
                answer.type = wire::MessageType::RouteDirectionToInitiator;
                answer.flags = static_cast<std::uint8_t>(
                    wire::flag::kSuccess | wire::flag::kResponse |
                    (body->process == wire::ProcessCode::Relayed ? wire::flag::kRelayed : 0));
                answer.set_id(path);
                co_await send_to_node(initiator, answer, *body, from);
                count(header.type, "answer_repeated");
            }
            co_return;
        }
        if (known->state != PathState::Failed) {
            count(header.type, "duplicate_in_progress");
            co_return;
        }
    }
    directions_in_progress_.insert(procedure);
    struct Cleanup {
        NmsServer* self;
        std::pair<NodeId, std::uint32_t> key;
        ~Cleanup() { self->directions_in_progress_.erase(key); }
    } cleanup{this, procedure};

    auto fail_with = [&](wire::ErrorCode code, std::string reason) -> asio::awaitable<void> {
        spdlog::info("route selection failed path_id={} initiator={} fqdn={} reason={}", path,
                     initiator_id, request.responder_fqdn, reason);
        co_await send_error(initiator, header, path.raw(), code, std::move(reason), from);
        count(wire::MessageType::DirectionRequest, wire::to_string(code));
    };

    const auto responder = co_await store_.find_node_by_fqdn(request.responder_fqdn);
    if (!responder) {
        co_await fail_with(wire::ErrorCode::UnknownPeer,
                           "no node is named " + request.responder_fqdn);
        co_return;
    }
    const auto initiator_info = co_await store_.find_node(initiator_id);
    const auto initiator_location = co_await store_.location(initiator_id);
    if (!initiator_info || !initiator_location) {
        co_await fail_with(wire::ErrorCode::BadRequest,
                           "not registered: send a Registration Request first");
        co_return;
    }
    if (responder->node_id == initiator_id) {
        co_await fail_with(wire::ErrorCode::BadRequest, "a route to oneself");
        co_return;
    }
    const auto responder_location = co_await store_.location(responder->node_id);
    const auto offline_after = std::chrono::seconds(config_.offline_after_s);
    if (!responder_location || !responder_location->online ||
        SystemClock::now() - responder_location->last_seen > offline_after) {
        co_await fail_with(wire::ErrorCode::PeerUnreachable,
                           request.responder_fqdn + " is offline");
        co_return;
    }
    auto responder_key = co_await key_for(responder->node_id, false);
    if (!responder_key) {
        co_await fail_with(wire::ErrorCode::PeerUnreachable,
                           request.responder_fqdn + " has no NMS key");
        co_return;
    }

    // Route selection, then a TRS if the route needs one (§7.4 step 4: one other on failure).
    std::optional<TrsAddresses> trs;
    std::size_t trs_index = 0;
    if (!trs_.empty()) {
        trs_index = static_cast<std::size_t>(crypto::random_u32() % trs_.size());
        const auto& p = trs_[trs_index]->peer;
        trs = TrsAddresses{p.node_id, p.ipv4, p.ipv6};
    }
    auto choice = choose_route(*initiator_location, *responder_location, trs);
    if (!choice) {
        const auto code =
            trs_.empty() ? wire::ErrorCode::RelayUnavailable : wire::ErrorCode::PeerUnreachable;
        co_await fail_with(code,
                           "no route: the ends share no address family and no TRS serves both");
        co_return;
    }
    const RouteEnds ends{*initiator_info, *initiator_location, *responder, *responder_location};
    wire::RouteDirection body = build_route_direction(path, *choice, ends, trs);
    if (known && known->initiator == initiator_id && known->state == PathState::Done &&
        config_.direct_retry_s > 0 && choice->code != wire::ProcessCode::Relayed) {
        const auto previous = wire::decode_route_direction(known->body);
        if (previous && direct_route_failed_before(body, PreviousRoute{*previous, known->age},
                                                   std::chrono::seconds(config_.direct_retry_s))) {
            if (const auto relay = relay_route(*initiator_location, *responder_location, trs)) {
                spdlog::info(
                    "route selection path_id={}: the direct route answered {} s ago "
                    "was not usable; relaying (Q8)",
                    path, known->age.count());
                choice = relay;
                body = build_route_direction(path, *choice, ends, trs);
            }
        }
    }
    const bool relayed = choice->code == wire::ProcessCode::Relayed;
    body.cipher = settings_.tunnel_cipher;
    body.tunnel_key = random_key_bytes();
    body.temp_key = random_key_bytes();
    body.expiry = date_after_days(config_.tunnel_key_lifetime_days);

    if (relayed) {
        bool ok = co_await request_relay(trs_index, path, body.cipher, body.tunnel_key,
                                         header.transaction_id);
        if (!ok && trs_.size() > 1) {
            trs_index = (trs_index + 1) % trs_.size();
            const auto& p = trs_[trs_index]->peer;
            trs = TrsAddresses{p.node_id, p.ipv4, p.ipv6};
            body.trs_ipv4 = p.ipv4;
            body.trs_ipv6 = p.ipv6;
            ok = co_await request_relay(trs_index, path, body.cipher, body.tunnel_key,
                                        header.transaction_id);
        }
        if (!ok) {
            co_await fail_with(wire::ErrorCode::RelayUnavailable, "no TRS answered");
            co_return;
        }
    }

    Bytes encoded(wire::encoded_size(body));
    (void)wire::encode(body, encoded);
    Store::NewPath record{{path, initiator_id, responder->node_id, header.transaction_id,
                           PathState::Pending, encoded},
                          body,
                          relayed ? std::optional<NodeId>(trs->node_id) : std::nullopt};
    co_await store_.save_path(std::move(record));

    const auto to_responder = reach(*responder_location, choice->responder_v6);
    if (!to_responder) {
        co_await fail_with(wire::ErrorCode::PeerUnreachable, "no address for the responder");
        co_return;
    }
    const auto responder_error =
        co_await direct_responder(responder_key, header, body, *to_responder);
    if (responder_error) {
        co_await store_.set_path_state(path, header.transaction_id, PathState::Failed);
        // Built in their own statements: g++ 12 destroys a temporary made by ?: inside a
        // co_await operand twice (scripts/lint/co_await_temporaries.py).
        const auto code = responder_error->code == 0 ? wire::ErrorCode::PeerUnreachable
                                                     : responder_error->error_code();
        std::string reason = responder_error->reason;
        if (reason.empty()) {
            reason = request.responder_fqdn + " did not confirm the route";
        }
        co_await fail_with(code, std::move(reason));
        co_return;
    }

    wire::BaseHeader answer;
    answer.transaction_id = header.transaction_id;
    answer.type = wire::MessageType::RouteDirectionToInitiator;
    answer.flags = static_cast<std::uint8_t>(wire::flag::kSuccess | wire::flag::kResponse |
                                             (relayed ? wire::flag::kRelayed : 0));
    answer.set_id(path);
    co_await send_to_node(initiator, answer, body, from);
    co_await store_.set_path_state(path, header.transaction_id, PathState::Done);
    spdlog::info("route selected path_id={} initiator={} responder={} process={} via={}", path,
                 initiator_id, responder->node_id, static_cast<int>(body.process),
                 relayed ? "trs" : "direct");
    count(wire::MessageType::DirectionRequest, relayed ? "relayed" : "direct");
    latency_.observe(std::chrono::duration<double>(Clock::now() - started).count());
}

asio::awaitable<std::optional<wire::Error>> NmsServer::direct_responder(
    std::shared_ptr<KeyEntry> responder, wire::BaseHeader request, wire::RouteDirection body,
    Endpoint to) {
    const NodeId responder_id = responder->key.node_id;
    ScopedWait<Waiter> waiter(confirmations_, {responder_id, request.transaction_id},
                              runtime_.io());

    wire::BaseHeader header;
    header.transaction_id = request.transaction_id;
    header.type = wire::MessageType::RouteDirectionToResponder;
    header.flags = body.process == wire::ProcessCode::Relayed ? wire::flag::kRelayed : 0;
    header.set_id(responder_id);
    const auto start = Clock::now();
    for (std::size_t i = 0; i < kLegSends.size() && !waiter->done; ++i) {
        co_await send_to_node(responder, header, body, to);
        co_await waiter.until_next_send(start, i + 1);
        if (!waiter->done) {
            // The responder's answer may have reached another replica (ECMP), which recorded
            // it in the path row.
            const auto path = co_await store_.find_path(body.path_id);
            if (path && path->transaction_id == request.transaction_id &&
                path->state == PathState::Confirmed) {
                waiter->done = true;
            }
        }
    }
    if (!waiter->done) {
        co_return wire::Error{static_cast<std::uint16_t>(wire::ErrorCode::PeerUnreachable), ""};
    }
    co_return waiter->error;
}

asio::awaitable<bool> NmsServer::request_relay(std::size_t trs_index, PathId path,
                                               wire::CipherSuiteId cipher,
                                               wire::KeyBytes tunnel_key,
                                               std::uint32_t transaction_id) {
    TrsState& trs = *trs_[trs_index];
    ScopedWait<Waiter> waiter(relays_, {trs.peer.node_id, transaction_id}, runtime_.io());

    wire::BaseHeader header;
    header.transaction_id = transaction_id;
    header.type = wire::MessageType::RelayRequest;
    header.set_id(settings_.node_id);
    const wire::Relay body{path, cipher, tunnel_key};
    const auto start = Clock::now();
    for (std::size_t i = 0; i < kLegSends.size() && !waiter->done; ++i) {
        co_await send_to_trs(trs_index, header, body);
        co_await waiter.until_next_send(start, i + 1);
    }
    if (!waiter->done || waiter->error) {
        spdlog::warn("relay request failed path_id={} trs={} reason={}", path, trs.peer.node_id,
                     waiter->error ? waiter->error->reason : std::string("no answer"));
        co_return false;
    }
    co_return true;
}

asio::awaitable<void> NmsServer::send_to_node(std::shared_ptr<KeyEntry> entry,
                                              wire::BaseHeader header, wire::Body body,
                                              Endpoint to) {
    const auto now = Clock::now();
    if (entry->sealer->next_sequence() >= entry->block_end ||
        now - entry->block_reserved_at > kBlockMaxAge || entry->sealer->next_sequence() == 0) {
        const std::uint32_t first = co_await store_.reserve_send_block(
            entry->key.node_id, entry->key.generation, config_.send_block);
        entry->sealer->set_next_sequence(first);
        entry->block_end = first + config_.send_block;
        entry->block_reserved_at = now;
    }
    auto sealed = entry->sealer->seal(header, body);
    if (!sealed.has_value()) {
        drop("seal_failed");
        spdlog::warn("cannot seal reply node_id={} reason={}", entry->key.node_id,
                     sealed.error().reason());
        co_return;
    }
    send_raw(to, *sealed);
}

asio::awaitable<void> NmsServer::send_error(std::shared_ptr<KeyEntry> entry,
                                            const wire::BaseHeader& request,
                                            std::array<std::byte, 16> id, wire::ErrorCode code,
                                            std::string reason, Endpoint to) {
    wire::BaseHeader header;
    header.transaction_id = request.transaction_id;
    header.type = wire::MessageType::Error;
    header.flags = wire::flag::kResponse;
    header.id = id;
    // Built in its own statement: GCC 12 destroys aggregate temporaries of a co_await
    // expression twice.
    const wire::Body error = wire::Error{static_cast<std::uint16_t>(code), std::move(reason)};
    co_await send_to_node(std::move(entry), header, error, to);
}

asio::awaitable<void> NmsServer::send_to_trs(std::size_t trs_index, wire::BaseHeader header,
                                             wire::Body body) {
    TrsState& trs = *trs_[trs_index];
    const auto now = Clock::now();
    if (trs.sealer.next_sequence() >= trs.block_end || now - trs.block_reserved_at > kBlockMaxAge) {
        const std::uint32_t first =
            co_await store_.reserve_service_block(trs.peer.node_id, config_.send_block);
        trs.sealer.set_next_sequence(first);
        trs.block_end = first + config_.send_block;
        trs.block_reserved_at = now;
    }
    auto sealed = trs.sealer.seal(header, body);
    if (!sealed.has_value()) {
        drop("seal_failed");
        co_return;
    }
    const bool v6 = socket6_ && !trs.peer.ipv6.is_unspecified();
    const Endpoint to{v6 ? IpAddress(trs.peer.ipv6) : IpAddress(trs.peer.ipv4), trs.peer.port};
    send_raw(to, *sealed);
}

void NmsServer::send_raw(const Endpoint& to, ByteView bytes) {
    boost::system::error_code ec;
    const IpAddress address = to.address.normalized();
    if (address.is_v4() && socket4_ && socket4_->is_open()) {
        socket4_->send_to(asio::buffer(bytes.data(), bytes.size()),
                          Udp::endpoint(app::to_asio(address), to.port), 0, ec);
    } else if (address.is_v6() && socket6_ && socket6_->is_open()) {
        socket6_->send_to(asio::buffer(bytes.data(), bytes.size()),
                          Udp::endpoint(app::to_asio(address), to.port), 0, ec);
    } else {
        drop("no_socket_for_family");
        return;
    }
    if (ec) {
        drop("send_failed");
    }
}

asio::awaitable<void> NmsServer::notify_loop() {
    asio::steady_timer timer(runtime_.io());
    const auto period = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(config_.notify_poll_s));
    for (;;) {
        timer.expires_after(period);
        boost::system::error_code ec;
        co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (runtime_.stopping()) {
            co_return;
        }
        try {
            auto task = store_.claim_general_node_changes();
            const auto changed = co_await std::move(task);
            for (const NodeId& adapter : changed) {
                asio::co_spawn(runtime_.io(), notify_adapter(adapter),
                               [this](const std::exception_ptr& e) {
                                   if (e) {
                                       drop("internal_error");
                                   }
                               });
            }
        } catch (const std::exception& e) {
            spdlog::warn("general node poll failed reason={}", e.what());
        }
    }
}

asio::awaitable<void> NmsServer::notify_adapter(NodeId adapter) {
    const auto in_flight = runtime_.in_flight();
    auto entry = co_await key_for(adapter, false);
    auto location = co_await store_.location(adapter);
    if (!entry || !location || !location->online) {
        // An adapter that is not online fetches its list when it starts again.
        spdlog::debug("general node update not sent node_id={} reason=adapter_offline", adapter);
        co_return;
    }
    const auto to = reach(*location, true);
    if (!to) {
        co_return;
    }
    wire::BaseHeader header;
    header.transaction_id = crypto::random_u32();
    header.type = wire::MessageType::GeneralNodeUpdateNotify;
    header.set_id(adapter);
    ScopedWait<Waiter> waiter(notifies_, {adapter, header.transaction_id}, runtime_.io());
    const wire::Body empty = wire::EmptyBody{};
    const auto start = Clock::now();
    for (std::size_t i = 0; i < kLegSends.size() && !waiter->done; ++i) {
        co_await send_to_node(entry, header, empty, *to);
        co_await waiter.until_next_send(start, i + 1);
    }
    spdlog::info("general node update notified node_id={} acked={}", adapter, waiter->done);
    count(wire::MessageType::GeneralNodeUpdateNotify, waiter->done ? "acked" : "unanswered");
}

asio::awaitable<void> NmsServer::sweep_loop() {
    asio::steady_timer timer(runtime_.io());
    const auto period =
        std::chrono::seconds(std::max<std::int64_t>(1, config_.offline_after_s / 4));
    for (;;) {
        timer.expires_after(period);
        boost::system::error_code ec;
        co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (runtime_.stopping()) {
            co_return;
        }
        try {
            const auto offline =
                co_await store_.mark_offline(std::chrono::seconds(config_.offline_after_s));
            if (offline > 0) {
                spdlog::info("nodes offline count={} silence_s={}", offline,
                             config_.offline_after_s);
            }
            active_nodes_.set(co_await store_.count_online());
            active_paths_.set(co_await store_.count_active_paths());
        } catch (const std::exception& e) {
            spdlog::warn("offline sweep failed reason={}", e.what());
        }
    }
}

}  // namespace cyphonic::nms
