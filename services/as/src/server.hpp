#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <set>

#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>

#include "config.hpp"
#include "controller_api.hpp"
#include "handlers.hpp"
#include "metrics.hpp"

#include "cyphonic/app/service.hpp"
#include "cyphonic/core/address.hpp"
#include "cyphonic/net/asio.hpp"

// The TLS port of the AS: accepts TCP, runs the TLS 1.3 handshake, then serves either the
// login stream (PROTOCOL.md D5: 32-byte header, then Message Length − 32 more bytes; several
// Login Requests per connection, answered in order) or the controller API (ALPN http/1.1).
// Bad input is counted and dropped; it never reaches the store. I/O thread only.
namespace cyphonic::as {

// The largest message the AS reads from a client. A Login Request is 56 bytes plus DeviceID,
// Password and one certificate; 16 KiB is far above any honest one.
inline constexpr std::size_t kMaxStreamMessage = std::size_t{16} * 1024;

struct ServerSettings {
    Endpoint listen;
    std::chrono::seconds idle_timeout{60};
    std::chrono::seconds handshake_timeout{10};
    std::size_t max_connections = 1024;
};

class Server {
public:
    Server(app::ServiceRuntime& runtime, asio::ssl::context& tls, ServerSettings settings,
           LoginHandler& login, ControllerApi& api, AsMetrics& metrics);

    // Binds and starts accepting; throws boost::system::system_error if the bind fails.
    void start();
    [[nodiscard]] Endpoint local_endpoint() const;
    // SIGTERM: stop accepting and close connections idle between requests. Connections with
    // a request in flight, or still expected to send their first one, finish it.
    void stop_accepting();
    // After the grace period: close every connection.
    void close_all();

private:
    using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;
    using Busy = std::optional<app::ServiceRuntime::InFlight>;
    enum class Phase { Handshake, AwaitFirst, Idle, Busy };
    struct Connection {
        TlsStream* stream = nullptr;
        Phase phase = Phase::Handshake;
    };

    // Keeps a connection in connections_ (and the gauge) for its lifetime.
    class Registration {
    public:
        Registration(Server& server, Connection& conn);
        ~Registration();
        Registration(const Registration&) = delete;
        Registration& operator=(const Registration&) = delete;

    private:
        Server& server_;
        Connection& conn_;
    };

    asio::awaitable<void> accept_loop();
    asio::awaitable<void> serve(asio::ip::tcp::socket socket);
    asio::awaitable<void> serve_stream(TlsStream& stream, Connection& conn,
                                       ConnectionContext& context, Busy& busy);
    asio::awaitable<void> serve_http(TlsStream& stream, Connection& conn,
                                     ConnectionContext& context, Busy& busy);
    // Answers bad input with BAD_REQUEST (the header arrived, so there is someone to tell),
    // counts it and returns; the caller closes the connection.
    asio::awaitable<void> reject(TlsStream& stream, ConnectionContext& context,
                                 std::uint32_t transaction_id, std::string reason_label,
                                 std::string reason);
    void drop(std::string_view reason, const ConnectionContext* context, std::string_view detail);

    app::ServiceRuntime& runtime_;
    asio::ssl::context& tls_;
    ServerSettings settings_;
    LoginHandler& login_;
    ControllerApi& api_;
    AsMetrics& metrics_;
    asio::ip::tcp::acceptor acceptor_;
    std::set<Connection*> connections_;
    LogLimiter log_limit_{10, std::chrono::seconds(30)};
};

// Runs `cyphonic-as serve` until SIGTERM; returns the exit code. Throws app::ConfigError for
// bad TLS files, and database errors when the database cannot be reached at start.
int run_serve(const AsConfig& config, const ConfigSource& source);

}  // namespace cyphonic::as
