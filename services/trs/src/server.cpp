#include "server.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cyphonic/app/health_server.hpp"
#include "cyphonic/app/metrics.hpp"

namespace cyphonic::trs {

namespace {

using std::chrono::milliseconds;
using Udp = asio::ip::udp;

constexpr std::chrono::seconds kSweepInterval{1};
// After one wake-up a loop reads what else is queued without waiting, up to this many
// datagrams, then yields to the other socket and the timers.
constexpr int kBurst = 64;
// The drain ends this much before the grace period so the runtime sees no work left in time.
constexpr milliseconds kDrainMargin{100};
constexpr milliseconds kDrainPoll{50};

Udp::endpoint to_udp(const Endpoint& e) {
    return {app::to_asio(e.address), e.port};
}

Endpoint from_udp(const Udp::endpoint& e) {
    return {app::from_asio(e.address()), e.port()};
}

std::string show(const std::optional<Endpoint>& e) {
    return e ? e->to_string() : std::string("off");
}

}  // namespace

Server::Server(asio::io_context& io, const TrsSettings& settings, Relay& relay, TrsMetrics& metrics,
               std::function<void(const std::string&)> on_fatal)
    : io_(io),
      settings_(settings),
      relay_(relay),
      metrics_(metrics),
      on_fatal_(std::move(on_fatal)),
      buffer4_(kMaxDatagram),
      buffer6_(kMaxDatagram),
      sweep_timer_(io),
      summary_timer_(io),
      drain_timer_(io) {}

void Server::open(std::optional<Socket>& socket, const Endpoint& at) try {
    const Udp::endpoint ep = to_udp(at);
    socket.emplace(io_);
    socket->open(ep.protocol());
    if (ep.address().is_v6()) {
        // IPv4 arrives on the IPv4 socket only, so every source has one form (§7.4).
        socket->set_option(asio::ip::v6_only(true));
    }
    if (settings_.socket_buffer_bytes > 0) {
        const int size =
            static_cast<int>(std::min<std::uint32_t>(settings_.socket_buffer_bytes, 1U << 30U));
        socket->set_option(asio::socket_base::receive_buffer_size(size));
        socket->set_option(asio::socket_base::send_buffer_size(size));
    }
    socket->bind(ep);
    // Sends never wait: a full send buffer drops the datagram (counted), like the network would.
    socket->non_blocking(true);
} catch (const boost::system::system_error& e) {
    throw std::runtime_error(fmt::format("udp socket on {}: {}", at, e.code().message()));
}

void Server::start() {
    if (settings_.listen_ipv4) {
        open(ipv4_, *settings_.listen_ipv4);
    }
    if (settings_.listen_ipv6) {
        open(ipv6_, *settings_.listen_ipv6);
    }
    if (ipv4_) {
        spawn(receive_loop(*ipv4_, buffer4_), "ipv4 receive loop");
    }
    if (ipv6_) {
        spawn(receive_loop(*ipv6_, buffer6_), "ipv6 receive loop");
    }
    spawn(sweep_loop(), "sweep loop");
    spawn(summary_loop(), "summary loop");
}

void Server::spawn(asio::awaitable<void> task, const char* name) {
    asio::co_spawn(io_, std::move(task), [this, name](const std::exception_ptr& e) {
        if (!e) {
            return;
        }
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            on_fatal_(fmt::format("{} failed: {}", name, ex.what()));
        }
    });
}

std::optional<Endpoint> Server::ipv4_endpoint() const {
    if (!ipv4_ || !ipv4_->is_open()) {
        return std::nullopt;
    }
    return from_udp(ipv4_->local_endpoint());
}

std::optional<Endpoint> Server::ipv6_endpoint() const {
    if (!ipv6_ || !ipv6_->is_open()) {
        return std::nullopt;
    }
    return from_udp(ipv6_->local_endpoint());
}

asio::awaitable<void> Server::receive_loop(Socket& socket, Bytes& buffer) {
    Udp::endpoint from;
    for (;;) {
        boost::system::error_code ec;
        std::size_t n = co_await socket.async_receive_from(
            asio::buffer(buffer), from, asio::redirect_error(asio::use_awaitable, ec));
        for (int burst = 0;; ++burst) {
            if (ec == asio::error::operation_aborted || !socket.is_open()) {
                co_return;  // stop() closed the socket
            }
            if (ec) {
                break;  // a transient error (e.g. ICMP reported on the socket): keep serving
            }
            handle(ByteView(buffer).first(n), from);
            if (burst + 1 >= kBurst) {
                break;
            }
            n = socket.receive_from(asio::buffer(buffer), from, 0, ec);
            if (ec == asio::error::would_block) {
                break;
            }
        }
    }
}

void Server::handle(ByteView datagram, const Udp::endpoint& from) {
    const auto start = Clock::now();
    last_datagram_ = start;
    relay_.on_datagram(datagram, from_udp(from), start, out_);
    for (const auto& o : out_) {
        send(o);
    }
    metrics_.observe_latency(std::chrono::duration<double>(Clock::now() - start).count());
}

void Server::send(const Outgoing& o) {
    auto& socket = o.to.address.is_v4() ? ipv4_ : ipv6_;
    if (!socket || !socket->is_open()) {
        metrics_.dropped(DropReason::NoSocket);
        return;
    }
    boost::system::error_code ec;
    socket->send_to(asio::buffer(o.bytes.data(), o.bytes.size()), to_udp(o.to), 0, ec);
    if (ec) {
        metrics_.dropped(DropReason::SendFailed);
        SPDLOG_TRACE("send failed peer={} reason={}", o.to, ec.message());
    }
}

asio::awaitable<void> Server::sweep_loop() {
    for (;;) {
        sweep_timer_.expires_after(kSweepInterval);
        boost::system::error_code ec;
        co_await sweep_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (ec || stopped_) {
            co_return;
        }
        if (const std::size_t removed = relay_.sweep(Clock::now()); removed > 0) {
            spdlog::info("relay entries expired count={} active={}", removed,
                         relay_.table().size());
        }
    }
}

asio::awaitable<void> Server::summary_loop() {
    for (;;) {
        summary_timer_.expires_after(settings_.summary_interval);
        boost::system::error_code ec;
        co_await summary_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (ec || stopped_) {
            co_return;
        }
        log_summary();
    }
}

void Server::log_summary() {
    // STYLE.md §7: a dropped packet is a counter; this line reports the deltas by reason, and
    // only when something changed.
    const DropCounts now = metrics_.dropped_counts();
    std::string fields;
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < now.size(); ++i) {
        const std::uint64_t delta = now[i] - last_drops_[i];
        if (delta > 0) {
            fields += fmt::format(" {}={}", to_string(static_cast<DropReason>(i)), delta);
            total += delta;
        }
    }
    last_drops_ = now;
    if (total > 0) {
        spdlog::info("dropped input total={}{} active={}", total, fields, relay_.table().size());
    }
}

void Server::drain(milliseconds grace, app::ServiceRuntime::InFlight guard) {
    relay_.stop_accepting();
    spdlog::info("draining active={} grace_ms={}", relay_.table().size(), grace.count());
    spawn(drain_loop(grace, std::move(guard)), "drain");
}

asio::awaitable<void> Server::drain_loop(milliseconds grace, app::ServiceRuntime::InFlight guard) {
    const auto start = Clock::now();
    const auto deadline = start + std::max(grace - kDrainMargin, milliseconds(0));
    // Existing paths keep being relayed until none is left, nothing has arrived for `quiet`
    // (the load balancer sends elsewhere now), or the grace period is nearly over.
    last_datagram_ = std::max(last_datagram_, start);
    for (;;) {
        const auto now = Clock::now();
        if (relay_.table().size() == 0 || now >= deadline ||
            now - last_datagram_ >= settings_.quiet) {
            break;
        }
        drain_timer_.expires_at(std::min(deadline, now + kDrainPoll));
        boost::system::error_code ec;
        co_await drain_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            break;
        }
    }
    spdlog::info("relay stopped active={}", relay_.table().size());
    stop();
    // Let the loops see their sockets and timers closed before the work guard goes, so the
    // runtime stops an io_context with nothing of ours left in it.
    co_await asio::post(io_, asio::use_awaitable);
    (void)guard;
}

void Server::stop() {
    if (stopped_) {
        return;
    }
    stopped_ = true;
    boost::system::error_code ignored;
    sweep_timer_.cancel();
    summary_timer_.cancel();
    if (ipv4_) {
        ipv4_->close(ignored);
    }
    if (ipv6_) {
        ipv6_->close(ignored);
    }
    log_summary();
}

namespace {

std::vector<ServiceKey> clone(const std::vector<ServiceKey>& keys) {
    std::vector<ServiceKey> out;
    out.reserve(keys.size());
    for (const auto& k : keys) {
        out.push_back({k.nms_id, k.cipher, k.key.clone()});
    }
    return out;
}

}  // namespace

int serve(const TrsSettings& settings) {
    app::ServiceRuntime runtime("cyphonic-trs");
    app::MetricsRegistry registry;
    TrsMetrics metrics(registry);
    const auto unix_seconds = std::chrono::duration_cast<std::chrono::seconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count();
    auto relay = Relay::create({settings.trs_id, clone(settings.service_keys), settings.max_entries,
                                settings.idle_timeout, initial_sequence(unix_seconds)},
                               metrics);
    if (!relay.has_value()) {
        throw std::runtime_error(relay.error());
    }
    Server server(runtime.io(), settings, *relay, metrics,
                  [&runtime](const std::string& what) { runtime.fail(what); });
    app::HealthServer health(runtime.io(), registry, [&runtime] { return runtime.ready(); });
    server.start();
    health.start(settings.http);
    metrics.set_active_paths(0);
    spdlog::info("listening ipv4={} ipv6={} http={} trs_id={} nms_peers={}",
                 show(server.ipv4_endpoint()), show(server.ipv6_endpoint()),
                 health.local_endpoint(), settings.trs_id, settings.service_keys.size());
    runtime.set_ready(true);
    const int code =
        runtime.run([&] { server.drain(settings.grace, runtime.in_flight()); }, settings.grace);
    server.stop();
    health.stop();
    return code;
}

}  // namespace cyphonic::trs
