#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "config.hpp"
#include "metrics.hpp"
#include "relay.hpp"

#include "cyphonic/app/service.hpp"
#include "cyphonic/core/address.hpp"
#include "cyphonic/core/bytes.hpp"
#include "cyphonic/net/asio.hpp"

// The TRS's sockets and loops (STYLE.md §2): one UDP socket per family, the receive loops that
// feed the Relay, the sends on the socket of each destination's family (so an IPv4-only end
// and an IPv6-only end meet here), the sweep and the drop summary. I/O thread only.
namespace cyphonic::trs {

class Server {
public:
    // `on_fatal` is called when a long-lived task dies (the service then exits 1).
    Server(asio::io_context& io, const TrsSettings& settings, Relay& relay, TrsMetrics& metrics,
           std::function<void(const std::string&)> on_fatal);

    // Opens and binds the sockets (IPv6 with IPV6_V6ONLY) and starts the loops. Throws
    // boost::system::system_error naming the failing call if a bind fails.
    void start();
    // SIGTERM: refuse new Relay Requests, keep relaying existing paths while `guard` is held,
    // which is until the table is empty, no datagram came for shutdown.quiet_s, or `grace` is
    // nearly over; then close the sockets.
    void drain(std::chrono::milliseconds grace, app::ServiceRuntime::InFlight guard);
    // Closes the sockets and stops the timers.
    void stop();

    [[nodiscard]] std::optional<Endpoint> ipv4_endpoint() const;
    [[nodiscard]] std::optional<Endpoint> ipv6_endpoint() const;

private:
    using Socket = asio::ip::udp::socket;

    void open(std::optional<Socket>& socket, const Endpoint& at);
    asio::awaitable<void> receive_loop(Socket& socket, Bytes& buffer);
    asio::awaitable<void> sweep_loop();
    asio::awaitable<void> summary_loop();
    asio::awaitable<void> drain_loop(std::chrono::milliseconds grace,
                                     app::ServiceRuntime::InFlight guard);
    void handle(ByteView datagram, const asio::ip::udp::endpoint& from);
    void send(const Outgoing& o);
    void spawn(asio::awaitable<void> task, const char* name);
    void log_summary();

    asio::io_context& io_;
    const TrsSettings& settings_;
    Relay& relay_;
    TrsMetrics& metrics_;
    std::function<void(const std::string&)> on_fatal_;
    std::optional<Socket> ipv4_;
    std::optional<Socket> ipv6_;
    Bytes buffer4_;
    Bytes buffer6_;
    std::vector<Outgoing> out_;
    asio::steady_timer sweep_timer_;
    asio::steady_timer summary_timer_;
    asio::steady_timer drain_timer_;
    DropCounts last_drops_{};
    TimePoint last_datagram_{};
    bool stopped_ = false;
};

// Runs the TRS until SIGTERM/SIGINT: relay, sockets, /healthz /readyz /metrics; returns the
// exit code. Throws what start-up throws (bind failures).
[[nodiscard]] int serve(const TrsSettings& settings);

}  // namespace cyphonic::trs
