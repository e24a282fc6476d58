#pragma once

#include <memory>
#include <optional>
#include <string>

#include "config.hpp"
#include "data_plane.hpp"
#include "path_manager.hpp"
#include "status.hpp"

#include "cyphonic/net/as_client.hpp"
#include "cyphonic/net/asio.hpp"
#include "cyphonic/net/dns_server.hpp"
#include "cyphonic/net/nms_session.hpp"
#include "cyphonic/sys/address_watcher.hpp"
#include "cyphonic/sys/netlink.hpp"
#include "cyphonic/sys/tun.hpp"

// cyphonicd as a whole: signaling with AS and NMS (§7.1, §7.2), system settings (TUN, virtual
// addresses, routes), the resolver, mobility management (§7.8) and the status socket, around
// the packet threads (DataPlane) and the peers (PathManager). One control thread runs all of
// it on one io_context.
namespace cyphonic::noded {

class Daemon {
public:
    explicit Daemon(DaemonSettings settings);
    ~Daemon();
    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;

    // Runs until SIGTERM/SIGINT (exit 0) or a fatal error (exit 1, logged); removes the TUN,
    // its addresses and routes before returning.
    int run();

private:
    asio::awaitable<void> session_loop();
    asio::awaitable<bool> login();
    Expected<void, std::string> bring_up_interface();
    Expected<void, std::string> start_resolver();
    asio::awaitable<net::OverlayAnswer> resolve(std::string fqdn);
    asio::awaitable<bool> register_all(bool first);
    asio::awaitable<void> keepalive_loop();
    void make_nms_session();
    void on_datagram(const Bytes& datagram, const Endpoint& from);
    void on_addresses_changed();
    asio::awaitable<void> handle_move();
    void refresh_real_addresses();
    [[nodiscard]] DaemonStatus snapshot() const;
    void shutdown();
    void fatal(const std::string& what);

    DaemonSettings s_;
    asio::io_context io_{1};
    asio::signal_set signals_{io_, SIGTERM, SIGINT};
    std::unique_ptr<net::AsClient> as_;
    std::optional<net::LoginResult> login_;
    std::optional<sys::TunDevice> tun_;
    std::optional<sys::Netlink> netlink_;
    int udp_fd_ = -1;
    std::unique_ptr<DataPlane> data_;
    std::unique_ptr<PathManager> paths_;
    std::shared_ptr<net::NmsSession> nms_;
    std::unique_ptr<net::DnsServer> dns_;
    std::unique_ptr<sys::AddressWatcher> watcher_;
    std::unique_ptr<StatusServer> status_;
    std::unique_ptr<asio::steady_timer> wake_;  // wakes the keepalive loop (move, relogin)

    std::string state_ = "starting";
    std::string last_error_;
    std::string domain_;
    std::optional<Endpoint> nms_v4_;
    std::optional<Endpoint> nms_v6_;
    std::optional<Ipv4Address> real_v4_;
    std::optional<Ipv6Address> real_v6_;
    bool registered_v4_ = false;
    bool registered_v6_ = false;
    std::optional<bool> behind_nat_;
    bool moved_ = false;
    bool relogin_ = false;
    bool stopping_ = false;
    int exit_code_ = 0;
};

}  // namespace cyphonic::noded
