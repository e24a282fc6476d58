#include "path_manager.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cyphonic/core/fqdn.hpp"
#include "cyphonic/crypto/random.hpp"
#include "cyphonic/signaling/end_keys.hpp"
#include "cyphonic/signaling/path_id.hpp"

namespace cyphonic::noded {

using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

constexpr std::array<milliseconds, 5> kSends = {
    milliseconds(0), milliseconds(500), milliseconds(1500), milliseconds(3500), milliseconds(7500)};
constexpr milliseconds kGiveUp{15500};      // D19
constexpr milliseconds kKeyOverlap{10000};  // C22: previous End Key accepted 10 s
constexpr seconds kEarlyPunchKept{10};      // C19
constexpr int kPunches = 5;                 // C22: up to 5, 1 s apart
constexpr int kMissesBeforeReselect = 3;    // C22
constexpr seconds kMissInterval{5};         // on-demand route selection per address

std::optional<Ipv4Address> v4_or_none(const Ipv4Address& a) {
    return a.is_unspecified() ? std::nullopt : std::optional(a);
}
std::optional<Ipv6Address> v6_or_none(const Ipv6Address& a) {
    return a.is_unspecified() ? std::nullopt : std::optional(a);
}

// The peer's NAT (observed) endpoint of the route family, as NMS filled it (C15, C16).
// Where a relayed path's Capsules go: the TRS, until a direct Capsule from the peer arrives.
Destination via_trs(const Endpoint& trs) {
    Destination d;
    d.to = trs;
    d.relayed = true;
    d.relay = trs;
    d.switch_on_direct_receive = true;
    return d;
}

std::optional<Endpoint> nat_endpoint(const wire::RouteDirection& rd, bool of_responder) {
    const auto& v4 = of_responder ? rd.nat_responder_ipv4 : rd.nat_initiator_ipv4;
    const auto& v6 = of_responder ? rd.nat_responder_ipv6 : rd.nat_initiator_ipv6;
    const std::uint16_t port = of_responder ? rd.nat_responder_port : rd.nat_initiator_port;
    if (!v6.is_unspecified()) {
        return Endpoint{v6, port};
    }
    if (!v4.is_unspecified()) {
        return Endpoint{v4, port};
    }
    return std::nullopt;
}

// Process Code 2: the peer's Real address with its Application Port (C16).
std::optional<Endpoint> private_endpoint(const wire::RouteDirection& rd, bool of_responder) {
    const auto& v4 = of_responder ? rd.responder_real_ipv4 : rd.initiator_real_ipv4;
    const auto& v6 = of_responder ? rd.responder_real_ipv6 : rd.initiator_real_ipv6;
    const std::uint16_t port = of_responder ? rd.nat_responder_port : rd.nat_initiator_port;
    const auto nat = nat_endpoint(rd, of_responder);
    if (nat && nat->address.is_v6() && !v6.is_unspecified()) {
        return Endpoint{v6, port};
    }
    if (!v4.is_unspecified()) {
        return Endpoint{v4, port};
    }
    if (!v6.is_unspecified()) {
        return Endpoint{v6, port};
    }
    return std::nullopt;
}

// The TRS address of the family this end uses on the route (§7.5 "via TRS").
std::optional<Endpoint> trs_endpoint(const wire::RouteDirection& rd, bool initiator,
                                     std::uint16_t trs_port) {
    const auto own = nat_endpoint(rd, !initiator);
    const bool v6 = own ? own->address.is_v6() : rd.trs_ipv4.is_unspecified();
    if (v6 && !rd.trs_ipv6.is_unspecified()) {
        return Endpoint{rd.trs_ipv6, trs_port};
    }
    if (!rd.trs_ipv4.is_unspecified()) {
        return Endpoint{rd.trs_ipv4, trs_port};
    }
    if (!rd.trs_ipv6.is_unspecified()) {
        return Endpoint{rd.trs_ipv6, trs_port};
    }
    return std::nullopt;
}

// An Error reason is peer-supplied text (W6): logged with anything unprintable escaped.
std::string printable(std::string_view text) {
    std::string out;
    for (const char ch : text.substr(0, 200)) {
        const auto u = static_cast<unsigned char>(ch);
        if (u >= 0x20 && u < 0x7f) {
            out += ch;
        } else {
            out += fmt::format("\\x{:02x}", u);
        }
    }
    return out;
}

std::chrono::system_clock::time_point end_of(const wire::Date& d) {
    using namespace std::chrono;
    const year_month_day ymd{year{d.year}, month{d.month}, day{d.day}};
    return sys_days{ymd} + hours(23) + minutes(59) + seconds(59);
}

}  // namespace

// Control state of one path (one per peer: field order follows meaning, not padding).
struct PathManager::Path {  // NOLINT(clang-analyzer-optin.performance.Padding)
    PathId id;
    bool initiator = true;
    std::string peer_fqdn;
    enum class State : std::uint8_t { Routing, Establishing, Up } state = State::Routing;
    std::optional<wire::RouteDirection> rd;
    bool relayed = false;
    std::optional<Endpoint> trs;
    std::optional<Endpoint> peer;          // where to reach the peer directly
    std::optional<Endpoint> punched_from;  // source of a verified Hole Punching from the peer
    std::optional<signaling::Sealer> tunnel_tx;
    std::optional<signaling::Opener> tunnel_rx;
    std::optional<crypto::CipherSuite> temp;
    std::optional<signaling::Sealer> pending_sender;  // K_I until the Tunnel Response
    std::optional<crypto::Key> initiator_key;         // K_I: also the receive key without K_R (D14)
    int tunnel_refused = 0;      // Tunnel Responses that arrived but were refused
    std::string tunnel_refusal;  // why the last one was
    signaling::Side side = signaling::Side::Clear;
    std::shared_ptr<DataPath> data;
    std::uint32_t tunnel_txid = 0;
    bool tunnel_answered = false;
    std::optional<crypto::Key> responder_key;  // K_R, kept to answer a duplicate Tunnel Request
    std::unique_ptr<asio::steady_timer> wake;
    bool optimising = false;
    bool awaiting_ack = false;
    int misses = 0;
    std::optional<Clock::time_point> last_handshake;
    std::optional<std::pair<Bytes, Endpoint>> early_punch;
    Clock::time_point early_punch_at{};
    Clock::time_point created = Clock::now();
    std::chrono::system_clock::time_point expires{};
    bool retired = false;
    bool repeat = false;                // the route of a repeated Direction Request (Q8, N11)
    Clock::time_point next_optimise{};  // while relayed: the next try of the direct path
};

// A route selection in progress towards one FQDN; later callers wait for its result.
struct PathManager::Connecting {
    explicit Connecting(asio::io_context& io) : done(io) {
        done.expires_at(asio::steady_timer::time_point::max());
    }
    asio::steady_timer done;
    std::optional<Expected<PeerAddresses, ConnectFailure>> result;
    bool superseded = false;  // the peer's own route selection won the tie-break
};

PathManager::PathManager(asio::io_context& io, PathTable& data, Options options)
    : io_(io), data_(data), options_(std::move(options)) {}

PathManager::~PathManager() {
    try {
        stop();
    } catch (const std::exception& e) {
        spdlog::warn("stopping the path manager: {}", e.what());
    }
}

void PathManager::start() {
    ticker_ = std::make_unique<asio::steady_timer>(io_);
    asio::co_spawn(io_, tick_loop(), asio::detached);
}

void PathManager::stop() {
    stopped_ = true;
    if (ticker_) {
        ticker_->cancel();
    }
    for (auto& [id, path] : paths_) {
        if (path->wake) {
            path->wake->cancel();
        }
    }
}

std::shared_ptr<PathManager::Path> PathManager::make_path(const wire::RouteDirection& rd,
                                                          bool initiator) {
    auto path = std::make_shared<Path>();
    path->id = rd.path_id;
    path->initiator = initiator;
    path->peer_fqdn = initiator ? rd.responder_fqdn : rd.initiator_fqdn;
    path->side = initiator ? signaling::Side::Clear : signaling::Side::Set;
    path->rd = rd;
    path->relayed = rd.process == wire::ProcessCode::Relayed;
    path->expires = end_of(rd.expiry);
    auto tx = crypto::CipherSuite::create(rd.cipher, ByteView(rd.tunnel_key));
    auto rx = crypto::CipherSuite::create(rd.cipher, ByteView(rd.tunnel_key));
    auto temp = crypto::CipherSuite::create(rd.cipher, ByteView(rd.temp_key));
    if (!tx || !rx || !temp) {
        return nullptr;
    }
    path->tunnel_tx.emplace(std::move(*tx), path->side);
    path->tunnel_rx.emplace(std::move(*rx), path->side);
    path->temp.emplace(std::move(*temp));
    if (path->relayed) {
        path->trs = trs_endpoint(rd, initiator, options_.trs_port);
    }
    if (rd.process == wire::ProcessCode::SharedNat) {
        path->peer = private_endpoint(rd, initiator);
    } else {
        path->peer = nat_endpoint(rd, initiator);
    }
    const auto peer_v4 =
        v4_or_none(initiator ? rd.responder_virtual_ipv4 : rd.initiator_virtual_ipv4);
    const auto peer_v6 =
        v6_or_none(initiator ? rd.responder_virtual_ipv6 : rd.initiator_virtual_ipv6);
    // A new route selection on a PathID in use keeps its data path, so the previous End Key
    // still opens Capsules in flight (§7.5) and the counters go on.
    auto existing = data_.find(path->id);
    if (existing && existing->peer_v4() == peer_v4 && existing->peer_v6() == peer_v6) {
        path->data = existing;
    } else {
        path->data = std::make_shared<DataPath>(path->id, peer_v4, peer_v6);
    }
    // A data path kept from an earlier route of this PathID goes on sending where it did
    // until the new route is up (handle_tunnel_request/response move it).
    Destination d;
    if (path->relayed && path->trs) {
        d = via_trs(*path->trs);
    } else if (path->peer) {
        d.to = *path->peer;
    }
    if (!path->data->sender_ready()) {
        path->data->set_destination(d);
    }
    if (peer_v4) {
        known_peers_[IpAddress(*peer_v4)] = path->peer_fqdn;
    }
    if (peer_v6) {
        known_peers_[IpAddress(*peer_v6)] = path->peer_fqdn;
    }
    path->wake = std::make_unique<asio::steady_timer>(io_);
    return path;
}

bool PathManager::send_path_message(Path& path, wire::MessageType type, std::uint8_t flags,
                                    std::uint32_t transaction_id, const wire::Body& body,
                                    const Endpoint& to) {
    wire::BaseHeader h;
    h.transaction_id = transaction_id;
    h.type = type;
    h.flags = flags;
    h.set_id(path.id);
    auto sealed = path.tunnel_tx->seal(h, body);
    if (!sealed.has_value()) {
        spdlog::warn("path={} cannot seal {}: {}", path.id.to_hex(), wire::to_string(type),
                     sealed.error().reason());
        return false;
    }
    return data_.send(*sealed, to);
}

// ------------------------------------------------------------------------------ initiator

asio::awaitable<Expected<PeerAddresses, ConnectFailure>> PathManager::connect(std::string fqdn,
                                                                              bool force,
                                                                              bool repeat) {
    if (fqdn == identity_.fqdn) {
        co_return fail(ConnectFailure{false, "that is this node's own name"});
    }
    if (!force) {
        for (const auto& [id, path] : paths_) {
            if (path->peer_fqdn == fqdn && path->rd && !path->retired) {
                co_return PeerAddresses{path->data->peer_v4(), path->data->peer_v6()};
            }
        }
    }
    if (const auto it = connecting_.find(fqdn); it != connecting_.end()) {
        auto waiting = it->second;
        boost::system::error_code ec;
        auto wait = waiting->done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        co_await std::move(wait);
        if (waiting->result) {
            co_return *waiting->result;
        }
        co_return fail(ConnectFailure{false, "route selection abandoned"});
    }
    auto nms = nms_;
    if (!nms) {
        co_return fail(ConnectFailure{false, "not registered with NMS"});
    }
    const auto own = Fqdn::parse(identity_.fqdn);
    const auto peer = Fqdn::parse(fqdn);
    if (!own || !peer) {
        co_return fail(ConnectFailure{true, "not a valid FQDN"});
    }
    auto connecting = std::make_shared<Connecting>(io_);
    connecting_[fqdn] = connecting;
    const PathId path_id = signaling::make_path_id(*own, *peer);
    spdlog::info("route selection peer={} path={}", fqdn, path_id.to_hex());

    auto finish = [&](Expected<PeerAddresses, ConnectFailure> result) {
        connecting->result = result;
        connecting->done.cancel();
        if (connecting_[fqdn] == connecting) {
            connecting_.erase(fqdn);
        }
        return result;
    };

    wire::DirectionRequest request;
    request.application_id = options_.application_id;
    request.path_id = path_id;
    request.responder_fqdn = fqdn;
    auto ask = nms->direction_request(std::move(request));
    auto answer = co_await std::move(ask);
    if (connecting->superseded) {
        // The peer's own route selection to us won the tie-break; its path is ours now.
        for (const auto& [id, path] : paths_) {
            if (path->peer_fqdn == fqdn && path->rd) {
                co_return finish(PeerAddresses{path->data->peer_v4(), path->data->peer_v6()});
            }
        }
    }
    if (!answer.has_value()) {
        const auto& f = answer.error();
        spdlog::warn("route selection failed peer={} reason={}", fqdn, f.describe());
        co_return finish(fail(ConnectFailure{
            f.kind == net::NmsFailure::Kind::Error && f.code == wire::ErrorCode::UnknownPeer,
            f.describe()}));
    }
    const wire::RouteDirection& rd = *answer;
    if (rd.path_id != path_id || rd.responder_fqdn != fqdn) {
        co_return finish(fail(ConnectFailure{false, "NMS answered for another path"}));
    }
    if (std::find(options_.accepted_ciphers.begin(), options_.accepted_ciphers.end(), rd.cipher) ==
        options_.accepted_ciphers.end()) {
        co_return finish(fail(
            ConnectFailure{false, fmt::format("path suite {} not accepted (crypto.accept_ciphers)",
                                              wire::to_string(rd.cipher))}));
    }
    auto path = make_path(rd, true);
    if (!path) {
        co_return finish(fail(ConnectFailure{false, "bad keys in Route Direction"}));
    }
    path->repeat = repeat;
    if (const auto old = paths_.find(path_id); old != paths_.end()) {
        path->early_punch = std::move(old->second->early_punch);
        path->early_punch_at = old->second->early_punch_at;
        if (old->second->wake) {
            old->second->wake->cancel();
        }
    }
    path->state = Path::State::Establishing;
    paths_[path_id] = path;
    data_.add(path->data);
    spdlog::info("route peer={} path={} kind={} endpoint={}", fqdn, path_id.to_hex(),
                 path->relayed ? "relayed" : "direct",
                 path->relayed ? (path->trs ? path->trs->to_string() : "-")
                               : (path->peer ? path->peer->to_string() : "-"));
    // C19: a Hole Punching that came before the Tunnel Key.
    if (path->early_punch && Clock::now() - path->early_punch_at < kEarlyPunchKept) {
        auto [bytes, from] = std::move(*path->early_punch);
        path->early_punch.reset();
        const auto messages = wire::split_datagram(bytes);
        if (messages.has_value()) {
            for (const auto& m : *messages) {
                on_message(m, from);
            }
        }
    }
    asio::co_spawn(io_, establish(path), asio::detached);
    co_return finish(PeerAddresses{path->data->peer_v4(), path->data->peer_v6()});
}

asio::awaitable<void> PathManager::establish(std::shared_ptr<Path> path) {
    // §7.5: Tunnel Request with the initiator's End Key, retransmitted as D19 says.
    auto end_key = crypto::random_key();
    auto suite = crypto::CipherSuite::create(path->rd->cipher, end_key);
    if (!suite) {
        remove_path(path->id, "cannot create the End Key suite");
        co_return;
    }
    wire::TunnelRequest body;
    if (path->relayed) {
        auto wrapped = path->temp->wrap_key(end_key, path->id, crypto::WrapRole::Initiator);
        if (!wrapped) {
            remove_path(path->id, "cannot wrap the End Key");
            co_return;
        }
        body.end_key = std::move(*wrapped);
    } else {
        body.end_key.assign(end_key.view().begin(), end_key.view().end());
    }
    path->initiator_key.emplace(end_key.clone());
    path->tunnel_refused = 0;
    path->tunnel_refusal.clear();
    path->tunnel_txid = crypto::random_u32();
    // Installed when the Tunnel Response shows the responder has K_I; until then packets to
    // the peer are held by the data path (D-N2) instead of being sealed with a key the
    // responder cannot open yet.
    path->pending_sender.emplace(std::move(*suite), signaling::Side::Clear);
    const std::uint8_t flags = path->relayed ? wire::flag::kRelayed : 0;
    const auto start = Clock::now();
    const wire::Body request = body;
    for (std::size_t i = 0; i < kSends.size(); ++i) {
        if (path->state == Path::State::Up || stopped_ || path->retired) {
            break;
        }
        const auto to =
            path->relayed ? path->trs : (path->punched_from ? path->punched_from : path->peer);
        if (!to) {
            remove_path(path->id, "no address to reach the peer");
            co_return;
        }
        send_path_message(*path, wire::MessageType::TunnelRequest, flags, path->tunnel_txid,
                          request, *to);
        const auto next = i + 1 < kSends.size() ? kSends[i + 1] : kGiveUp;
        path->wake->expires_at(start + next);
        boost::system::error_code ec;
        auto wait = path->wake->async_wait(asio::redirect_error(asio::use_awaitable, ec));
        co_await std::move(wait);
    }
    if (path->state != Path::State::Up && !path->retired && !stopped_) {
        std::string why = "no Tunnel Response";
        if (path->tunnel_refused > 0) {
            why = fmt::format("{} Tunnel Response(s) arrived, none accepted (last: {})",
                              path->tunnel_refused, path->tunnel_refusal);
        }
        spdlog::warn("tunnel establishment failed peer={} path={}: {}", path->peer_fqdn,
                     path->id.to_hex(), why);
        const bool direct = !path->relayed;
        const bool repeated = path->repeat;
        const std::string fqdn = path->peer_fqdn;
        remove_path(path->id, why);
        if (direct && !repeated) {
            // Q8 for every direct route (N11): repeat the Direction Request at once; NMS then
            // relays this PathID.
            spdlog::info(
                "route selection again peer={}: the direct route failed, asking for "
                "the relay",
                fqdn);
            auto again = connect(fqdn, true, true);
            [[maybe_unused]] auto result = co_await std::move(again);
        }
    }
}

void PathManager::handle_tunnel_response(Path& path, const wire::BaseHeader& h,
                                         const wire::TunnelResponse& body, const Endpoint& from) {
    auto refuse = [&](std::string_view reason) {
        count(std::string(reason));
        ++path.tunnel_refused;
        path.tunnel_refusal = reason;
    };
    if (!path.initiator || h.transaction_id != path.tunnel_txid) {
        refuse("unexpected_tunnel_response");
        return;
    }
    if (path.state == Path::State::Up) {
        return;  // a duplicate answer to a retransmission
    }
    if (!path.initiator_key) {
        refuse("unexpected_tunnel_response");
        return;
    }
    // The key that protects responder → initiator Capsules: K_R when given, else K_I (D14).
    auto receive_key = signaling::responder_to_initiator_key(
        body, path.relayed, path.temp ? &*path.temp : nullptr, path.id, *path.initiator_key);
    if (!receive_key) {
        refuse(signaling::to_string(receive_key.error()));
        return;
    }
    if (!body.end_key) {
        spdlog::info(
            "tunnel peer={} path={}: the Tunnel Response carries no End Key, ours "
            "protects both directions (D14)",
            path.peer_fqdn, path.id.to_hex());
    }
    auto suite = crypto::CipherSuite::create(path.rd->cipher, *receive_key);
    if (!suite) {
        refuse("bad_end_key");
        return;
    }
    path.data->install_receiver(signaling::Opener(std::move(*suite), signaling::Side::Clear),
                                kKeyOverlap);
    path.initiator_key.reset();
    if (path.pending_sender) {
        path.data->install_sender(std::move(*path.pending_sender), path.tunnel_txid);
        path.pending_sender.reset();
    }
    // The new route's destination, also when this PathID's data path was kept from an earlier
    // route (a dead direct one, say) and still pointed there.
    if (path.relayed && path.trs) {
        path.data->set_destination(via_trs(*path.trs));
    } else {
        Destination d;
        d.to = from;
        path.data->set_destination(d);
        path.peer = from;
    }
    mark_up(path);
}

// ------------------------------------------------------------------------------ responder

void PathManager::on_route_direction(const wire::BaseHeader& /*header*/,
                                     const wire::RouteDirection& rd) {
    if (rd.responder_fqdn != identity_.fqdn) {
        count("route_direction_not_for_us");
        return;
    }
    if (std::find(options_.accepted_ciphers.begin(), options_.accepted_ciphers.end(), rd.cipher) ==
        options_.accepted_ciphers.end()) {
        spdlog::warn("route from {} uses suite {}, not accepted (crypto.accept_ciphers)",
                     rd.initiator_fqdn, wire::to_string(rd.cipher));
        return;
    }
    if (const auto it = paths_.find(rd.path_id);
        it != paths_.end() && it->second->rd && it->second->rd->tunnel_key == rd.tunnel_key) {
        return;  // NMS retransmitted; already set up
    }
    // Both ends started a route selection to each other at once: the lower FQDN's wins.
    if (const auto c = connecting_.find(rd.initiator_fqdn); c != connecting_.end()) {
        if (identity_.fqdn < rd.initiator_fqdn) {
            spdlog::info("route from {} ignored: our own route selection to it wins",
                         rd.initiator_fqdn);
            return;
        }
        c->second->superseded = true;
    }
    auto path = make_path(rd, false);
    if (!path) {
        count("bad_route_direction");
        return;
    }
    path->state = Path::State::Establishing;
    if (const auto old = paths_.find(rd.path_id); old != paths_.end() && old->second->wake) {
        old->second->wake->cancel();
    }
    paths_[rd.path_id] = path;
    data_.add(path->data);
    spdlog::info("route from peer={} path={} kind={}", path->peer_fqdn, path->id.to_hex(),
                 path->relayed ? "relayed" : "direct");
    // §7.3 step 4, §7.4 step 6: open our NAT towards the initiator, bind the TRS slot.
    const auto initiator_nat = nat_endpoint(rd, false);
    if (path->relayed && path->trs) {
        asio::co_spawn(io_, punch(path, *path->trs, 1), asio::detached);
    }
    if (initiator_nat && (identity_.behind_nat || path->relayed) &&
        ((initiator_nat->address.is_v4() && identity_.has_v4) ||
         (initiator_nat->address.is_v6() && identity_.has_v6))) {
        asio::co_spawn(io_, punch(path, *initiator_nat, kPunches), asio::detached);
    }
}

void PathManager::handle_tunnel_request(Path& path, const wire::BaseHeader& h,
                                        const wire::TunnelRequest& body, const Endpoint& from) {
    if (path.initiator) {
        count("unexpected_tunnel_request");
        return;
    }
    const bool relayed = (h.flags & wire::flag::kRelayed) != 0;
    if (relayed != path.relayed) {
        count("relayed_flag_mismatch");
        return;
    }
    const auto flags = static_cast<std::uint8_t>(wire::flag::kSuccess | wire::flag::kResponse |
                                                 (relayed ? wire::flag::kRelayed : 0));
    const Endpoint reply_to = relayed && path.trs ? *path.trs : from;
    // The answer carries K_R, or no End Key at all when K_I serves both directions (D14).
    auto answer_with = [&](const std::optional<crypto::Key>& key) {
        wire::TunnelResponse response;
        if (key && relayed) {
            auto wrapped = path.temp->wrap_key(*key, path.id, crypto::WrapRole::Responder);
            if (!wrapped) {
                return false;
            }
            response.end_key = std::move(*wrapped);
        } else if (key) {
            response.end_key = Bytes(key->view().begin(), key->view().end());
        }
        const wire::Body b = response;
        return send_path_message(path, wire::MessageType::TunnelResponse, flags, h.transaction_id,
                                 b, reply_to);
    };
    if (path.tunnel_answered && h.transaction_id == path.tunnel_txid) {
        answer_with(path.responder_key);  // D18: a retransmitted request gets the answer again
        return;
    }
    auto initiator_key =
        signaling::read_end_key(body.end_key, relayed, path.temp ? &*path.temp : nullptr, path.id,
                                crypto::WrapRole::Initiator);
    if (!initiator_key) {
        count(std::string(signaling::to_string(initiator_key.error())));
        return;
    }
    auto rx = crypto::CipherSuite::create(path.rd->cipher, *initiator_key);
    auto responder_key = options_.responder_end_key ? crypto::random_key() : initiator_key->clone();
    auto tx = crypto::CipherSuite::create(path.rd->cipher, responder_key);
    if (!rx || !tx) {
        count("bad_end_key");
        return;
    }
    path.data->install_receiver(signaling::Opener(std::move(*rx), signaling::Side::Set),
                                kKeyOverlap);
    path.tunnel_txid = h.transaction_id;
    path.data->install_sender(signaling::Sealer(std::move(*tx), signaling::Side::Set),
                              h.transaction_id);
    Destination d;
    if (relayed && path.trs) {
        d = via_trs(*path.trs);
    } else {
        d.to = from;
        path.peer = from;
    }
    path.data->set_destination(d);
    path.responder_key.reset();
    if (options_.responder_end_key) {
        path.responder_key.emplace(std::move(responder_key));
    }
    path.tunnel_answered = true;
    answer_with(path.responder_key);
    mark_up(path);
}

void PathManager::mark_up(Path& path) {
    const bool first = path.state != Path::State::Up;
    path.state = Path::State::Up;
    path.last_handshake = Clock::now();
    path.misses = 0;
    path.awaiting_ack = false;
    path.data->counters().last_traffic_ms.store(
        std::chrono::duration_cast<milliseconds>(Clock::now().time_since_epoch()).count(),
        std::memory_order_relaxed);
    data_.add(path.data);
    data_.flush(*path.data);
    path.wake->cancel();
    if (first) {
        const auto d = path.data->destination();
        spdlog::info("tunnel up peer={} path={} role={} kind={} endpoint={}", path.peer_fqdn,
                     path.id.to_hex(), path.initiator ? "initiator" : "responder",
                     d.relayed ? "relayed" : "direct", d.to.to_string());
    }
    retire_others(path);
    path.next_optimise = Clock::now() + options_.reoptimise;
    if (path.initiator && path.relayed) {
        asio::co_spawn(io_, optimise(paths_.at(path.id)), asio::detached);
    }
}

// Another path to the same peer (the one before a move, or the other direction) is replaced
// by `keep`; its receiving key stays valid for the overlap so packets in flight arrive.
void PathManager::retire_others(const Path& keep) {
    std::vector<PathId> old;
    for (const auto& [id, p] : paths_) {
        if (id != keep.id && p->peer_fqdn == keep.peer_fqdn && !p->retired) {
            old.push_back(id);
        }
    }
    for (const auto& id : old) {
        auto p = paths_.at(id);
        p->retired = true;
        if (p->wake) {
            p->wake->cancel();
        }
        spdlog::info("path replaced peer={} old={} new={}", keep.peer_fqdn, id.to_hex(),
                     keep.id.to_hex());
        auto timer = std::make_shared<asio::steady_timer>(io_, kKeyOverlap);
        timer->async_wait([this, timer, id](const boost::system::error_code&) {
            const auto it = paths_.find(id);
            if (!stopped_ && it != paths_.end() && it->second->retired) {
                data_.remove(id);
                paths_.erase(it);
            }
        });
    }
    // The kept path owns the peer's addresses again.
    data_.add(keep.data);
}

void PathManager::remove_path(const PathId& id, const std::string& why) {
    const auto it = paths_.find(id);
    if (it == paths_.end()) {
        return;
    }
    spdlog::info("path removed peer={} path={} reason={}", it->second->peer_fqdn, id.to_hex(), why);
    if (it->second->wake) {
        it->second->wake->cancel();
    }
    if (data_.find(id) == it->second->data) {
        data_.remove(id);
    }
    paths_.erase(it);
}

// --------------------------------------------------------------------- punching, keepalive

asio::awaitable<void> PathManager::punch(std::shared_ptr<Path> path, Endpoint to, int times) {
    asio::steady_timer timer(io_);
    const wire::Body empty = wire::EmptyBody{};
    for (int i = 0; i < times && !stopped_ && !path->retired; ++i) {
        if (path->optimising == false && path->initiator && !path->relayed) {
            break;
        }
        const std::uint8_t flags =
            (path->relayed && path->trs && to == *path->trs) ? wire::flag::kRelayed : 0;
        send_path_message(*path, wire::MessageType::HolePunching, flags, crypto::random_u32(),
                          empty, to);
        if (i + 1 < times) {
            timer.expires_after(seconds(1));
            boost::system::error_code ec;
            auto wait = timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            co_await std::move(wait);
        }
    }
}

asio::awaitable<void> PathManager::optimise(std::shared_ptr<Path> path) {
    // §7.7: try the direct path; the first ACK from the peer's own address switches to it. The
    // initiator does so when the relayed tunnel comes up; later, while the path stays relayed,
    // either end tries again every timers.reoptimise_s (D-N13), towards the other end's NAT
    // endpoint, so a path relayed through an outage goes direct again once it can.
    auto target =
        path->punched_from ? path->punched_from : nat_endpoint(*path->rd, path->initiator);
    if (!target) {
        co_return;
    }
    const bool family_ok = (target->address.is_v4() && identity_.has_v4) ||
                           (target->address.is_v6() && identity_.has_v6);
    if (!family_ok) {
        co_return;  // IPv4-only ↔ IPv6-only: the relay stays
    }
    path->optimising = true;
    asio::steady_timer timer(io_);
    const wire::Body empty = wire::EmptyBody{};
    for (int i = 0; i < kPunches && path->optimising && !stopped_ && !path->retired; ++i) {
        const auto to = path->punched_from ? *path->punched_from : *target;
        send_path_message(*path, wire::MessageType::HolePunching, 0, crypto::random_u32(), empty,
                          to);
        timer.expires_after(seconds(1));
        boost::system::error_code ec;
        auto wait = timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        co_await std::move(wait);
    }
    if (path->optimising) {
        path->optimising = false;
        spdlog::info("route optimisation: no direct answer, staying relayed peer={} path={}",
                     path->peer_fqdn, path->id.to_hex());
    }
}

void PathManager::on_switch(const PathId& id, const Endpoint& to) {
    const auto it = paths_.find(id);
    if (it == paths_.end()) {
        return;
    }
    it->second->relayed = false;
    it->second->peer = to;
    spdlog::info("path direct peer={} path={} endpoint={} (first direct Capsule)",
                 it->second->peer_fqdn, id.to_hex(), to.to_string());
}

asio::awaitable<void> PathManager::tick_loop() {
    while (!stopped_) {
        ticker_->expires_after(options_.path_keepalive);
        boost::system::error_code ec;
        auto wait = ticker_->async_wait(asio::redirect_error(asio::use_awaitable, ec));
        co_await std::move(wait);
        if (stopped_) {
            break;
        }
        tick();
    }
}

void PathManager::tick() {
    const auto now = Clock::now();
    const auto now_ms = std::chrono::duration_cast<milliseconds>(now.time_since_epoch()).count();
    const auto wall = std::chrono::system_clock::now();
    std::vector<std::string> reselect;
    std::vector<PathId> idle;
    const wire::Body empty = wire::EmptyBody{};
    for (auto& [id, path] : paths_) {
        if (path->retired) {
            continue;
        }
        if (path->state == Path::State::Up) {
            const auto last = path->data->counters().last_traffic_ms.load();
            if (now_ms - last > std::chrono::duration_cast<milliseconds>(options_.idle).count()) {
                idle.push_back(id);
                continue;
            }
            if (path->initiator && wall + options_.renew_before > path->expires) {
                reselect.push_back(path->peer_fqdn);  // C4: before the Tunnel Key expires
                continue;
            }
            if (path->awaiting_ack && ++path->misses >= kMissesBeforeReselect) {
                spdlog::warn("path keepalive: {} unanswered peer={} path={}", path->misses,
                             path->peer_fqdn, id.to_hex());
                reselect.push_back(path->peer_fqdn);
                continue;
            }
            if (path->relayed && !path->optimising && options_.reoptimise.count() > 0 &&
                now >= path->next_optimise) {
                path->next_optimise = now + options_.reoptimise;
                asio::co_spawn(io_, optimise(path), asio::detached);
            }
            const auto d = path->data->destination();
            path->awaiting_ack = true;
            send_path_message(*path, wire::MessageType::HolePunching,
                              d.relayed ? wire::flag::kRelayed : 0, crypto::random_u32(), empty,
                              d.to);
        } else if (!path->initiator && path->relayed && path->trs) {
            // §7.4 step 6: keep the TRS slot bound until the initiator's Tunnel Request comes.
            send_path_message(*path, wire::MessageType::HolePunching, wire::flag::kRelayed,
                              crypto::random_u32(), empty, *path->trs);
        }
    }
    for (const auto& id : idle) {
        remove_path(id, "idle");
    }
    for (const auto& fqdn : reselect) {
        spawn_connect(fqdn, true, false);
    }
    for (auto it = recent_misses_.begin(); it != recent_misses_.end();) {
        it = now - it->second > kMissInterval ? recent_misses_.erase(it) : std::next(it);
    }
}

void PathManager::reselect_all() {
    reselect_where(false, "after a move");
}

void PathManager::reselect_unhealthy() {
    reselect_where(true, "after NMS came back");
}

void PathManager::reselect_where(bool only_unanswered, std::string_view why) {
    std::set<std::string> peers;
    for (const auto& [id, path] : paths_) {
        const bool unanswered = path->state == Path::State::Up && path->misses > 0;
        if (!path->retired && path->rd && (!only_unanswered || unanswered)) {
            peers.insert(path->peer_fqdn);
        }
    }
    for (const auto& fqdn : peers) {
        spdlog::info("route selection again {} peer={}", why, fqdn);
        spawn_connect(fqdn, true, false);
    }
}

void PathManager::spawn_connect(std::string fqdn, bool force, bool repeat) {
    asio::co_spawn(
        io_,
        [this, fqdn = std::move(fqdn), force, repeat]() -> asio::awaitable<void> {
            auto again = connect(fqdn, force, repeat);
            [[maybe_unused]] auto result = co_await std::move(again);
        },
        asio::detached);
}

void PathManager::on_miss(const IpAddress& destination) {
    const auto known = known_peers_.find(destination);
    if (known == known_peers_.end()) {
        return;  // an overlay address nobody resolved: nothing to do until a DNS query
    }
    const auto now = Clock::now();
    const auto last = recent_misses_.find(destination);
    if (last != recent_misses_.end() && now - last->second < kMissInterval) {
        return;
    }
    recent_misses_[destination] = now;
    const std::string fqdn = known->second;
    spdlog::info("traffic to {} ({}) without a tunnel: route selection again",
                 destination.to_string(), fqdn);
    spawn_connect(fqdn, false, false);
}

// ------------------------------------------------------------------------------- messages

void PathManager::on_message(const wire::MessageView& message, const Endpoint& from) {
    const PathId id(message.header.id);
    const auto it = paths_.find(id);
    if (it == paths_.end()) {
        count("unknown_path");
        return;
    }
    auto path = it->second;
    if (!path->tunnel_rx) {
        // C19: the Tunnel Key is not here yet; keep the latest Hole Punching for 10 s.
        if (message.header.type == wire::MessageType::HolePunching) {
            path->early_punch.emplace(Bytes(message.bytes.begin(), message.bytes.end()), from);
            path->early_punch_at = Clock::now();
        } else {
            count("no_tunnel_key_yet");
        }
        return;
    }
    std::vector<std::byte> plaintext(crypto::CipherSuite::max_plaintext_size(message.bytes.size()));
    auto opened = path->tunnel_rx->open(message, plaintext);
    if (!opened.has_value()) {
        count(std::string(opened.error().reason()));
        return;
    }
    const auto& h = opened->header;
    const bool from_trs = path->trs && from == *path->trs;
    switch (h.type) {
        case wire::MessageType::TunnelRequest:
            handle_tunnel_request(*path, h, std::get<wire::TunnelRequest>(opened->body), from);
            break;
        case wire::MessageType::TunnelResponse:
            handle_tunnel_response(*path, h, std::get<wire::TunnelResponse>(opened->body), from);
            break;
        case wire::MessageType::HolePunching: {
            if (!from_trs) {
                path->punched_from = from;  // §6.1: where to reach the sender
            }
            const wire::Body empty = wire::EmptyBody{};
            const auto flags =
                static_cast<std::uint8_t>(wire::flag::kSuccess | wire::flag::kResponse |
                                          (from_trs ? wire::flag::kRelayed : 0));
            send_path_message(*path, wire::MessageType::Ack, flags, h.transaction_id, empty, from);
            break;
        }
        case wire::MessageType::Ack:
            path->awaiting_ack = false;
            path->misses = 0;
            if (!from_trs && path->optimising && path->state == Path::State::Up) {
                // §7.7 step 3: the peer answered on the direct path.
                path->optimising = false;
                path->relayed = false;
                path->peer = from;
                Destination d;
                d.to = from;
                path->data->set_destination(d);
                spdlog::info("path direct peer={} path={} endpoint={} (route optimisation)",
                             path->peer_fqdn, id.to_hex(), from.to_string());
            }
            break;
        case wire::MessageType::Error: {
            const auto& e = std::get<wire::Error>(opened->body);
            spdlog::warn("peer error path={} code={} reason={}", id.to_hex(),
                         wire::to_string(e.error_code()), printable(e.reason));
            break;
        }
        default:
            count("unexpected_path_message");
            break;
    }
}

std::vector<PeerStatus> PathManager::status() const {
    std::vector<PeerStatus> out;
    const auto now = Clock::now();
    for (const auto& [id, path] : paths_) {
        if (path->retired) {
            continue;
        }
        PeerStatus s;
        s.fqdn = path->peer_fqdn;
        s.path_id = id.to_hex();
        s.role = path->initiator ? "initiator" : "responder";
        s.state = path->state == Path::State::Up             ? "up"
                  : path->state == Path::State::Establishing ? "establishing"
                                                             : "routing";
        s.v4 = path->data->peer_v4();
        s.v6 = path->data->peer_v6();
        const auto d = path->data->destination();
        s.relayed = d.relayed;
        s.endpoint = d.to;
        const auto& c = path->data->counters();
        s.tx_packets = c.tx_packets.load();
        s.tx_bytes = c.tx_bytes.load();
        s.rx_packets = c.rx_packets.load();
        s.rx_bytes = c.rx_bytes.load();
        s.drops = c.drops.load();
        if (path->last_handshake) {
            s.last_handshake_s =
                std::chrono::duration_cast<seconds>(now - *path->last_handshake).count();
        }
        out.push_back(std::move(s));
    }
    return out;
}

}  // namespace cyphonic::noded
