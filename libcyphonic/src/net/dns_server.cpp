#include "cyphonic/net/dns_server.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <exception>
#include <fstream>
#include <sstream>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cyphonic/core/fqdn.hpp"
#include "cyphonic/crypto/random.hpp"
#include "cyphonic/dns/message.hpp"

namespace cyphonic::net {

using Udp = asio::ip::udp;
using Tcp = asio::ip::tcp;

namespace {

constexpr std::size_t kMaxMessage = 65535;  // UDP datagram and TCP frame alike
// A TCP client gets this long to send its next query or take our answer (RFC 7766 §6.2.3
// suggests seconds, not minutes: idle connections hold a slot of max_in_flight).
constexpr std::chrono::seconds kTcpIdleTimeout{10};
// Port 0: UDP picks a port, TCP must get the same one; tries before giving up on a clash.
constexpr int kPortAttempts = 16;
constexpr std::chrono::milliseconds kAcceptBackoff{100};

asio::ip::address to_asio(const IpAddress& a) {
    if (a.is_v4()) {
        asio::ip::address_v4::bytes_type b{};
        std::memcpy(b.data(), a.v4().bytes.data(), b.size());
        return asio::ip::address_v4(b);
    }
    asio::ip::address_v6::bytes_type b{};
    std::memcpy(b.data(), a.v6().bytes.data(), b.size());
    return asio::ip::address_v6(b);
}

IpAddress from_asio(const asio::ip::address& a) {
    if (a.is_v4()) {
        Ipv4Address v4;
        const auto b = a.to_v4().to_bytes();
        std::memcpy(v4.bytes.data(), b.data(), b.size());
        return v4;
    }
    Ipv6Address v6;
    const auto b = a.to_v6().to_bytes();
    std::memcpy(v6.bytes.data(), b.data(), b.size());
    return IpAddress(v6).normalized();  // a v4-mapped client on a dual-stack socket is IPv4
}

void cancel_quietly(asio::steady_timer& timer) noexcept {
    try {
        timer.cancel();
    } catch (const boost::system::system_error&) {
        // Nothing to cancel on a timer whose service is gone.
    }
}

// What the server does with one received message.
struct Plan {
    enum class Action : std::uint8_t { Drop, Reply, Overlay, Forward };
    Action action = Action::Drop;
    Bytes reply;                      // Reply
    std::optional<dns::Query> query;  // Overlay, Forward
};

}  // namespace

namespace detail {

struct DnsServerState {
    DnsServerState(asio::any_io_executor ex, DnsServerOptions opts, DnsServer::Resolver res)
        : executor(std::move(ex)), options(std::move(opts)), resolver(std::move(res)) {}

    void drop(std::string_view reason) { ++counters.dropped[std::string(reason)]; }

    asio::any_io_executor executor;
    DnsServerOptions options;
    DnsServer::Resolver resolver;
    Bytes domain_wire;  // empty: no overlay domain
    // Owned here and never moved after start(): the loops refer to them.
    std::vector<std::unique_ptr<Udp::socket>> udp;
    std::vector<std::unique_ptr<Tcp::acceptor>> tcp;
    std::map<std::uint64_t, std::weak_ptr<Tcp::socket>> connections;
    std::uint64_t next_connection = 0;
    std::size_t in_flight = 0;
    bool started = false;
    DnsCounters counters;
};

}  // namespace detail

namespace {

using State = detail::DnsServerState;
using StatePtr = std::shared_ptr<State>;

// Holds one slot of max_in_flight until destroyed; moves into the task that uses it.
class InFlight {
public:
    explicit InFlight(StatePtr state) : state_(std::move(state)) { ++state_->in_flight; }
    ~InFlight() {
        if (state_) {
            --state_->in_flight;
        }
    }
    InFlight(InFlight&&) noexcept = default;
    InFlight& operator=(InFlight&&) = delete;
    InFlight(const InFlight&) = delete;
    InFlight& operator=(const InFlight&) = delete;

private:
    StatePtr state_;
};

// Completion of a task spawned per query or connection: an escaped exception is our bug.
auto task_done(StatePtr owner) {
    return [state = std::move(owner)](const std::exception_ptr& e) {
        if (!e) {
            return;
        }
        ++state->counters.internal_errors;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            spdlog::error("dns task failed reason={}", ex.what());
        } catch (...) {
            spdlog::error("dns task failed reason=unknown exception");
        }
    };
}

// Completion of a listener loop: it only ends on stop(), anything else is logged.
auto listener_done(std::string listener) {
    return [what = std::move(listener)](const std::exception_ptr& e) {
        if (!e) {
            return;
        }
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            spdlog::error("dns listener stopped listener={} reason={}", what, ex.what());
        } catch (...) {
            spdlog::error("dns listener stopped listener={} reason=unknown exception", what);
        }
    };
}

Plan reply_with(Bytes bytes) {
    Plan p;
    p.action = Plan::Action::Reply;
    p.reply = std::move(bytes);
    return p;
}

Plan wait_for(Plan::Action action, dns::Query query) {
    Plan p;
    p.action = action;
    p.query = std::move(query);
    return p;
}

// Decides what to do with `packet` without waiting for anything.
Plan plan_for(State& s, ByteView packet) {
    auto query = dns::parse_query(packet);
    if (!query.has_value()) {
        const auto rcode =
            query.error() == dns::DnsError::BadOpcode ? dns::Rcode::NotImp : dns::Rcode::FormErr;
        auto reply = dns::answer_header_only(packet, rcode);
        if (!reply.has_value()) {
            s.drop(dns::to_string(reply.error()));  // no header, or a response: never answered
            return {};
        }
        ++s.counters.answered_formerr;
        return reply_with(std::move(*reply));
    }
    const auto zone = s.domain_wire.empty() ? dns::ZoneMatch::Outside
                                            : dns::match_zone(query->qname_wire, s.domain_wire);
    if (zone == dns::ZoneMatch::Outside) {
        return wait_for(Plan::Action::Forward, std::move(*query));
    }
    const auto local = [&s](Bytes reply) {
        ++s.counters.answered_local;
        return reply_with(std::move(reply));
    };
    if (zone == dns::ZoneMatch::Apex) {
        return local(dns::answer_nodata(*query));  // the domain has no records of its own
    }
    if (!Fqdn::validate(query->name).has_value()) {
        // Below the domain but not a name a peer can have (PROTOCOL.md §0): no such peer.
        return local(dns::answer_rcode(*query, dns::Rcode::NxDomain));
    }
    const bool address_type = query->qtype == dns::rrtype::kA ||
                              query->qtype == dns::rrtype::kAaaa ||
                              query->qtype == dns::rrtype::kAny;
    const bool internet_class = query->qclass == dns::kClassIn || query->qclass == dns::kClassAny;
    if (!address_type || !internet_class) {
        return local(dns::answer_nodata(*query));  // peers have addresses, nothing else
    }
    return wait_for(Plan::Action::Overlay, std::move(*query));
}

asio::awaitable<Bytes> resolve_overlay(StatePtr s, dns::Query query, Endpoint client) {
    OverlayAnswer answer;
    try {
        auto task = s->resolver(query.name, client);
        answer = co_await std::move(task);
    } catch (const std::exception& e) {
        ++s->counters.internal_errors;
        spdlog::warn("dns resolver failed fqdn={} reason={}", query.name, e.what());
        answer = OverlayAnswer{};  // ServFail
    }
    switch (answer.status) {
        case OverlayAnswer::Status::Ok: {
            ++s->counters.answered_overlay;
            std::vector<IpAddress> addrs;
            if (answer.ipv4) {
                addrs.emplace_back(*answer.ipv4);
            }
            if (answer.ipv6) {
                addrs.emplace_back(*answer.ipv6);
            }
            co_return dns::answer_addresses(query, addrs, s->options.ttl);
        }
        case OverlayAnswer::Status::NxDomain:
            ++s->counters.answered_overlay;
            co_return dns::answer_rcode(query, dns::Rcode::NxDomain);
        case OverlayAnswer::Status::ServFail:
            break;
    }
    ++s->counters.servfail;
    co_return dns::answer_rcode(query, dns::Rcode::ServFail);
}

// A socket shared with the timer that closes it on timeout, so a timer firing after the
// exchange ended never touches a freed socket.
template <class Socket>
struct Guarded {
    explicit Guarded(const asio::any_io_executor& ex) : socket(ex) {}
    Socket socket;
    bool timed_out = false;
};

template <class Socket>
void arm(asio::steady_timer& timer, const std::shared_ptr<Guarded<Socket>>& guarded,
         std::chrono::milliseconds timeout) {
    timer.expires_after(timeout);
    timer.async_wait([guarded](const boost::system::error_code& ec) {
        if (!ec) {
            guarded->timed_out = true;
            boost::system::error_code ignored;
            guarded->socket.close(ignored);
        }
    });
}

// One query to one upstream over UDP on a fresh connected socket: a random source port on top
// of the random ID, and the kernel drops datagrams from anyone but the upstream. Returns the
// matching answer, or nothing on timeout or error (counted).
asio::awaitable<std::optional<Bytes>> ask_udp(StatePtr s, Endpoint upstream, Bytes packet,
                                              dns::Query expected) {
    auto guarded = std::make_shared<Guarded<Udp::socket>>(s->executor);
    const Udp::endpoint to(to_asio(upstream.address), upstream.port);
    boost::system::error_code ec;
    guarded->socket.open(to.protocol(), ec);
    if (!ec) {
        guarded->socket.connect(to, ec);
    }
    if (ec) {
        ++s->counters.upstream_errors;
        co_return std::nullopt;
    }
    asio::steady_timer timer(s->executor);
    arm(timer, guarded, s->options.upstream_timeout);
    co_await guarded->socket.async_send(asio::buffer(packet),
                                        asio::redirect_error(asio::use_awaitable, ec));
    std::vector<std::byte> buffer(ec ? 0 : kMaxMessage);
    while (!ec) {
        const std::size_t n = co_await guarded->socket.async_receive(
            asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            break;
        }
        const ByteView reply = ByteView(buffer).first(n);
        if (dns::answers_query(reply, expected)) {
            cancel_quietly(timer);
            co_return Bytes(reply.begin(), reply.end());
        }
        s->drop("upstream_mismatch");
    }
    cancel_quietly(timer);
    if (guarded->timed_out) {
        ++s->counters.upstream_timeouts;
    } else {
        ++s->counters.upstream_errors;  // e.g. ICMP port unreachable: try the next one now
    }
    co_return std::nullopt;
}

// The same over TCP, for answers too large for UDP.
asio::awaitable<std::optional<Bytes>> ask_tcp(StatePtr s, Endpoint upstream, Bytes packet,
                                              dns::Query expected) {
    auto guarded = std::make_shared<Guarded<Tcp::socket>>(s->executor);
    const Tcp::endpoint to(to_asio(upstream.address), upstream.port);
    asio::steady_timer timer(s->executor);
    arm(timer, guarded, s->options.upstream_timeout);
    boost::system::error_code ec;
    co_await guarded->socket.async_connect(to, asio::redirect_error(asio::use_awaitable, ec));
    std::array<std::byte, 2> length{};
    store_be16<0>(std::span(length), static_cast<std::uint16_t>(packet.size()));
    if (!ec) {
        const std::array<asio::const_buffer, 2> request = {asio::buffer(length),
                                                           asio::buffer(packet)};
        co_await asio::async_write(guarded->socket, request,
                                   asio::redirect_error(asio::use_awaitable, ec));
    }
    if (!ec) {
        co_await asio::async_read(guarded->socket, asio::buffer(length),
                                  asio::redirect_error(asio::use_awaitable, ec));
    }
    Bytes reply;
    if (!ec) {
        reply.resize(load_be16<0>(std::span<const std::byte, 2>(length)));
        co_await asio::async_read(guarded->socket, asio::buffer(reply),
                                  asio::redirect_error(asio::use_awaitable, ec));
    }
    cancel_quietly(timer);
    if (!ec && dns::answers_query(reply, expected)) {
        co_return reply;
    }
    if (guarded->timed_out) {
        ++s->counters.upstream_timeouts;
    } else if (ec) {
        ++s->counters.upstream_errors;
    } else {
        s->drop("upstream_mismatch");
    }
    co_return std::nullopt;
}

asio::awaitable<Bytes> forward(StatePtr s, dns::Query query, Bytes packet, bool client_tcp) {
    ++s->counters.forwarded;
    for (const Endpoint& upstream : s->options.upstream) {
        // A fresh random ID per try (RFC 5452): the client's ID is its own business.
        dns::Query expected = query;
        expected.id = static_cast<std::uint16_t>(crypto::random_u32());
        Bytes request = packet;
        dns::set_id(request, expected.id);
        auto udp_try = ask_udp(s, upstream, request, expected);
        std::optional<Bytes> reply = co_await std::move(udp_try);
        if (reply && client_tcp && dns::parse_header(*reply)->truncated()) {
            // The client asked over TCP because it wants the whole answer.
            auto tcp_try = ask_tcp(s, upstream, request, expected);
            std::optional<Bytes> full = co_await std::move(tcp_try);
            if (full) {
                reply = std::move(full);
            }
        }
        if (reply) {
            dns::set_id(*reply, query.id);
            co_return std::move(*reply);
        }
    }
    ++s->counters.servfail;
    co_return dns::answer_rcode(query, dns::Rcode::ServFail);
}

// The answer to a planned Overlay or Forward query.
asio::awaitable<Bytes> answer(StatePtr s, Plan plan, Bytes packet, Endpoint client,
                              bool client_tcp) {
    if (plan.action == Plan::Action::Overlay) {
        auto task = resolve_overlay(s, std::move(*plan.query), client);
        co_return co_await std::move(task);
    }
    auto task = forward(s, std::move(*plan.query), std::move(packet), client_tcp);
    co_return co_await std::move(task);
}

Bytes overloaded(State& s, const Plan& plan) {
    ++s.counters.overloaded;
    ++s.counters.servfail;
    return dns::answer_rcode(*plan.query, dns::Rcode::ServFail);
}

asio::awaitable<void> send_udp(StatePtr s, Udp::socket& socket, Bytes reply, Udp::endpoint to) {
    boost::system::error_code ec;
    co_await socket.async_send_to(asio::buffer(reply), to,
                                  asio::redirect_error(asio::use_awaitable, ec));
    if (ec && ec != asio::error::operation_aborted) {
        s->drop("send_failed");
    }
}

// One UDP query that waits on the resolver or an upstream.
// `slot` was taken by the receive loop, so a burst cannot overshoot before tasks start.
asio::awaitable<void> udp_task(StatePtr s, [[maybe_unused]] InFlight slot, Udp::socket& socket,
                               Plan plan, Bytes packet, Udp::endpoint from) {
    const Endpoint client{from_asio(from.address()), from.port()};
    auto task = answer(s, std::move(plan), std::move(packet), client, false);
    Bytes reply = co_await std::move(task);
    auto send = send_udp(s, socket, std::move(reply), from);
    co_await std::move(send);
}

asio::awaitable<void> serve_udp(StatePtr s, Udp::socket& socket) {
    std::vector<std::byte> buffer(kMaxMessage);
    Udp::endpoint from;
    for (;;) {
        boost::system::error_code ec;
        const std::size_t n = co_await socket.async_receive_from(
            asio::buffer(buffer), from, asio::redirect_error(asio::use_awaitable, ec));
        if (ec == asio::error::operation_aborted || !socket.is_open()) {
            co_return;  // stop() closed the socket
        }
        if (ec) {
            continue;  // an ICMP error from an earlier send; keep serving
        }
        ++s->counters.queries;
        const ByteView packet = ByteView(buffer).first(n);
        Plan plan = plan_for(*s, packet);
        switch (plan.action) {
            case Plan::Action::Drop:
                break;
            case Plan::Action::Reply: {
                auto send = send_udp(s, socket, std::move(plan.reply), from);
                co_await std::move(send);
                break;
            }
            case Plan::Action::Overlay:
            case Plan::Action::Forward:
                if (s->in_flight >= s->options.max_in_flight) {
                    auto send = send_udp(s, socket, overloaded(*s, plan), from);
                    co_await std::move(send);
                    break;
                }
                asio::co_spawn(s->executor,
                               udp_task(s, InFlight(s), socket, std::move(plan),
                                        Bytes(packet.begin(), packet.end()), from),
                               task_done(s));
                break;
        }
    }
}

// One TCP connection: length-prefixed queries answered in order until the client closes,
// stays idle for kTcpIdleTimeout, or stop() closes it.
asio::awaitable<void> serve_tcp(StatePtr s, std::shared_ptr<Guarded<Tcp::socket>> conn,
                                std::uint64_t id) {
    const Endpoint client = [&conn] {
        boost::system::error_code ec;
        const auto ep = conn->socket.remote_endpoint(ec);
        return ec ? Endpoint{} : Endpoint{from_asio(ep.address()), ep.port()};
    }();
    asio::steady_timer timer(s->executor);
    for (;;) {
        boost::system::error_code ec;
        std::array<std::byte, 2> length{};
        arm(timer, conn, kTcpIdleTimeout);
        co_await asio::async_read(conn->socket, asio::buffer(length),
                                  asio::redirect_error(asio::use_awaitable, ec));
        Bytes packet;
        if (!ec) {
            packet.resize(load_be16<0>(std::span<const std::byte, 2>(length)));
            co_await asio::async_read(conn->socket, asio::buffer(packet),
                                      asio::redirect_error(asio::use_awaitable, ec));
        }
        cancel_quietly(timer);
        if (ec) {
            break;
        }
        ++s->counters.queries;
        Plan plan = plan_for(*s, packet);
        Bytes reply;
        if (plan.action == Plan::Action::Reply) {
            reply = std::move(plan.reply);
        } else if (plan.action != Plan::Action::Drop && s->in_flight >= s->options.max_in_flight) {
            reply = overloaded(*s, plan);
        } else if (plan.action != Plan::Action::Drop) {
            // Answered in order: the next query of this connection waits for this one.
            const InFlight slot(s);
            auto task = answer(s, std::move(plan), std::move(packet), client, true);
            reply = co_await std::move(task);
        }
        if (reply.empty()) {
            continue;
        }
        store_be16<0>(std::span(length), static_cast<std::uint16_t>(reply.size()));
        const std::array<asio::const_buffer, 2> out = {asio::buffer(length), asio::buffer(reply)};
        arm(timer, conn, kTcpIdleTimeout);
        co_await asio::async_write(conn->socket, out,
                                   asio::redirect_error(asio::use_awaitable, ec));
        cancel_quietly(timer);
        if (ec) {
            s->drop("send_failed");
            break;
        }
    }
    boost::system::error_code ignored;
    conn->socket.close(ignored);
    s->connections.erase(id);
}

asio::awaitable<void> accept_tcp(StatePtr s, Tcp::acceptor& acceptor) {
    for (;;) {
        boost::system::error_code ec;
        Tcp::socket socket(s->executor);
        co_await acceptor.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) {
            co_return;
        }
        if (ec) {
            // Out of descriptors, most likely: wait instead of spinning on the same error.
            asio::steady_timer pause(s->executor, kAcceptBackoff);
            co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            continue;
        }
        if (s->connections.size() >= s->options.max_in_flight) {
            s->drop("tcp_connection_limit");
            socket.close(ec);
            continue;
        }
        auto conn = std::make_shared<Guarded<Tcp::socket>>(s->executor);
        conn->socket = std::move(socket);
        const std::uint64_t id = s->next_connection++;
        s->connections.emplace(id, std::shared_ptr<Tcp::socket>(conn, &conn->socket));
        asio::co_spawn(s->executor, serve_tcp(s, conn, id), task_done(s));
    }
}

// Lower case without a final dot; empty stays empty (no overlay domain).
Expected<Bytes, std::string> domain_wire(std::string domain) {
    std::transform(domain.begin(), domain.end(), domain.begin(), [](char c) {
        return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    });
    if (!domain.empty() && domain.back() == '.') {
        domain.pop_back();
    }
    if (domain.empty()) {
        return Bytes{};
    }
    if (!Fqdn::validate(domain).has_value()) {
        return fail(fmt::format("dns domain '{}' is not a valid FQDN", domain));
    }
    auto wire = dns::encode_name(domain);
    if (!wire.has_value()) {
        return fail(fmt::format("dns domain '{}': {}", domain, dns::to_string(wire.error())));
    }
    return std::move(*wire);
}

// Binds UDP and TCP on `listen`, on one port (a fresh one for both when it is 0).
Expected<std::pair<std::unique_ptr<Udp::socket>, std::unique_ptr<Tcp::acceptor>>, std::string>
bind_pair(const asio::any_io_executor& ex, const Endpoint& listen) {
    const auto address = to_asio(listen.address);
    std::string last_error;
    for (int attempt = 0; attempt < (listen.port == 0 ? kPortAttempts : 1); ++attempt) {
        auto udp = std::make_unique<Udp::socket>(ex);
        const Udp::endpoint udp_ep(address, listen.port);
        boost::system::error_code ec;
        udp->open(udp_ep.protocol(), ec);
        if (!ec && address.is_v6()) {
            udp->set_option(asio::ip::v6_only(true), ec);  // [::] and 0.0.0.0 side by side
        }
        if (!ec) {
            udp->bind(udp_ep, ec);
        }
        if (ec) {
            return fail(fmt::format("bind udp {}: {}", listen, ec.message()));
        }
        const std::uint16_t port = udp->local_endpoint(ec).port();
        auto tcp = std::make_unique<Tcp::acceptor>(ex);
        const Tcp::endpoint tcp_ep(address, port);
        tcp->open(tcp_ep.protocol(), ec);
        if (!ec) {
            tcp->set_option(asio::socket_base::reuse_address(true), ec);
        }
        if (!ec && address.is_v6()) {
            tcp->set_option(asio::ip::v6_only(true), ec);
        }
        if (!ec) {
            tcp->bind(tcp_ep, ec);
        }
        if (!ec) {
            tcp->listen(asio::socket_base::max_listen_connections, ec);
        }
        if (!ec) {
            return std::pair(std::move(udp), std::move(tcp));
        }
        last_error = fmt::format("bind tcp {}: {}", Endpoint{listen.address, port}, ec.message());
    }
    return fail(last_error);
}

}  // namespace

DnsServer::DnsServer(asio::any_io_executor executor, DnsServerOptions options, Resolver resolver)
    : state_(std::make_shared<detail::DnsServerState>(std::move(executor), std::move(options),
                                                      std::move(resolver))) {}

DnsServer::~DnsServer() {
    if (state_) {
        stop();
    }
}

Expected<void, std::string> DnsServer::start() {
    State& s = *state_;
    if (s.started) {
        return fail(std::string("dns server already started"));
    }
    if (s.options.listen.empty()) {
        return fail(std::string("dns server: no listen address"));
    }
    auto domain = domain_wire(s.options.domain);
    if (!domain.has_value()) {
        return fail(domain.error());
    }
    s.domain_wire = std::move(*domain);
    for (const Endpoint& listen : s.options.listen) {
        auto pair = bind_pair(s.executor, listen);
        if (!pair.has_value()) {
            s.udp.clear();  // closes what was bound already
            s.tcp.clear();
            return fail(pair.error());
        }
        s.udp.push_back(std::move(pair->first));
        s.tcp.push_back(std::move(pair->second));
    }
    s.started = true;
    for (std::size_t i = 0; i < s.udp.size(); ++i) {
        asio::co_spawn(s.executor, serve_udp(state_, *s.udp[i]),
                       listener_done(fmt::format("udp {}", s.options.listen[i])));
        asio::co_spawn(s.executor, accept_tcp(state_, *s.tcp[i]),
                       listener_done(fmt::format("tcp {}", s.options.listen[i])));
    }
    return {};
}

void DnsServer::stop() {
    State& s = *state_;
    boost::system::error_code ignored;
    for (auto& socket : s.udp) {
        socket->close(ignored);
    }
    for (auto& acceptor : s.tcp) {
        acceptor->close(ignored);
    }
    for (auto& [id, weak] : s.connections) {
        if (auto socket = weak.lock()) {
            socket->close(ignored);
        }
    }
}

std::vector<Endpoint> DnsServer::local_endpoints() const {
    std::vector<Endpoint> out;
    for (const auto& socket : state_->udp) {
        boost::system::error_code ec;
        const auto ep = socket->local_endpoint(ec);
        if (!ec) {
            out.push_back({from_asio(ep.address()), ep.port()});
        }
    }
    return out;
}

const DnsCounters& DnsServer::counters() const {
    return state_->counters;
}

std::vector<Endpoint> system_upstreams(const std::filesystem::path& resolv_conf) {
    std::vector<Endpoint> out;
    std::ifstream in(resolv_conf);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream words(line);
        std::string keyword;
        std::string address;
        if (!(words >> keyword >> address) || keyword != "nameserver") {
            continue;  // comments (# or ;), options, search, domain, blank lines
        }
        if (const auto parsed = IpAddress::parse(address)) {
            out.push_back({*parsed, 53});
        }
    }
    return out;
}

}  // namespace cyphonic::net
