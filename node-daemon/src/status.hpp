#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "path_manager.hpp"

#include "cyphonic/net/asio.hpp"

// `cyphonicd status`: the daemon answers on a unix socket; the command prints the answer.
namespace cyphonic::noded {

struct DaemonStatus {
    std::string state;  // starting | logging_in | registering | registered | stopping
    std::string node_id;
    std::string fqdn;
    std::optional<Ipv4Address> virtual_v4;
    std::optional<Ipv6Address> virtual_v6;
    std::optional<bool> behind_nat;
    std::optional<Ipv4Address> real_v4;
    std::optional<Ipv6Address> real_v6;
    std::string tun;
    std::uint16_t port = 0;
    std::string last_error;
    std::map<std::string, std::uint64_t> drops;
    std::vector<PeerStatus> peers;
};

[[nodiscard]] std::string to_json(const DaemonStatus& s);
[[nodiscard]] std::string to_text(const DaemonStatus& s);

// Serves one request line per connection: "json" or "text". The socket file is created with
// mode 0660 and removed on destruction.
class StatusServer {
public:
    StatusServer(asio::io_context& io, std::filesystem::path path,
                 std::function<DaemonStatus()> snapshot);
    // Any daemon: `render(json)` gives the answer to a "json" (true) or "text" request.
    StatusServer(asio::io_context& io, std::filesystem::path path,
                 std::function<std::string(bool json)> render);
    ~StatusServer();
    StatusServer(const StatusServer&) = delete;
    StatusServer& operator=(const StatusServer&) = delete;
    // Throws std::runtime_error naming the path when it cannot listen.
    void start();
    void stop();

private:
    asio::awaitable<void> accept_loop();
    asio::io_context& io_;
    std::filesystem::path path_;
    std::function<std::string(bool json)> render_;
    std::unique_ptr<asio::local::stream_protocol::acceptor> acceptor_;
};

// The client side: sends `request` and returns the answer, or an error sentence.
[[nodiscard]] Expected<std::string, std::string> query_status(const std::filesystem::path& path,
                                                              const std::string& request);

}  // namespace cyphonic::noded
