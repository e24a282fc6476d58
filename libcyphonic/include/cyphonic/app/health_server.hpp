#pragma once

#include <functional>

#include "cyphonic/app/metrics.hpp"
#include "cyphonic/core/address.hpp"
#include "cyphonic/net/asio.hpp"

namespace cyphonic::app {

// The operator's HTTP port of every service: GET /healthz (200 while the process runs),
// GET /readyz (200 while `ready()` says so, else 503, so a load balancer stops sending at once
// on shutdown) and GET /metrics (Prometheus text). One request per connection, 5 s to send it.
// I/O thread only.
class HealthServer {
public:
    HealthServer(asio::io_context& io, MetricsRegistry& metrics, std::function<bool()> ready);

    // Binds and starts accepting; throws boost::system::system_error if the bind fails.
    void start(const Endpoint& listen);
    // Stops accepting; connections in progress finish.
    void stop();
    [[nodiscard]] Endpoint local_endpoint() const;

private:
    asio::awaitable<void> accept_loop();
    asio::awaitable<void> serve(asio::ip::tcp::socket socket);

    asio::io_context& io_;
    MetricsRegistry& metrics_;
    std::function<bool()> ready_;
    asio::ip::tcp::acceptor acceptor_;
};

// Conversions between Endpoint and Asio endpoints.
[[nodiscard]] asio::ip::address to_asio(const IpAddress& a);
[[nodiscard]] IpAddress from_asio(const asio::ip::address& a);

}  // namespace cyphonic::app
