#include "adapter.hpp"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cyphonic/core/text.hpp"

namespace cyphonic::adapterd {

using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

constexpr int kMissesBeforeRegister = 3;  // C12
constexpr const char* kPeersFile = "peers";

// The overlay prefix of `gateway`: whether `a` lies in it.
bool same_prefix(const IpAddress& a, const IpAddress& gateway, unsigned prefix_len) {
    if (a.is_v4() != gateway.is_v4()) {
        return false;
    }
    const auto bytes = [](const IpAddress& x) {
        return x.is_v4() ? std::vector<std::byte>(x.v4().bytes.begin(), x.v4().bytes.end())
                         : std::vector<std::byte>(x.v6().bytes.begin(), x.v6().bytes.end());
    };
    const auto x = bytes(a);
    const auto g = bytes(gateway);
    for (unsigned bit = 0; bit < prefix_len && bit / 8 < x.size(); ++bit) {
        const auto mask = std::byte{static_cast<unsigned char>(0x80U >> (bit % 8))};
        if ((x[bit / 8] & mask) != (g[bit / 8] & mask)) {
            return false;
        }
    }
    return true;
}

Ipv6Address prefix_of(const Ipv6Address& a, unsigned prefix_len) {
    Ipv6Address out = a;
    for (unsigned bit = prefix_len; bit < 128; ++bit) {
        out.bytes[bit / 8] &= ~std::byte{static_cast<unsigned char>(0x80U >> (bit % 8))};
    }
    return out;
}

Ipv6Address eui64_link_local(const lan::MacAddress& mac) {
    Ipv6Address a;
    a.bytes[0] = std::byte{0xfe};
    a.bytes[1] = std::byte{0x80};
    a.bytes[8] = mac.bytes[0] ^ std::byte{0x02};
    a.bytes[9] = mac.bytes[1];
    a.bytes[10] = mac.bytes[2];
    a.bytes[11] = std::byte{0xff};
    a.bytes[12] = std::byte{0xfe};
    a.bytes[13] = mac.bytes[3];
    a.bytes[14] = mac.bytes[4];
    a.bytes[15] = mac.bytes[5];
    return a;
}

}  // namespace

Adapter::Adapter(AdapterSettings settings) : s_(std::move(settings)) {}

Adapter::~Adapter() {
    if (plane_) {
        plane_->stop();
    }
    if (udp_fd_ >= 0) {
        ::close(udp_fd_);
    }
    if (lan_.fd >= 0) {
        ::close(lan_.fd);
    }
}

int Adapter::run() {
    status_ = std::make_unique<noded::StatusServer>(
        io_, s_.raw.status_socket, [this](bool json) { return render_status(json); });
    try {
        status_->start();
    } catch (const std::exception& e) {
        spdlog::error("{}", e.what());
        return 1;
    }
    if (auto saved = load_state(s_.raw.state_dir); saved) {
        saved_ = std::move(*saved);
        if (!saved_.general_nodes.empty()) {
            spdlog::info("state: {} general nodes from {}", saved_.general_nodes.size(),
                         s_.raw.state_dir.string());
        }
    } else {
        spdlog::warn("state: {}; starting without it", saved.error());
    }
    if (auto r = open_interfaces(); !r) {
        spdlog::error("{}", r.error());
        return 1;
    }
    wake_ = std::make_unique<asio::steady_timer>(io_);
    ra_timer_ = std::make_unique<asio::steady_timer>(io_);
    apply_entries(saved_.general_nodes);
    if (saved_.gateway_v4 || saved_.gateway_v6) {
        // Serve the link at once with the addresses of the last run (4.2.2.3: no need to ask
        // the cloud first); the login confirms or replaces them.
        if (auto r = configure_gateway(); !r) {
            spdlog::warn("gateway from state: {}", r.error());
        }
    }
    signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
        if (!ec) {
            spdlog::info("signal {}: shutting down", signal);
            shutdown();
        }
    });
    const auto on_error = [this](const std::exception_ptr& e) {
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                fatal(ex.what());
            }
        }
    };
    asio::co_spawn(io_, session_loop(), on_error);
    asio::co_spawn(io_, ra_loop(), on_error);
    io_.run();
    if (plane_) {
        plane_->stop();
    }
    spdlog::info("stopped exit={}", exit_code_);
    return exit_code_;
}

void Adapter::shutdown() {
    if (stopping_) {
        return;
    }
    stopping_ = true;
    state_ = "stopping";
    save_peers();
    if (dns_) {
        dns_->stop();
    }
    if (status_) {
        status_->stop();
    }
    for (const auto& t : {wake_.get(), ra_timer_.get()}) {
        if (t != nullptr) {
            t->cancel();
        }
    }
    for (auto& gn : nodes_) {
        if (gn->paths) {
            gn->paths->stop();
        }
        if (gn->nms) {
            gn->nms->close();
        }
        if (gn->wake) {
            gn->wake->cancel();
        }
    }
    if (nms_session_) {
        nms_session_->close();
    }
    if (as_) {
        as_->close();
    }
    boost::system::error_code ignored;
    signals_.cancel(ignored);
    if (plane_) {
        plane_->stop();
    }
    io_.stop();
}

void Adapter::fatal(const std::string& what) {
    spdlog::error("{}", what);
    last_error_ = what;
    exit_code_ = 1;
    shutdown();
}

// ------------------------------------------------------------------------------ interfaces

Expected<void, std::string> Adapter::open_interfaces() {
    auto nl = sys::Netlink::open();
    if (!nl) {
        return fail(nl.error());
    }
    netlink_.emplace(std::move(*nl));
    auto lan = open_lan_interface(s_.raw.lan_interface);
    if (!lan) {
        return fail(lan.error());
    }
    lan_ = *lan;
    if (auto r = netlink_->set_link_up(lan_.ifindex, std::nullopt); !r) {
        return fail(r.error());
    }
    if (!lan_.link_local) {
        lan_.link_local = eui64_link_local(lan_.mac);
    }
    spdlog::info("lan interface={} mac={} link_local={}", s_.raw.lan_interface,
                 lan_.mac.to_string(), lan_.link_local->to_string());
    auto fd =
        noded::open_udp_socket(s_.raw.data_port, static_cast<int>(s_.raw.socket_buffer_bytes));
    if (!fd) {
        return fail(fd.error());
    }
    udp_fd_ = *fd;
    spdlog::info("UDP socket on port {}", s_.raw.data_port);

    AdapterPlane::Options po;
    po.udp_fd = udp_fd_;
    po.lan_fd = lan_.fd;
    po.mac = lan_.mac;
    po.workers = s_.raw.workers;
    po.staging = s_.raw.staging;
    po.staging_wait = std::chrono::microseconds(s_.raw.staging_wait_us);
    if (!s_.raw.staging) {
        spdlog::warn("data.staging=false: packets leave in completion order (test only)");
    }
    plane_ = std::make_unique<AdapterPlane>(
        po,
        [this](Bytes datagram, Endpoint from) {
            asio::post(io_, [this, d = std::move(datagram), from] { on_datagram(d, from); });
        },
        [this](Bytes frame) { asio::post(io_, [this, f = std::move(frame)] { on_lan_frame(f); }); },
        [this](GnIndex gn, IpAddress destination) {
            asio::post(io_, [this, gn, destination] {
                if (!stopping_ && gn < nodes_.size() && nodes_[gn]->paths) {
                    nodes_[gn]->paths->on_miss(destination);
                }
            });
        },
        [this](PathId id, Endpoint to) {
            asio::post(io_, [this, id, to] {
                for (auto& gn : nodes_) {
                    if (gn->paths && gn->paths->knows(id)) {
                        gn->paths->on_switch(id, to);
                    }
                }
            });
        });
    lan::LinkConfig link;
    link.adapter_mac = lan_.mac;
    link.link_local = *lan_.link_local;
    responder_ = std::make_unique<lan::Responder>(
        link,
        [this](const lan::MacAddress& mac) -> std::optional<lan::Binding> {
            const auto it = by_mac_.find(mac);
            if (it == by_mac_.end() || nodes_[it->second]->removed) {
                return std::nullopt;
            }
            const auto& e = nodes_[it->second]->entry;
            return lan::Binding{mac, e.virtual_ipv4, e.virtual_ipv6,
                                e.fqdn.substr(0, e.fqdn.find('.'))};
        },
        [this](const IpAddress& target, const lan::MacAddress& asker) {
            return proxy_for(target, asker);
        });
    plane_->start();
    spdlog::info("data plane workers={} staging={} wait_us={}", s_.raw.workers,
                 s_.raw.staging ? "on" : "off", s_.raw.staging_wait_us);
    return {};
}

Expected<void, std::string> Adapter::configure_gateway() {
    const auto& gw4 = saved_.gateway_v4;
    const auto& gw6 = saved_.gateway_v6;
    auto existing = netlink_->addresses();
    if (!existing) {
        return fail(existing.error());
    }
    // Addresses of an earlier gateway configuration go; the current ones are added once.
    std::vector<IpAddress> wanted;
    if (gw4) {
        wanted.emplace_back(*gw4);
    }
    if (gw6) {
        wanted.emplace_back(*gw6);
    }
    for (const auto& a : *existing) {
        if (a.ifindex != lan_.ifindex || !a.global_scope) {
            continue;
        }
        if (std::find(wanted.begin(), wanted.end(), a.address) == wanted.end()) {
            static_cast<void>(netlink_->remove_address(a.ifindex, a.address, a.prefix_len,
                                                       sys::IfMissing::Ignore));
        }
    }
    for (const auto& w : wanted) {
        const bool present = std::any_of(existing->begin(), existing->end(), [&](const auto& a) {
            return a.ifindex == lan_.ifindex && a.address == w;
        });
        if (present) {
            continue;
        }
        const unsigned len = w.is_v4() ? s_.raw.ipv4_prefix_len : s_.raw.ipv6_prefix_len;
        if (auto r = netlink_->add_address(lan_.ifindex, w, len); !r) {
            return fail(r.error());
        }
    }
    plane_->set_gateway(gw4, gw6);
    update_responder();
    // The resolver on the gateway addresses (4.2.2.8).
    net::DnsServerOptions o;
    for (const auto& w : wanted) {
        o.listen.push_back(Endpoint{w, s_.raw.resolver_port});
    }
    o.upstream = s_.upstreams;
    o.domain = domain_;
    if (o.domain.empty() && !saved_.general_nodes.empty()) {
        const auto& f = saved_.general_nodes.front().fqdn;
        o.domain = f.substr(f.find('.') + 1);
    }
    o.ttl = s_.raw.resolver_ttl_s;
    if (dns_) {
        dns_->stop();
    }
    dns_ = std::make_unique<net::DnsServer>(
        io_.get_executor(), o,
        [this](std::string fqdn, Endpoint client) { return resolve(std::move(fqdn), client); });
    if (auto r = dns_->start(); !r) {
        return fail(r.error());
    }
    spdlog::info("gateway ipv4={} ipv6={} on {}; resolver domain={}", gw4 ? gw4->to_string() : "-",
                 gw6 ? gw6->to_string() : "-", s_.raw.lan_interface, o.domain);
    return {};
}

void Adapter::update_responder() {
    lan::LinkConfig link = responder_->config();
    if (saved_.gateway_v4) {
        link.gateway_v4 = *saved_.gateway_v4;
    }
    link.gateway_v6 = saved_.gateway_v6;
    if (saved_.gateway_v6) {
        link.v6_prefix = prefix_of(*saved_.gateway_v6, s_.raw.ipv6_prefix_len);
    }
    link.v4_prefix_len = static_cast<std::uint8_t>(s_.raw.ipv4_prefix_len);
    link.v6_prefix_len = static_cast<std::uint8_t>(s_.raw.ipv6_prefix_len);
    link.lease_s = s_.raw.lease_s;
    link.mtu = static_cast<std::uint16_t>(s_.raw.mtu);
    responder_->set_config(link);
}

bool Adapter::proxy_for(const IpAddress& target, const lan::MacAddress& asker) const {
    // Peers' virtual addresses: anything in the overlay prefix that is neither the gateway nor
    // a general node of this link (those answer for themselves).
    const auto& gw4 = saved_.gateway_v4;
    const auto& gw6 = saved_.gateway_v6;
    if (target.is_v4()) {
        if (!gw4 || target == IpAddress(*gw4) ||
            !same_prefix(target, *gw4, s_.raw.ipv4_prefix_len)) {
            return false;
        }
    } else if (!gw6 || target == IpAddress(*gw6) ||
               !same_prefix(target, *gw6, s_.raw.ipv6_prefix_len)) {
        return false;
    }
    if (by_ip_.contains(target)) {
        return false;
    }
    static_cast<void>(asker);
    return true;
}

void Adapter::on_lan_frame(const Bytes& frame) {
    if (stopping_) {
        return;
    }
    auto reply = responder_->handle(frame);
    if (!reply) {
        plane_->count_drop(std::string("lan_") + std::string(reply.error()));
        return;
    }
    for (const auto& f : reply->frames) {
        plane_->send_frame(f);
    }
    if (reply->event.starts_with("dhcp")) {
        spdlog::debug("lan {}", reply->event);
    }
}

asio::awaitable<void> Adapter::ra_loop() {
    while (!stopping_) {
        if (saved_.gateway_v6) {
            plane_->send_frame(responder_->router_advertisement());
        }
        ra_timer_->expires_after(seconds(s_.raw.ra_interval_s));
        boost::system::error_code ec;
        auto wait = ra_timer_->async_wait(asio::redirect_error(asio::use_awaitable, ec));
        co_await std::move(wait);
    }
}

// ------------------------------------------------------------------------- general nodes

void Adapter::apply_entries(const std::vector<net::GeneralNodeEntry>& entries) {
    std::set<GnIndex> seen;
    for (const auto& e : entries) {
        const auto mac = lan::MacAddress::parse(e.mac);
        if (!mac) {
            spdlog::warn("general node {}: bad MAC '{}'; ignored", e.device_id, e.mac);
            continue;
        }
        GeneralNode* gn = nullptr;
        for (auto& n : nodes_) {
            if (n->entry.device_id == e.device_id) {
                gn = n.get();
            }
        }
        if (gn != nullptr && !gn->removed && gn->entry == e) {
            seen.insert(gn->index);
            continue;  // unchanged
        }
        if (gn != nullptr && !gn->removed) {
            // Changed: the old identity goes, the new one starts afresh.
            spdlog::info("general node {} changed; starting again", e.device_id);
            gn->removed = true;
        }
        auto fresh = std::make_unique<GeneralNode>();
        fresh->index = static_cast<GnIndex>(nodes_.size());
        fresh->entry = e;
        fresh->mac = *mac;
        fresh->wake = std::make_unique<asio::steady_timer>(io_);
        seen.insert(fresh->index);
        nodes_.push_back(std::move(fresh));
        spdlog::info("general node {} mac={} fqdn={} ipv4={} ipv6={}", e.device_id, e.mac, e.fqdn,
                     e.virtual_ipv4 ? e.virtual_ipv4->to_string() : "-",
                     e.virtual_ipv6 ? e.virtual_ipv6->to_string() : "-");
    }
    for (auto& n : nodes_) {
        if (!seen.contains(n->index) && !n->removed) {
            spdlog::info("general node {} removed from the list", n->entry.device_id);
            n->removed = true;
        }
        if (n->removed && n->state != "removed") {
            n->state = "removed";
            if (n->paths) {
                n->paths->stop();
            }
            if (n->nms) {
                n->nms->close();
            }
            n->wake->cancel();
            plane_->remove_general_node(n->index);
        }
    }
    by_mac_.clear();
    by_ip_.clear();
    for (auto& n : nodes_) {
        if (n->removed) {
            continue;
        }
        by_mac_[n->mac] = n->index;
        if (n->entry.virtual_ipv4) {
            by_ip_[IpAddress(*n->entry.virtual_ipv4)] = n->index;
        }
        if (n->entry.virtual_ipv6) {
            by_ip_[IpAddress(*n->entry.virtual_ipv6)] = n->index;
        }
        if (n->state == "known" || n->state == "failed") {
            plane_->set_general_node(n->index, n->mac, n->entry.virtual_ipv4, n->entry.virtual_ipv6,
                                     false);
        }
    }
}

void Adapter::save() {
    if (auto r = save_state(s_.raw.state_dir, saved_); !r) {
        spdlog::warn("state: {}", r.error());
    }
}

void Adapter::save_peers() {
    std::string text;
    for (const auto& gn : nodes_) {
        if (gn->removed || !gn->paths) {
            continue;
        }
        for (const auto& [address, fqdn] : gn->paths->known_peers()) {
            text += fmt::format("{} {} {}\n", gn->entry.device_id, address.to_string(), fqdn);
        }
    }
    std::error_code ec;
    std::filesystem::create_directories(s_.raw.state_dir, ec);
    const auto path = s_.raw.state_dir / kPeersFile;
    std::ofstream out(path.string() + ".tmp");
    out << text;
    out.close();
    std::filesystem::rename(path.string() + ".tmp", path, ec);
}

void Adapter::load_peers(GeneralNode& gn) {
    std::ifstream in(s_.raw.state_dir / kPeersFile);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream words(line);
        std::string device;
        std::string address;
        std::string fqdn;
        if (!(words >> device >> address >> fqdn) || device != gn.entry.device_id) {
            continue;
        }
        if (const auto a = IpAddress::parse(address)) {
            gn.paths->remember_peer(*a, fqdn);
        }
    }
}

GeneralNode* Adapter::find_by_ip(const IpAddress& address) {
    const auto it = by_ip_.find(address.normalized());
    return it == by_ip_.end() ? nullptr : nodes_[it->second].get();
}

asio::awaitable<void> Adapter::lock_as() {
    asio::steady_timer t(io_);
    while (as_busy_) {
        t.expires_after(milliseconds(10));
        boost::system::error_code ec;
        auto wait = t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        co_await std::move(wait);
    }
    as_busy_ = true;
}

asio::awaitable<bool> Adapter::login_general_node(GeneralNode& gn) {
    wire::LoginRequest request;
    request.application_id = s_.application_id;
    request.exec_mode = wire::ExecMode::GeneralNode;
    if (gn.entry.auth_type != "mac") {
        gn.last_error = fmt::format(
            "auth type '{}' needs credentials the controller data does not carry; enrol the "
            "general node with MAC authentication",
            gn.entry.auth_type);
        co_return false;
    }
    request.auth_type = wire::AuthType::MacAddress;
    request.device_id = gn.mac.to_string();
    auto lock = lock_as();
    co_await std::move(lock);
    if (!as_ || !as_->is_connected() || relogin_) {
        unlock_as();
        gn.last_error = "the adapter is not logged in";
        co_return false;
    }
    auto call = as_->login(std::move(request));
    auto result = co_await std::move(call);
    unlock_as();
    if (!result) {
        gn.last_error = "login: " + result.error().describe();
        if (result.error().kind == net::LoginFailure::Kind::Transport) {
            relogin_ = true;  // the AS connection is gone: the adapter logs in again
            wake_->cancel();
        }
        co_return false;
    }
    gn.login = std::move(*result);
    by_node_id_[gn.login->node_id] = gn.index;
    const auto& r = gn.login->response;
    spdlog::info("general node {} logged in by proxy node_id={} fqdn={} ipv4={} ipv6={}",
                 gn.entry.device_id, gn.login->node_id.to_hex(), r.fqdn, r.virtual_ipv4.to_string(),
                 r.virtual_ipv6.to_string());
    co_return true;
}

asio::awaitable<void> Adapter::general_node_loop(GnIndex index) {
    noded::RetryBackoff backoff;
    GeneralNode& gn = *nodes_[index];
    while (!stopping_ && !gn.removed) {
        gn.state = "logging_in";
        auto attempt = login_general_node(gn);
        if (co_await std::move(attempt) && !gn.removed) {
            gn.nms = make_session(*gn.login, &gn);
            if (!gn.paths) {
                noded::PathManager::Options po;
                po.application_id = s_.application_id;
                po.accepted_ciphers = s_.accepted_ciphers;
                po.responder_end_key = s_.responder_end_key;
                po.path_keepalive = s_.path_keepalive;
                po.idle = s_.peer_idle;
                po.renew_before = s_.renew_before;
                po.reoptimise = s_.reoptimise;
                po.trs_port = s_.raw.trs_port;
                gn.paths = std::make_unique<noded::PathManager>(io_, plane_->table(index), po);
                load_peers(gn);
                gn.paths->start();
            }
            gn.paths->set_nms(gn.nms);
            gn.state = "registering";
            bool nat = false;
            auto reg = register_identity(*gn.nms, true, nat, gn.has_v4, gn.has_v6);
            if (co_await std::move(reg) && !gn.removed) {
                gn.behind_nat = nat;
                noded::Identity id;
                id.node_id = gn.login->node_id;
                id.fqdn = gn.login->response.fqdn;
                id.virtual_v4 = gn.entry.virtual_ipv4;
                id.virtual_v6 = gn.entry.virtual_ipv6;
                id.behind_nat = nat;
                id.has_v4 = gn.has_v4;
                id.has_v6 = gn.has_v6;
                gn.paths->set_identity(id);
                // 4.2.2.7: only now may the general node's traffic pass.
                plane_->set_general_node(index, gn.mac, gn.entry.virtual_ipv4,
                                         gn.entry.virtual_ipv6, true);
                gn.state = "active";
                gn.last_error.clear();
                backoff.reset();
                gn.paths->reselect_unhealthy();
                spdlog::info("general node {} active nat={}", gn.entry.device_id,
                             nat ? "yes" : "no");
                auto loop = general_node_keepalive(gn);
                co_await std::move(loop);
                if (!gn.removed) {
                    plane_->set_general_node(index, gn.mac, gn.entry.virtual_ipv4,
                                             gn.entry.virtual_ipv6, false);
                }
                continue;
            }
        }
        if (stopping_ || gn.removed) {
            break;
        }
        gn.state = "failed";
        const auto delay = backoff.next();
        spdlog::warn("general node {}: {}; retrying in {:.1f} s", gn.entry.device_id, gn.last_error,
                     std::chrono::duration<double>(delay).count());
        gn.wake->expires_after(delay);
        boost::system::error_code ec;
        auto wait = gn.wake->async_wait(asio::redirect_error(asio::use_awaitable, ec));
        co_await std::move(wait);
    }
}

asio::awaitable<void> Adapter::general_node_keepalive(GeneralNode& gn) {
    int misses = 0;
    while (!stopping_ && !gn.removed) {
        gn.wake->expires_after(s_.keepalive);
        boost::system::error_code ec;
        auto wait = gn.wake->async_wait(asio::redirect_error(asio::use_awaitable, ec));
        co_await std::move(wait);
        if (stopping_ || gn.removed) {
            break;
        }
        if (std::chrono::system_clock::now() + s_.renew_before >
            noded::end_of(gn.login->response.expiry)) {
            spdlog::info("general node {}: NMS key expires; logging in again", gn.entry.device_id);
            break;
        }
        auto call = noded::keep_alive_families(*gn.nms, nms_at_, gn.has_v4, gn.has_v6);
        const noded::KeptAlive k = co_await std::move(call);
        const bool answered = k.answered;
        const bool again = k.rejected;
        if (k.rejected) {
            gn.last_error = k.error;
        }
        if (answered && misses > 0 && gn.paths) {
            gn.paths->reselect_unhealthy();  // NMS is back: so may the peers be (D-N12)
        }
        misses = answered ? 0 : misses + 1;
        if (again || misses >= kMissesBeforeRegister) {
            break;  // log in and register again
        }
    }
}

// ------------------------------------------------------------------------------- session

std::shared_ptr<net::NmsSession> Adapter::make_session(const net::LoginResult& login,
                                                       GeneralNode* gn) {
    const auto& lr = login.response;
    net::NmsSession::Options o{
        .node_id = login.node_id,
        .cipher = lr.cipher,
        .nms_key = std::span<const std::byte, 32>(lr.common_key),
        .nms = nms_at_.first(),
        .local = Endpoint{},
        .give_up = milliseconds(15500),
        .send = [this](ByteView datagram,
                       const Endpoint& to) { return plane_->send(datagram, to); },
    };
    if (gn != nullptr && gn->nms) {
        gn->nms->close();
    }
    auto session = std::make_shared<net::NmsSession>(io_, o);
    if (gn != nullptr) {
        const GnIndex index = gn->index;
        session->on_route_direction(
            [this, index](const wire::BaseHeader& h, const wire::RouteDirection& rd) {
                if (nodes_[index]->paths) {
                    nodes_[index]->paths->on_route_direction(h, rd);
                }
            });
    } else {
        session->on_general_node_update([this] {
            spdlog::info("General Node Update Notify: fetching the list again");
            refetch_ = true;
            wake_->cancel();
        });
    }
    session->start();
    return session;
}

asio::awaitable<void> Adapter::session_loop() {
    noded::RetryBackoff backoff;
    while (!stopping_) {
        state_ = "logging_in";
        relogin_ = false;
        auto attempt = login();
        const bool logged_in = co_await std::move(attempt);
        if (stopping_) {
            break;
        }
        if (logged_in) {
            nms_session_ = make_session(*login_, nullptr);
            state_ = "registering";
            bool nat = false;
            auto reg = register_identity(*nms_session_, true, nat, has_v4_, has_v6_);
            if (co_await std::move(reg)) {
                behind_nat_ = nat;
                state_ = "registered";
                backoff.reset();
                spdlog::info("registered real_ipv4={} real_ipv6={} port={} nat={}",
                             real_.v4 ? real_.v4->to_string() : "-",
                             real_.v6 ? real_.v6->to_string() : "-", s_.raw.data_port,
                             nat ? "yes" : "no");
                auto fetch = fetch_general_nodes();
                co_await std::move(fetch);
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

asio::awaitable<bool> Adapter::login() {
    if (!as_) {
        try {
            as_ = std::make_unique<net::AsClient>(io_.get_executor(),
                                                  noded::as_client_options(s_.raw));
        } catch (const std::exception& e) {
            fatal(e.what());
            co_return false;
        }
    }
    auto request = noded::login_request(s_.raw, s_, wire::ExecMode::Adapter);
    auto lock = lock_as();
    co_await std::move(lock);
    as_->close();  // a fresh connection: general-node logins need it authenticated as adapter
    auto call = as_->login(std::move(request));
    auto result = co_await std::move(call);
    unlock_as();
    if (!result) {
        const auto& f = result.error();
        last_error_ = "login: " + f.describe();
        if (noded::login_failure_is_final(f)) {
            fatal(
                fmt::format("login rejected by AS at {}:{}: {} (check auth.device_id and the "
                            "password or certificate)",
                            s_.raw.as_host, s_.raw.as_port, f.describe()));
            co_return false;
        }
        spdlog::warn("login failed: {}", f.describe());
        co_return false;
    }
    login_ = std::move(*result);
    const auto& lr = login_->response;
    nms_at_ = noded::nms_addresses(lr, s_.raw.nms_port);
    domain_ = noded::overlay_domain(s_.raw.domain, lr.fqdn);
    last_error_.clear();
    spdlog::info("logged in fqdn={} node_id={} gateway_ipv4={} gateway_ipv6={} nms={} {}", lr.fqdn,
                 login_->node_id.to_hex(), lr.virtual_ipv4.to_string(), lr.virtual_ipv6.to_string(),
                 nms_at_.v4 ? nms_at_.v4->to_string() : "-",
                 nms_at_.v6 ? nms_at_.v6->to_string() : "-");
    // 4.2.2.1: the adapter's virtual addresses are the gateway on the internal link.
    std::optional<Ipv4Address> gw4;
    std::optional<Ipv6Address> gw6;
    if (!lr.virtual_ipv4.is_unspecified()) {
        gw4 = lr.virtual_ipv4;
    }
    if (!lr.virtual_ipv6.is_unspecified()) {
        gw6 = lr.virtual_ipv6;
    }
    if (gw4 != saved_.gateway_v4 || gw6 != saved_.gateway_v6 || !dns_) {
        saved_.gateway_v4 = gw4;
        saved_.gateway_v6 = gw6;
        save();
        if (auto r = configure_gateway(); !r) {
            fatal("gateway: " + r.error());
            co_return false;
        }
    }
    co_return true;
}

asio::awaitable<bool> Adapter::register_identity(net::NmsSession& nms, bool first, bool& nat,
                                                 bool& has_v4, bool& has_v6) {
    // 4.2.2.6: a general node registers with the adapter's external addresses and port.
    real_ = noded::real_addresses_towards(nms_at_);
    auto call = noded::register_families(nms, nms_at_, real_, s_.raw.data_port, first);
    const noded::Registered r = co_await std::move(call);
    nat = r.nat;
    has_v4 = r.v4;
    has_v6 = r.v6;
    if (!r.any) {
        last_error_ = r.error;
    }
    co_return r.any;
}

asio::awaitable<bool> Adapter::fetch_general_nodes() {
    auto lock = lock_as();
    co_await std::move(lock);
    auto call = as_->fetch_general_nodes(s_.raw.device_id, s_.password);
    auto result = co_await std::move(call);
    unlock_as();
    if (!result) {
        spdlog::warn("general-node list: {}; keeping the cached one ({} entries)",
                     result.error().describe(), saved_.general_nodes.size());
    } else {
        spdlog::info("general-node list: {} entries", result->size());
        if (*result != saved_.general_nodes) {
            saved_.general_nodes = std::move(*result);
            save();
        }
    }
    const std::size_t before = nodes_.size();
    apply_entries(saved_.general_nodes);
    // Start (or restart) the session of every general node without one running.
    for (auto& gn : nodes_) {
        if (gn->removed || (gn->index < before && gn->state != "known")) {
            continue;
        }
        gn->state = "logging_in";
        asio::co_spawn(io_, general_node_loop(gn->index), asio::detached);
    }
    co_return result.has_value();
}

asio::awaitable<void> Adapter::keepalive_loop() {
    int misses = 0;
    while (!stopping_ && !relogin_) {
        wake_->expires_after(s_.keepalive);
        boost::system::error_code ec;
        auto wait = wake_->async_wait(asio::redirect_error(asio::use_awaitable, ec));
        co_await std::move(wait);
        if (stopping_ || relogin_) {
            break;
        }
        if (refetch_) {
            refetch_ = false;
            auto fetch = fetch_general_nodes();
            co_await std::move(fetch);
            continue;
        }
        if (std::chrono::system_clock::now() + s_.renew_before >
            noded::end_of(login_->response.expiry)) {
            spdlog::info("NMS key expires: logging in again");
            break;
        }
        auto call = noded::keep_alive_families(*nms_session_, nms_at_, has_v4_, has_v6_);
        const noded::KeptAlive k = co_await std::move(call);
        if (k.key_expired) {
            break;  // log in again
        }
        const bool answered = k.answered;
        const bool again = k.rejected;
        misses = answered ? 0 : misses + 1;
        if (again || misses >= kMissesBeforeRegister) {
            spdlog::warn("NMS keepalive failed; registering again");
            bool nat = false;
            auto reg = register_identity(*nms_session_, false, nat, has_v4_, has_v6_);
            if (!co_await std::move(reg)) {
                break;
            }
            misses = 0;
        }
    }
}

asio::awaitable<net::OverlayAnswer> Adapter::resolve(std::string fqdn, Endpoint client) {
    net::OverlayAnswer answer;
    answer.status = net::OverlayAnswer::Status::ServFail;
    GeneralNode* gn = find_by_ip(client.address);
    if (gn == nullptr || gn->state != "active" || !gn->paths) {
        spdlog::info("dns {} from {}: not an active general node", fqdn,
                     client.address.to_string());
        co_return answer;
    }
    // 4.2.2.8: route selection on behalf of the general node that asked.
    auto call = gn->paths->connect(std::move(fqdn));
    auto result = co_await std::move(call);
    if (!result) {
        answer.status = result.error().unknown_peer ? net::OverlayAnswer::Status::NxDomain
                                                    : net::OverlayAnswer::Status::ServFail;
        co_return answer;
    }
    save_peers();
    answer.status = net::OverlayAnswer::Status::Ok;
    answer.ipv4 = result->v4;
    answer.ipv6 = result->v6;
    co_return answer;
}

void Adapter::on_datagram(const Bytes& datagram, const Endpoint& from) {
    if (stopping_) {
        return;
    }
    const auto messages = wire::split_datagram(datagram);
    if (!messages) {
        return;
    }
    const bool from_nms = nms_at_.contains(from);
    for (const auto& m : *messages) {
        if (m.header.type == wire::MessageType::Capsule) {
            continue;
        }
        if (nms_session_ && login_ && m.header.id == login_->node_id.raw()) {
            nms_session_->deliver(m, from);
            continue;
        }
        GeneralNode* target = nullptr;
        if (const auto it = by_node_id_.find(NodeId(m.header.id)); it != by_node_id_.end()) {
            target = nodes_[it->second].get();
        }
        if (target != nullptr && target->nms) {
            target->nms->deliver(m, from);
            continue;
        }
        // From NMS, an awaited answer under a PathID (Route Direction to Initiator, Error) goes
        // to the general node that asked, before any path: during a route selection again the
        // old path of that PathID is still known, and its Tunnel Key cannot open NMS's answer.
        bool done = false;
        if (from_nms) {
            for (auto& gn : nodes_) {
                if (gn->nms && gn->nms->expects(m.header.id)) {
                    gn->nms->deliver(m, from);
                    done = true;
                    break;
                }
            }
        }
        for (auto& gn : nodes_) {
            if (done) {
                break;
            }
            if (gn->paths && gn->paths->knows(PathId(m.header.id))) {
                gn->paths->on_message(m, from);
                done = true;
            }
        }
        if (!done && from_nms && nms_session_) {
            nms_session_->deliver(m, from);
        } else if (!done) {
            plane_->count_drop("unknown_id");
        }
    }
}

// -------------------------------------------------------------------------------- status

std::string Adapter::render_status(bool json) const {
    const auto quote = [](std::string_view text) { return json_string(text); };
    auto drops = plane_ ? plane_->drops() : std::map<std::string, std::uint64_t>{};
    if (nms_session_) {
        for (const auto& [k, v] : nms_session_->drops()) {
            drops["nms_session_" + k] += v;
        }
    }
    auto counters = plane_ ? plane_->counters() : std::map<std::string, std::uint64_t>{};
    if (responder_) {
        for (const auto& [k, v] : responder_->counters()) {
            counters["lan_" + k] += v;
        }
    }
    if (dns_) {
        const auto& d = dns_->counters();
        counters["dns_queries"] = d.queries;
        counters["dns_answered_overlay"] = d.answered_overlay;
        counters["dns_forwarded"] = d.forwarded;
        if (d.answered_formerr > 0) {
            drops["dns_malformed"] = d.answered_formerr;
        }
        for (const auto& [k, v] : d.dropped) {
            drops["dns_" + k] += v;
        }
    }
    if (!json) {
        std::string out;
        out += fmt::format("state:         {}\n", state_);
        if (!last_error_.empty()) {
            out += fmt::format("last error:    {}\n", last_error_);
        }
        out += fmt::format("adapter:       {} ({})\n", login_ ? login_->response.fqdn : "-",
                           login_ ? login_->node_id.to_hex() : "-");
        out += fmt::format("gateway:       {} {} on {}\n",
                           saved_.gateway_v4 ? saved_.gateway_v4->to_string() : "-",
                           saved_.gateway_v6 ? saved_.gateway_v6->to_string() : "-",
                           s_.raw.lan_interface);
        out += fmt::format("real IPs:      {} {} (UDP port {}), behind NAT: {}\n",
                           real_.v4 ? real_.v4->to_string() : "-",
                           real_.v6 ? real_.v6->to_string() : "-", s_.raw.data_port,
                           behind_nat_ ? (*behind_nat_ ? "yes" : "no") : "unknown");
        out += fmt::format("workers:       {} (staging {})\n", s_.raw.workers,
                           s_.raw.staging ? "on" : "off");
        std::uint64_t dropped = 0;
        for (const auto& [reason, n] : drops) {
            dropped += n;
        }
        out += fmt::format("dropped:       {}", dropped);
        for (const auto& [reason, n] : drops) {
            out += fmt::format(" {}={}", reason, n);
        }
        out += "\n";
        out += fmt::format("general nodes: {}\n", nodes_.size());
        for (const auto& gn : nodes_) {
            out +=
                fmt::format("  {}  {}  {} {}  {}{}\n", gn->entry.mac, gn->entry.fqdn,
                            gn->entry.virtual_ipv4 ? gn->entry.virtual_ipv4->to_string() : "-",
                            gn->entry.virtual_ipv6 ? gn->entry.virtual_ipv6->to_string() : "-",
                            gn->state, gn->last_error.empty() ? "" : " (" + gn->last_error + ")");
            if (gn->paths) {
                for (const auto& p : gn->paths->status()) {
                    out +=
                        fmt::format("    peer {} {} {} tx {} rx {} packets\n", p.fqdn, p.state,
                                    p.relayed ? "relayed" : "direct", p.tx_packets, p.rx_packets);
                }
            }
        }
        return out;
    }
    const auto map_json = [&](const std::map<std::string, std::uint64_t>& m) {
        std::string out = "{";
        for (const auto& [k, v] : m) {
            out += fmt::format("{}{}:{}", out.size() > 1 ? "," : "", quote(k), v);
        }
        return out + "}";
    };
    const auto opt = [&](const auto& a) { return a ? quote(a->to_string()) : std::string("null"); };
    std::string nodes = "[";
    for (const auto& gn : nodes_) {
        std::string peers = "[";
        if (gn->paths) {
            for (const auto& p : gn->paths->status()) {
                peers += fmt::format(
                    "{}{{\"fqdn\":{},\"path_id\":{},\"role\":{},\"state\":{},\"relayed\":{},"
                    "\"endpoint\":{},\"tx_packets\":{},\"rx_packets\":{},\"tx_bytes\":{},"
                    "\"rx_bytes\":{},\"drops\":{}}}",
                    peers.size() > 1 ? "," : "", quote(p.fqdn), quote(p.path_id), quote(p.role),
                    quote(p.state), p.relayed ? "true" : "false", opt(p.endpoint), p.tx_packets,
                    p.rx_packets, p.tx_bytes, p.rx_bytes, p.drops);
            }
        }
        peers += "]";
        nodes += fmt::format(
            "{}{{\"device_id\":{},\"mac\":{},\"fqdn\":{},\"virtual_ipv4\":{},\"virtual_ipv6\":{},"
            "\"node_id\":{},\"state\":{},\"last_error\":{},\"peers\":{}}}",
            nodes.size() > 1 ? "," : "", quote(gn->entry.device_id), quote(gn->entry.mac),
            quote(gn->entry.fqdn), opt(gn->entry.virtual_ipv4), opt(gn->entry.virtual_ipv6),
            gn->login ? quote(gn->login->node_id.to_hex()) : "null", quote(gn->state),
            quote(gn->last_error), peers);
    }
    nodes += "]";
    return fmt::format(
        "{{\"state\":{},\"node_id\":{},\"fqdn\":{},\"gateway_ipv4\":{},\"gateway_ipv6\":{},"
        "\"nat\":{},\"real_ipv4\":{},\"real_ipv6\":{},\"port\":{},\"workers\":{},\"staging\":{},"
        "\"last_error\":{},\"drops\":{},\"counters\":{},\"general_nodes\":{}}}\n",
        quote(state_), login_ ? quote(login_->node_id.to_hex()) : "null",
        login_ ? quote(login_->response.fqdn) : "null", opt(saved_.gateway_v4),
        opt(saved_.gateway_v6), behind_nat_ ? (*behind_nat_ ? "true" : "false") : "null",
        opt(real_.v4), opt(real_.v6), s_.raw.data_port, s_.raw.workers,
        s_.raw.staging ? "true" : "false", quote(last_error_), map_json(drops), map_json(counters),
        nodes);
}

}  // namespace cyphonic::adapterd
