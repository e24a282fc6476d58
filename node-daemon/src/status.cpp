#include "status.hpp"

#include <sys/stat.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cyphonic/core/text.hpp"

namespace cyphonic::noded {

namespace {

std::string quote(std::string_view text) {
    return json_string(text);
}

template <class T>
std::string opt_address(const std::optional<T>& a) {
    return a ? quote(a->to_string()) : "null";
}

std::string drops_json(const std::map<std::string, std::uint64_t>& drops) {
    std::string out = "{";
    bool first = true;
    for (const auto& [reason, n] : drops) {
        out += fmt::format("{}{}:{}", first ? "" : ",", quote(reason), n);
        first = false;
    }
    return out + "}";
}

}  // namespace

std::string to_json(const DaemonStatus& s) {
    std::string peers = "[";
    for (std::size_t i = 0; i < s.peers.size(); ++i) {
        const auto& p = s.peers[i];
        peers += fmt::format(
            "{}{{\"fqdn\":{},\"path_id\":{},\"role\":{},\"state\":{},\"virtual_ipv4\":{},"
            "\"virtual_ipv6\":{},\"path\":{},\"endpoint\":{},\"tx_packets\":{},\"tx_bytes\":{},"
            "\"rx_packets\":{},\"rx_bytes\":{},\"drops\":{},\"last_handshake_s\":{}}}",
            i == 0 ? "" : ",", quote(p.fqdn), quote(p.path_id), quote(p.role), quote(p.state),
            opt_address(p.v4), opt_address(p.v6), quote(p.relayed ? "relayed" : "direct"),
            p.endpoint ? quote(p.endpoint->to_string()) : "null", p.tx_packets, p.tx_bytes,
            p.rx_packets, p.rx_bytes, p.drops,
            p.last_handshake_s ? std::to_string(*p.last_handshake_s) : "null");
    }
    peers += "]";
    return fmt::format(
        "{{\"state\":{},\"node_id\":{},\"fqdn\":{},\"virtual_ipv4\":{},\"virtual_ipv6\":{},"
        "\"nat\":{},\"real_ipv4\":{},\"real_ipv6\":{},\"tun\":{},\"port\":{},\"last_error\":{},"
        "\"drops\":{},\"peers\":{}}}\n",
        quote(s.state), quote(s.node_id), quote(s.fqdn), opt_address(s.virtual_v4),
        opt_address(s.virtual_v6), s.behind_nat ? (*s.behind_nat ? "true" : "false") : "null",
        opt_address(s.real_v4), opt_address(s.real_v6), quote(s.tun), s.port, quote(s.last_error),
        drops_json(s.drops), peers);
}

std::string to_text(const DaemonStatus& s) {
    std::string out;
    out += fmt::format("state:        {}\n", s.state);
    if (!s.last_error.empty()) {
        out += fmt::format("last error:   {}\n", s.last_error);
    }
    out += fmt::format("node:         {} ({})\n", s.fqdn.empty() ? "-" : s.fqdn,
                       s.node_id.empty() ? "-" : s.node_id);
    out += fmt::format("virtual IPs:  {} {}\n", s.virtual_v4 ? s.virtual_v4->to_string() : "-",
                       s.virtual_v6 ? s.virtual_v6->to_string() : "-");
    out +=
        fmt::format("real IPs:     {} {} (UDP port {})\n", s.real_v4 ? s.real_v4->to_string() : "-",
                    s.real_v6 ? s.real_v6->to_string() : "-", s.port);
    out += fmt::format("behind NAT:   {}\n",
                       s.behind_nat ? (*s.behind_nat ? "yes" : "no") : "unknown");
    out += fmt::format("interface:    {}\n", s.tun);
    std::uint64_t dropped = 0;
    for (const auto& [reason, n] : s.drops) {
        dropped += n;
    }
    out += fmt::format("dropped:      {}", dropped);
    for (const auto& [reason, n] : s.drops) {
        out += fmt::format(" {}={}", reason, n);
    }
    out += "\n";
    out += fmt::format("peers:        {}\n", s.peers.size());
    for (const auto& p : s.peers) {
        out += fmt::format(
            "  {}  {} {}  {} via {} ({}, {})\n    tx {} packets {} bytes, rx {} packets {} "
            "bytes, drops {}, last handshake {}\n",
            p.fqdn, p.v4 ? p.v4->to_string() : "-", p.v6 ? p.v6->to_string() : "-",
            p.relayed ? "relayed" : "direct", p.endpoint ? p.endpoint->to_string() : "-", p.role,
            p.state, p.tx_packets, p.tx_bytes, p.rx_packets, p.rx_bytes, p.drops,
            p.last_handshake_s ? fmt::format("{} s ago", *p.last_handshake_s) : "never");
    }
    return out;
}

StatusServer::StatusServer(asio::io_context& io, std::filesystem::path path,
                           std::function<DaemonStatus()> snapshot)
    : StatusServer(io, std::move(path), [snapshot = std::move(snapshot)](bool json) {
          return json ? to_json(snapshot()) : to_text(snapshot());
      }) {}

StatusServer::StatusServer(asio::io_context& io, std::filesystem::path path,
                           std::function<std::string(bool json)> render)
    : io_(io), path_(std::move(path)), render_(std::move(render)) {}

StatusServer::~StatusServer() {
    stop();
}

void StatusServer::start() {
    std::error_code ec;
    std::filesystem::create_directories(path_.parent_path(), ec);
    std::filesystem::remove(path_, ec);  // a stale socket of an earlier run
    acceptor_ = std::make_unique<asio::local::stream_protocol::acceptor>(io_);
    boost::system::error_code bec;
    acceptor_->open(asio::local::stream_protocol(), bec);
    if (!bec) {
        acceptor_->bind(asio::local::stream_protocol::endpoint(path_.string()), bec);
    }
    if (!bec) {
        acceptor_->listen(16, bec);
    }
    if (bec) {
        throw std::runtime_error(
            fmt::format("status socket {}: {}", path_.string(), bec.message()));
    }
    ::chmod(path_.c_str(), 0660);
    asio::co_spawn(io_, accept_loop(), asio::detached);
}

void StatusServer::stop() {
    if (acceptor_) {
        boost::system::error_code ec;
        acceptor_->close(ec);
        acceptor_.reset();
        std::error_code fec;
        std::filesystem::remove(path_, fec);
    }
}

asio::awaitable<void> StatusServer::accept_loop() {
    while (acceptor_ && acceptor_->is_open()) {
        boost::system::error_code ec;
        auto accept = acceptor_->async_accept(asio::redirect_error(asio::use_awaitable, ec));
        auto socket = co_await std::move(accept);
        if (ec) {
            if (ec == asio::error::operation_aborted) {
                co_return;
            }
            continue;
        }
        std::string request;
        auto read = asio::async_read_until(socket, asio::dynamic_buffer(request, 64), '\n',
                                           asio::redirect_error(asio::use_awaitable, ec));
        co_await std::move(read);
        const bool json = request.starts_with("json");
        const std::string answer = render_(json);
        auto write = asio::async_write(socket, asio::buffer(answer),
                                       asio::redirect_error(asio::use_awaitable, ec));
        co_await std::move(write);
    }
}

Expected<std::string, std::string> query_status(const std::filesystem::path& path,
                                                const std::string& request) {
    asio::io_context io;
    asio::local::stream_protocol::socket socket(io);
    boost::system::error_code ec;
    socket.connect(asio::local::stream_protocol::endpoint(path.string()), ec);
    if (ec) {
        return fail(
            fmt::format("cannot reach the daemon at {}: {} (is it running? see "
                        "status.socket / --socket)",
                        path.string(), ec.message()));
    }
    const std::string line = request + "\n";
    asio::write(socket, asio::buffer(line), ec);
    std::string answer;
    asio::read(socket, asio::dynamic_buffer(answer), ec);
    if (ec && ec != asio::error::eof) {
        return fail(fmt::format("reading from {}: {}", path.string(), ec.message()));
    }
    return answer;
}

}  // namespace cyphonic::noded
