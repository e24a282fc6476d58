#include "daemon.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "client_session.hpp"

namespace cyphonic::noded {

using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

constexpr int kMissesBeforeRegister = 3;  // C12

// Runs a program without a shell; returns its exit status (-1 if it could not be started).
int run_program(const std::vector<std::string>& argv) {
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const auto& a : argv) {
        args.push_back(
            const_cast<char*>(a.c_str()));  // NOLINT(cppcoreguidelines-pro-type-const-cast)
    }
    args.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) {
        return -1;
    }
    if (pid == 0) {
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

Daemon::Daemon(DaemonSettings settings) : s_(std::move(settings)) {}

Daemon::~Daemon() {
    if (data_) {
        data_->stop();
    }
    if (udp_fd_ >= 0) {
        ::close(udp_fd_);
    }
}

int Daemon::run() {
    status_ =
        std::make_unique<StatusServer>(io_, s_.raw.status_socket, [this] { return snapshot(); });
    try {
        status_->start();
    } catch (const std::exception& e) {
        spdlog::error("{}", e.what());
        return 1;
    }
    auto fd = open_udp_socket(s_.raw.data_port, static_cast<int>(s_.raw.socket_buffer_bytes));
    if (!fd) {
        spdlog::error("{}", fd.error());
        return 1;
    }
    udp_fd_ = *fd;
    spdlog::info("UDP socket on port {}", s_.raw.data_port);
    wake_ = std::make_unique<asio::steady_timer>(io_);
    signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
        if (!ec) {
            spdlog::info("signal {}: shutting down", signal);
            shutdown();
        }
    });
    asio::co_spawn(io_, session_loop(), [this](const std::exception_ptr& e) {
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                fatal(ex.what());
            }
        }
    });
    io_.run();
    if (data_) {
        data_->stop();
    }
    tun_.reset();  // closing the TUN removes the interface with its addresses and routes
    spdlog::info("stopped exit={}", exit_code_);
    return exit_code_;
}

void Daemon::fatal(const std::string& what) {
    spdlog::error("fatal: {}", what);
    last_error_ = what;
    exit_code_ = 1;
    shutdown();
}

void Daemon::shutdown() {
    if (stopping_) {
        return;
    }
    stopping_ = true;
    state_ = "stopping";
    if (paths_) {
        paths_->stop();
    }
    if (dns_) {
        dns_->stop();
    }
    if (watcher_) {
        watcher_->stop();
    }
    if (status_) {
        status_->stop();
    }
    if (wake_) {
        wake_->cancel();
    }
    if (nms_) {
        nms_->close();
    }
    if (as_) {
        as_->close();
    }
    boost::system::error_code ignored;
    signals_.cancel(ignored);
    if (data_) {
        data_->stop();
    }
    io_.stop();
}

// ---------------------------------------------------------------------------------- session

asio::awaitable<void> Daemon::session_loop() {
    RetryBackoff backoff;
    while (!stopping_) {
        state_ = "logging_in";
        auto attempt = login();
        const bool logged_in = co_await std::move(attempt);
        if (stopping_) {
            break;
        }
        if (logged_in && !tun_) {
            auto up = bring_up_interface();
            if (!up) {
                fatal(up.error());
                co_return;
            }
        }
        if (logged_in) {
            make_nms_session();
            state_ = "registering";
            auto reg = register_all(true);
            if (co_await std::move(reg)) {
                state_ = "registered";
                backoff.reset();
                paths_->reselect_unhealthy();
                auto loop = keepalive_loop();
                co_await std::move(loop);
                continue;
            }
        }
        if (stopping_) {
            break;
        }
        const auto delay = backoff.next();
        spdlog::info("retrying in {:.1f} s", std::chrono::duration<double>(delay).count());
        wake_->expires_after(delay);
        boost::system::error_code ec;
        auto wait = wake_->async_wait(asio::redirect_error(asio::use_awaitable, ec));
        co_await std::move(wait);
    }
}

asio::awaitable<bool> Daemon::login() {
    if (!as_) {
        try {
            as_ = std::make_unique<net::AsClient>(io_.get_executor(), as_client_options(s_.raw));
        } catch (const std::exception& e) {
            fatal(e.what());
            co_return false;
        }
    }
    auto request = login_request(s_.raw, s_, wire::ExecMode::Node);
    auto call = as_->login(std::move(request));
    auto result = co_await std::move(call);
    as_->close();  // a node needs the connection only for the login itself
    if (!result) {
        const auto& f = result.error();
        last_error_ = "login: " + f.describe();
        if (login_failure_is_final(f)) {
            fatal(
                fmt::format("login rejected by AS at {}:{}: {} (check auth.device_id and the "
                            "password or certificate)",
                            s_.raw.as_host, s_.raw.as_port, f.describe()));
            co_return false;
        }
        spdlog::warn("login failed: {}", f.describe());
        co_return false;
    }
    const auto& r = result->response;
    if (login_ && (login_->response.virtual_ipv4 != r.virtual_ipv4 ||
                   login_->response.virtual_ipv6 != r.virtual_ipv6)) {
        spdlog::warn(
            "AS changed the virtual addresses ({} {} → {} {}); restart cyphonicd to "
            "apply them",
            login_->response.virtual_ipv4.to_string(), login_->response.virtual_ipv6.to_string(),
            r.virtual_ipv4.to_string(), r.virtual_ipv6.to_string());
    }
    login_ = std::move(*result);
    const auto& lr = login_->response;
    const auto nms = nms_addresses(lr, s_.raw.nms_port);
    nms_v4_ = nms.v4;
    nms_v6_ = nms.v6;
    domain_ = overlay_domain(s_.raw.domain, lr.fqdn);
    last_error_.clear();
    spdlog::info(
        "logged in fqdn={} node_id={} virtual_ipv4={} virtual_ipv6={} nms={} {} suite={} "
        "key_expiry={}-{:02}-{:02}",
        lr.fqdn, login_->node_id.to_hex(), lr.virtual_ipv4.to_string(), lr.virtual_ipv6.to_string(),
        nms_v4_ ? nms_v4_->to_string() : "-", nms_v6_ ? nms_v6_->to_string() : "-",
        wire::to_string(lr.cipher), lr.expiry.year, lr.expiry.month, lr.expiry.day);
    co_return true;
}

Expected<void, std::string> Daemon::bring_up_interface() {
    const auto& lr = login_->response;
    auto tun = sys::TunDevice::open(s_.raw.tun_name, true);
    if (!tun) {
        return fail(tun.error());
    }
    tun_.emplace(std::move(*tun));
    auto nl = sys::Netlink::open();
    if (!nl) {
        return fail(nl.error());
    }
    netlink_.emplace(std::move(*nl));
    if (auto r = netlink_->set_link_up(tun_->ifindex(), s_.raw.tun_mtu); !r) {
        return fail(r.error());
    }
    std::optional<Ipv4Address> v4;
    std::optional<Ipv6Address> v6;
    if (!lr.virtual_ipv4.is_unspecified()) {
        v4 = lr.virtual_ipv4;
        if (auto r =
                netlink_->add_address(tun_->ifindex(), lr.virtual_ipv4, s_.raw.ipv4_prefix_len);
            !r) {
            return fail(r.error());
        }
    }
    if (!lr.virtual_ipv6.is_unspecified()) {
        v6 = lr.virtual_ipv6;
        if (auto r =
                netlink_->add_address(tun_->ifindex(), lr.virtual_ipv6, s_.raw.ipv6_prefix_len);
            !r) {
            return fail(r.error());
        }
    }
    spdlog::info("interface {} up mtu={} ipv4={}/{} ipv6={}/{}", tun_->name(), s_.raw.tun_mtu,
                 v4 ? v4->to_string() : "-", s_.raw.ipv4_prefix_len, v6 ? v6->to_string() : "-",
                 s_.raw.ipv6_prefix_len);

    DataPlane::Options o;
    o.udp_fd = udp_fd_;
    o.tun_fd = tun_->fd();
    o.mtu = s_.raw.tun_mtu;
    data_ = std::make_unique<DataPlane>(
        o,
        [this](Bytes datagram, Endpoint from) {
            asio::post(io_, [this, d = std::move(datagram), from] { on_datagram(d, from); });
        },
        [this](IpAddress destination) {
            asio::post(io_, [this, destination] {
                if (paths_ && !stopping_) {
                    paths_->on_miss(destination);
                }
            });
        },
        [this](PathId id, Endpoint to) {
            asio::post(io_, [this, id, to] {
                if (paths_ && !stopping_) {
                    paths_->on_switch(id, to);
                }
            });
        });
    data_->set_local(v4, v6);
    PathManager::Options po;
    po.application_id = s_.application_id;
    po.accepted_ciphers = s_.accepted_ciphers;
    po.responder_end_key = s_.responder_end_key;
    po.path_keepalive = s_.path_keepalive;
    po.idle = s_.peer_idle;
    po.renew_before = s_.renew_before;
    po.reoptimise = s_.reoptimise;
    po.trs_port = s_.raw.trs_port;
    paths_ = std::make_unique<PathManager>(io_, *data_, po);
    paths_->start();
    data_->start();

    if (auto r = start_resolver(); !r) {
        return r;
    }
    watcher_ = std::make_unique<sys::AddressWatcher>(io_.get_executor(),
                                                     [this] { on_addresses_changed(); });
    if (auto r = watcher_->start(); !r) {
        spdlog::warn("address watcher: {}; moves are noticed by missed keepalives only", r.error());
    }
    return {};
}

Expected<void, std::string> Daemon::start_resolver() {
    if (!s_.raw.resolver_enabled) {
        return {};
    }
    const auto& lr = login_->response;
    net::DnsServerOptions o;
    if (!lr.virtual_ipv4.is_unspecified()) {
        o.listen.push_back(Endpoint{lr.virtual_ipv4, s_.raw.resolver_port});
    }
    if (!lr.virtual_ipv6.is_unspecified()) {
        o.listen.push_back(Endpoint{lr.virtual_ipv6, s_.raw.resolver_port});
    }
    for (const auto& u : s_.upstreams) {
        if (std::find(o.listen.begin(), o.listen.end(), u) == o.listen.end()) {
            o.upstream.push_back(u);
        }
    }
    o.domain = domain_;
    o.ttl = s_.raw.resolver_ttl_s;
    dns_ = std::make_unique<net::DnsServer>(
        io_.get_executor(), o,
        [this](std::string fqdn, Endpoint /*client*/) { return resolve(std::move(fqdn)); });
    if (auto r = dns_->start(); !r) {
        return fail("resolver: " + r.error());
    }
    spdlog::info("resolver on {} for *.{} upstream={}",
                 o.listen.empty() ? std::string("-") : o.listen.front().to_string(), domain_,
                 o.upstream.empty() ? std::string("none") : o.upstream.front().to_string());
    const auto& mode = s_.raw.resolver_systemd_resolved;
    if (mode == "off") {
        return {};
    }
    std::vector<std::string> dns_cmd = {"resolvectl", "dns", tun_->name()};
    for (const auto& l : o.listen) {
        dns_cmd.push_back(l.port == 53 ? l.address.to_string() : l.to_string());
    }
    const int a = run_program(dns_cmd);
    const int b = a == 0 ? run_program({"resolvectl", "domain", tun_->name(), "~" + domain_}) : a;
    if (a == 0 && b == 0) {
        spdlog::info("systemd-resolved routes ~{} to {}", domain_, tun_->name());
    } else if (mode == "on") {
        return fail(
            "resolver.systemd_resolved=on but resolvectl failed; is systemd-resolved "
            "running?");
    } else {
        spdlog::info(
            "systemd-resolved not available: to resolve *.{} from this host, point a resolver "
            "at {} (e.g. a 'nameserver' line, or a dnsmasq 'server=/{}/{}' rule)",
            domain_, o.listen.empty() ? "-" : o.listen.front().address.to_string(), domain_,
            o.listen.empty() ? "-" : o.listen.front().address.to_string());
    }
    return {};
}

asio::awaitable<net::OverlayAnswer> Daemon::resolve(std::string fqdn) {
    net::OverlayAnswer answer;
    answer.status = net::OverlayAnswer::Status::ServFail;
    if (!paths_ || stopping_ || state_ != "registered") {
        co_return answer;
    }
    auto call = paths_->connect(std::move(fqdn));
    auto result = co_await std::move(call);
    if (!result) {
        answer.status = result.error().unknown_peer ? net::OverlayAnswer::Status::NxDomain
                                                    : net::OverlayAnswer::Status::ServFail;
        co_return answer;
    }
    answer.status = net::OverlayAnswer::Status::Ok;
    answer.ipv4 = result->v4;
    answer.ipv6 = result->v6;
    co_return answer;
}

void Daemon::make_nms_session() {
    const auto& lr = login_->response;
    net::NmsSession::Options o{
        .node_id = login_->node_id,
        .cipher = lr.cipher,
        .nms_key = std::span<const std::byte, 32>(lr.common_key),
        .nms = nms_v4_ ? *nms_v4_ : (nms_v6_ ? *nms_v6_ : Endpoint{}),
        .local = Endpoint{},
        .give_up = std::chrono::milliseconds(15500),
        .send = [this](ByteView datagram, const Endpoint& to) { return data_->send(datagram, to); },
    };
    if (nms_) {
        nms_->close();
    }
    nms_ = std::make_shared<net::NmsSession>(io_, o);
    nms_->on_route_direction([this](const wire::BaseHeader& h, const wire::RouteDirection& rd) {
        paths_->on_route_direction(h, rd);
    });
    nms_->start();
    paths_->set_nms(nms_);
}

void Daemon::refresh_real_addresses() {
    const auto real = real_addresses_towards(NmsAddresses{nms_v4_, nms_v6_});
    real_v4_ = real.v4;
    real_v6_ = real.v6;
}

asio::awaitable<bool> Daemon::register_all(bool first) {
    refresh_real_addresses();
    auto call = register_families(*nms_, NmsAddresses{nms_v4_, nms_v6_},
                                  RealAddresses{real_v4_, real_v6_}, s_.raw.data_port, first);
    const Registered r = co_await std::move(call);
    registered_v4_ = r.v4;
    registered_v6_ = r.v6;
    relogin_ = relogin_ || r.key_expired;
    const bool nat = r.nat;
    if (!r.any) {
        last_error_ = r.error;
        if (!real_v4_ && !real_v6_) {
            spdlog::warn("no local address reaches NMS ({} {})",
                         nms_v4_ ? nms_v4_->to_string() : "-",
                         nms_v6_ ? nms_v6_->to_string() : "-");
        }
        co_return false;
    }
    behind_nat_ = nat;
    last_error_.clear();
    Identity id;
    id.node_id = login_->node_id;
    id.fqdn = login_->response.fqdn;
    if (!login_->response.virtual_ipv4.is_unspecified()) {
        id.virtual_v4 = login_->response.virtual_ipv4;
    }
    if (!login_->response.virtual_ipv6.is_unspecified()) {
        id.virtual_v6 = login_->response.virtual_ipv6;
    }
    id.behind_nat = nat;
    id.has_v4 = registered_v4_;
    id.has_v6 = registered_v6_;
    paths_->set_identity(id);
    spdlog::info("registered real_ipv4={} real_ipv6={} port={} nat={}",
                 real_v4_ ? real_v4_->to_string() : "-", real_v6_ ? real_v6_->to_string() : "-",
                 s_.raw.data_port, nat ? "yes" : "no");
    co_return true;
}

asio::awaitable<void> Daemon::keepalive_loop() {
    int misses = 0;
    while (!stopping_ && !relogin_) {
        wake_->expires_after(s_.keepalive);
        boost::system::error_code ec;
        auto wait = wake_->async_wait(asio::redirect_error(asio::use_awaitable, ec));
        co_await std::move(wait);
        if (stopping_) {
            break;
        }
        if (moved_) {
            moved_ = false;
            auto move = handle_move();
            co_await std::move(move);
            continue;
        }
        if (std::chrono::system_clock::now() + s_.renew_before > end_of(login_->response.expiry)) {
            spdlog::info("NMS key expires {}-{:02}-{:02}: logging in again",
                         login_->response.expiry.year, login_->response.expiry.month,
                         login_->response.expiry.day);
            break;
        }
        auto call = keep_alive_families(*nms_, NmsAddresses{nms_v4_, nms_v6_}, registered_v4_,
                                        registered_v6_);
        const KeptAlive k = co_await std::move(call);
        if (k.rejected) {
            spdlog::warn("{}", k.error);
        }
        relogin_ = relogin_ || k.key_expired;
        const bool answered = k.answered;
        const bool reregister = k.rejected && !k.key_expired;  // N7: NMS lost our registration
        if (answered && misses > 0) {
            paths_->reselect_unhealthy();  // NMS is back: so may the peers be (D-N12)
        }
        misses = answered ? 0 : misses + 1;
        if (relogin_ || stopping_) {
            break;
        }
        if (misses >= kMissesBeforeRegister || reregister) {
            spdlog::warn("NMS keepalive: {} unanswered; registering again", misses);
            auto reg = register_all(false);
            if (!co_await std::move(reg)) {
                break;  // C12: registration failed → log in again
            }
            misses = 0;
            paths_->reselect_unhealthy();
        }
    }
    relogin_ = false;
}

void Daemon::on_addresses_changed() {
    if (stopping_ || state_ != "registered") {
        return;
    }
    moved_ = true;
    wake_->cancel();
}

asio::awaitable<void> Daemon::handle_move() {
    const auto old_v4 = real_v4_;
    const auto old_v6 = real_v6_;
    refresh_real_addresses();
    if (real_v4_ == old_v4 && real_v6_ == old_v6) {
        co_return;
    }
    spdlog::info("real address changed: ipv4 {} → {}, ipv6 {} → {}",
                 old_v4 ? old_v4->to_string() : "-", real_v4_ ? real_v4_->to_string() : "-",
                 old_v6 ? old_v6->to_string() : "-", real_v6_ ? real_v6_->to_string() : "-");
    if (!real_v4_ && !real_v6_) {
        co_return;  // between two networks; the next address change brings us back
    }
    auto reg = register_all(false);
    if (co_await std::move(reg)) {
        paths_->reselect_all();  // §7.8 step 3
    }
}

void Daemon::on_datagram(const Bytes& datagram, const Endpoint& from) {
    if (stopping_ || !paths_) {
        return;
    }
    const auto messages = wire::split_datagram(datagram);
    if (!messages) {
        return;  // counted by the receive thread
    }
    const bool from_nms = (nms_v4_ && from == *nms_v4_) || (nms_v6_ && from == *nms_v6_);
    for (const auto& m : *messages) {
        if (m.header.type == wire::MessageType::Capsule) {
            continue;
        }
        if (nms_ && (from_nms || (login_ && m.header.id == login_->node_id.raw()))) {
            nms_->deliver(m, from);
        } else if (paths_->knows(PathId(m.header.id))) {
            paths_->on_message(m, from);
        } else {
            data_->count_drop("unknown_id");
        }
    }
}

DaemonStatus Daemon::snapshot() const {
    DaemonStatus s;
    s.state = state_;
    s.last_error = last_error_;
    if (login_) {
        s.node_id = login_->node_id.to_hex();
        s.fqdn = login_->response.fqdn;
        if (!login_->response.virtual_ipv4.is_unspecified()) {
            s.virtual_v4 = login_->response.virtual_ipv4;
        }
        if (!login_->response.virtual_ipv6.is_unspecified()) {
            s.virtual_v6 = login_->response.virtual_ipv6;
        }
    }
    s.behind_nat = behind_nat_;
    s.real_v4 = real_v4_;
    s.real_v6 = real_v6_;
    s.tun = tun_ ? tun_->name() : s_.raw.tun_name;
    s.port = s_.raw.data_port;
    if (data_) {
        s.drops = data_->drops();
    }
    if (paths_) {
        for (const auto& [reason, n] : paths_->drops()) {
            s.drops[reason] += n;
        }
        s.peers = paths_->status();
    }
    if (nms_) {
        for (const auto& [reason, n] : nms_->drops()) {
            s.drops["nms_" + reason] += n;
        }
    }
    return s;
}

}  // namespace cyphonic::noded
