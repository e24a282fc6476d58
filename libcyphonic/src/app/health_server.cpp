#include "cyphonic/app/health_server.hpp"

#include <cstring>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

namespace cyphonic::app {

namespace beast = boost::beast;
namespace http = beast::http;

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
    return v6;
}

HealthServer::HealthServer(asio::io_context& io, MetricsRegistry& metrics,
                           std::function<bool()> ready)
    : io_(io), metrics_(metrics), ready_(std::move(ready)), acceptor_(io) {}

void HealthServer::start(const Endpoint& listen) {
    const asio::ip::tcp::endpoint ep(to_asio(listen.address), listen.port);
    acceptor_.open(ep.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen();
    asio::co_spawn(io_, accept_loop(), [](const std::exception_ptr& e) {
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                spdlog::error("health server stopped reason={}", ex.what());
            }
        }
    });
}

void HealthServer::stop() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
}

Endpoint HealthServer::local_endpoint() const {
    const auto ep = acceptor_.local_endpoint();
    return {from_asio(ep.address()), ep.port()};
}

asio::awaitable<void> HealthServer::accept_loop() {
    for (;;) {
        boost::system::error_code ec;
        auto socket =
            co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
        if (ec == asio::error::operation_aborted || !acceptor_.is_open()) {
            co_return;
        }
        if (ec) {
            continue;  // a connection reset before accept; keep serving
        }
        asio::co_spawn(io_, serve(std::move(socket)), asio::detached);
    }
}

asio::awaitable<void> HealthServer::serve(asio::ip::tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    boost::system::error_code ec;
    stream.expires_after(std::chrono::seconds(5));
    co_await http::async_read(stream, buffer, req, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
        co_return;
    }
    http::response<http::string_body> res;
    res.version(req.version());
    res.keep_alive(false);
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    const auto target = req.target();
    if (req.method() != http::verb::get && req.method() != http::verb::head) {
        res.result(http::status::method_not_allowed);
        res.body() = "only GET\n";
    } else if (target == "/healthz") {
        res.result(http::status::ok);
        res.body() = "ok\n";
    } else if (target == "/readyz") {
        const bool ready = ready_ && ready_();
        res.result(ready ? http::status::ok : http::status::service_unavailable);
        res.body() = ready ? "ready\n" : "not ready\n";
    } else if (target == "/metrics") {
        res.result(http::status::ok);
        res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
        res.body() = metrics_.render();
    } else {
        res.result(http::status::not_found);
        res.body() = "try /healthz, /readyz or /metrics\n";
    }
    res.prepare_payload();
    co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
}

}  // namespace cyphonic::app
