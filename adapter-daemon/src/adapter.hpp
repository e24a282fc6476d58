#pragma once

#include <csignal>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "adapter_plane.hpp"
#include "client_session.hpp"
#include "config.hpp"
#include "lan/responder.hpp"
#include "lan_socket.hpp"
#include "path_manager.hpp"
#include "state.hpp"
#include "status.hpp"

#include "cyphonic/net/as_client.hpp"
#include "cyphonic/net/asio.hpp"
#include "cyphonic/net/dns_server.hpp"
#include "cyphonic/net/nms_session.hpp"
#include "cyphonic/sys/netlink.hpp"

// cyphonic-adapterd as a whole (thesis §4.2.2, PROTOCOL.md §7.9–7.10): the adapter's own login,
// registration and general-node list; per general node a proxy login, a registration under its
// own NodeID and NMS key, keepalives and a PathManager; the internal link's DHCPv4, RA/DHCPv6,
// proxy ARP and ND proxy (lan::Responder); the resolver on the gateway address; the status
// socket. One control thread runs all of it; the packets go through AdapterPlane.
namespace cyphonic::adapterd {

// One general node as the adapter keeps it.
struct GeneralNode {
    GnIndex index = 0;
    net::GeneralNodeEntry entry;
    lan::MacAddress mac;
    std::string state = "known";  // known | logging_in | registering | active | failed | removed
    std::string last_error;
    std::optional<net::LoginResult> login;
    std::shared_ptr<net::NmsSession> nms;
    std::unique_ptr<noded::PathManager> paths;
    bool has_v4 = false;
    bool has_v6 = false;
    bool behind_nat = false;
    bool removed = false;
    std::unique_ptr<asio::steady_timer> wake;
};

class Adapter {
public:
    explicit Adapter(AdapterSettings settings);
    ~Adapter();
    Adapter(const Adapter&) = delete;
    Adapter& operator=(const Adapter&) = delete;

    // Runs until SIGTERM/SIGINT (exit 0) or a fatal error (exit 1, logged).
    int run();

private:
    Expected<void, std::string> open_interfaces();
    Expected<void, std::string> configure_gateway();
    void apply_entries(const std::vector<net::GeneralNodeEntry>& entries);
    void save();
    void save_peers();
    void load_peers(GeneralNode& gn);

    asio::awaitable<void> session_loop();
    asio::awaitable<bool> login();
    asio::awaitable<bool> fetch_general_nodes();
    asio::awaitable<bool> register_identity(net::NmsSession& nms, bool first, bool& nat,
                                            bool& has_v4, bool& has_v6);
    asio::awaitable<void> keepalive_loop();
    asio::awaitable<void> general_node_loop(GnIndex index);
    asio::awaitable<bool> login_general_node(GeneralNode& gn);
    asio::awaitable<void> general_node_keepalive(GeneralNode& gn);
    asio::awaitable<void> ra_loop();
    asio::awaitable<void> lock_as();
    void unlock_as() { as_busy_ = false; }
    std::shared_ptr<net::NmsSession> make_session(const net::LoginResult& login, GeneralNode* gn);
    asio::awaitable<net::OverlayAnswer> resolve(std::string fqdn, Endpoint client);
    void on_datagram(const Bytes& datagram, const Endpoint& from);
    void on_lan_frame(const Bytes& frame);
    void update_responder();
    [[nodiscard]] bool proxy_for(const IpAddress& target, const lan::MacAddress& asker) const;
    GeneralNode* find_by_ip(const IpAddress& address);
    [[nodiscard]] std::string render_status(bool json) const;
    void shutdown();
    void fatal(const std::string& what);

    AdapterSettings s_;
    asio::io_context io_{1};
    asio::signal_set signals_{io_, SIGTERM, SIGINT};
    std::unique_ptr<net::AsClient> as_;
    bool as_busy_ = false;
    std::optional<net::LoginResult> login_;
    std::optional<sys::Netlink> netlink_;
    LanInterface lan_;
    int udp_fd_ = -1;
    std::unique_ptr<AdapterPlane> plane_;
    std::unique_ptr<lan::Responder> responder_;
    std::shared_ptr<net::NmsSession> nms_session_;
    std::unique_ptr<net::DnsServer> dns_;
    std::unique_ptr<noded::StatusServer> status_;
    std::unique_ptr<asio::steady_timer> wake_;
    std::unique_ptr<asio::steady_timer> ra_timer_;

    SavedState saved_;
    std::vector<std::unique_ptr<GeneralNode>> nodes_;  // by GnIndex; removed ones stay (state)
    std::map<lan::MacAddress, GnIndex> by_mac_;
    std::map<IpAddress, GnIndex> by_ip_;
    std::map<NodeId, GnIndex> by_node_id_;
    bool refetch_ = false;

    std::string state_ = "starting";
    std::string last_error_;
    std::string domain_;
    noded::NmsAddresses nms_at_;
    noded::RealAddresses real_;
    bool has_v4_ = false;
    bool has_v6_ = false;
    std::optional<bool> behind_nat_;
    bool relogin_ = false;
    bool stopping_ = false;
    int exit_code_ = 0;
};

}  // namespace cyphonic::adapterd
