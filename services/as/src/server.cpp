#include "server.hpp"

#include <array>

#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include "tls.hpp"

#include "cyphonic/app/health_server.hpp"

namespace cyphonic::as {

namespace beast = boost::beast;

Server::Server(app::ServiceRuntime& runtime, asio::ssl::context& tls, ServerSettings settings,
               LoginHandler& login, ControllerApi& api, AsMetrics& metrics)
    : runtime_(runtime),
      tls_(tls),
      settings_(settings),
      login_(login),
      api_(api),
      metrics_(metrics),
      acceptor_(runtime.io()) {}

void Server::start() {
    const asio::ip::tcp::endpoint ep(app::to_asio(settings_.listen.address), settings_.listen.port);
    acceptor_.open(ep.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    if (ep.address().is_v6()) {
        acceptor_.set_option(asio::ip::v6_only(false));  // "::" serves IPv4 too
    }
    acceptor_.bind(ep);
    acceptor_.listen(asio::socket_base::max_listen_connections);
    asio::co_spawn(runtime_.io(), accept_loop(), [this](const std::exception_ptr& e) {
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                runtime_.fail(fmt::format("TLS listener stopped: {}", ex.what()));
            }
        }
    });
}

Endpoint Server::local_endpoint() const {
    const auto ep = acceptor_.local_endpoint();
    return {app::from_asio(ep.address()), ep.port()};
}

void Server::stop_accepting() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    for (Connection* c : connections_) {
        if (c->phase == Phase::Idle) {
            beast::get_lowest_layer(*c->stream).cancel();
        }
    }
}

void Server::close_all() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    for (Connection* c : connections_) {
        beast::get_lowest_layer(*c->stream).socket().close(ignored);
    }
}

Server::Registration::Registration(Server& server, Connection& conn)
    : server_(server), conn_(conn) {
    server_.connections_.insert(&conn_);
    server_.metrics_.connections().add(1);
}

Server::Registration::~Registration() {
    server_.connections_.erase(&conn_);
    server_.metrics_.connections().add(-1);
}

void Server::drop(std::string_view reason, const ConnectionContext* context,
                  std::string_view detail) {
    metrics_.dropped(reason);
    std::uint64_t suppressed = 0;
    if (log_limit_.allow(suppressed)) {
        spdlog::info("input dropped reason={} peer={} detail={}{}", reason,
                     context != nullptr ? context->peer_address.to_string() : std::string("?"),
                     detail,
                     suppressed > 0 ? fmt::format(" suppressed={}", suppressed) : std::string());
    }
}

asio::awaitable<void> Server::accept_loop() {
    for (;;) {
        boost::system::error_code ec;
        auto socket =
            co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
        if (ec == asio::error::operation_aborted || !acceptor_.is_open()) {
            co_return;
        }
        if (ec) {
            continue;  // e.g. a connection reset before accept; keep serving
        }
        asio::co_spawn(runtime_.io(), serve(std::move(socket)), [](const std::exception_ptr& e) {
            if (e) {
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& ex) {
                    spdlog::error("connection task failed reason={}", ex.what());
                }
            }
        });
    }
}

asio::awaitable<void> Server::serve(asio::ip::tcp::socket socket) {
    boost::system::error_code ec;
    const auto remote = socket.remote_endpoint(ec);
    if (ec) {
        co_return;
    }
    if (connections_.size() >= settings_.max_connections) {
        drop("too_many_connections", nullptr, remote.address().to_string());
        co_return;
    }
    // A fresh connection is work in flight until its first request is answered: a client
    // whose connection was accepted before SIGTERM gets its login served within the grace.
    Busy busy;
    busy.emplace(runtime_);
    TlsStream stream(std::move(socket), tls_);
    Connection conn{&stream, Phase::Handshake};
    const Registration registration(*this, conn);

    ConnectionContext context;
    context.peer_address = app::from_asio(remote.address()).normalized();
    beast::get_lowest_layer(stream).expires_after(settings_.handshake_timeout);
    co_await stream.async_handshake(asio::ssl::stream_base::server,
                                    asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
        drop("tls_handshake", &context, ec.message());
        co_return;
    }
    context.peer_certificate = verified_peer_certificate(stream.native_handle());
    conn.phase = Phase::AwaitFirst;
    if (negotiated_http(stream.native_handle())) {
        co_await serve_http(stream, conn, context, busy);
    } else {
        co_await serve_stream(stream, conn, context, busy);
    }
    busy.reset();
    // close_notify, but never wait long for the peer's.
    conn.phase = Phase::Busy;
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(1));
    co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
}

asio::awaitable<void> Server::reject(TlsStream& stream, ConnectionContext& context,
                                     std::uint32_t transaction_id, std::string reason_label,
                                     std::string reason) {
    drop(reason_label, &context, reason);
    const Bytes reply = encode_stream_error(transaction_id, context.next_sequence++,
                                            wire::ErrorCode::BadRequest, reason);
    boost::system::error_code ec;
    beast::get_lowest_layer(stream).expires_after(settings_.idle_timeout);
    co_await asio::async_write(stream, asio::buffer(reply),
                               asio::redirect_error(asio::use_awaitable, ec));
}

asio::awaitable<void> Server::serve_stream(TlsStream& stream, Connection& conn,
                                           ConnectionContext& context, Busy& busy) {
    std::array<std::byte, wire::kBaseHeaderSize> header_bytes{};
    Bytes message;
    for (;;) {
        if (!busy) {
            if (runtime_.stopping()) {
                co_return;
            }
            conn.phase = Phase::Idle;
        }
        boost::system::error_code ec;
        beast::get_lowest_layer(stream).expires_after(settings_.idle_timeout);
        const std::size_t got = co_await asio::async_read(
            stream, asio::buffer(header_bytes), asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            if (got > 0) {
                drop("truncated", &context, fmt::format("{} of 32 header bytes", got));
            }
            co_return;  // closed, idle timeout, or shut down
        }
        conn.phase = Phase::Busy;
        if (!busy) {
            busy.emplace(runtime_);
        }
        const auto started = std::chrono::steady_clock::now();
        const std::uint32_t txid = load_be32<0>(std::span<const std::byte, 32>(header_bytes));
        const auto header = wire::decode_stream_header(header_bytes);
        if (!header.has_value()) {
            const auto name = wire::to_string(header.error());
            co_await reject(stream, context, txid, "decode_" + snake_case(name),
                            fmt::format("malformed message header ({}); expected a CYPHONIC "
                                        "version 1 Login Request",
                                        name));
            co_return;
        }
        if (header->message_length > kMaxStreamMessage) {
            co_await reject(stream, context, txid, "oversized",
                            fmt::format("message length {} exceeds the limit of {} bytes",
                                        header->message_length, kMaxStreamMessage));
            co_return;
        }
        message.resize(header->message_length);
        std::copy(header_bytes.begin(), header_bytes.end(), message.begin());
        const std::size_t body =
            co_await asio::async_read(stream,
                                      asio::buffer(message.data() + wire::kBaseHeaderSize,
                                                   message.size() - wire::kBaseHeaderSize),
                                      asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            drop("truncated", &context,
                 fmt::format("{} of {} body bytes", body,
                             header->message_length - wire::kBaseHeaderSize));
            co_return;
        }
        auto decoded = wire::decode_stream_message(message);
        OPENSSL_cleanse(message.data(), message.size());  // it may hold a password
        if (!decoded.has_value()) {
            const auto name = wire::to_string(decoded.error());
            co_await reject(stream, context, txid, "decode_" + snake_case(name),
                            fmt::format("malformed {} ({})", wire::to_string(header->type), name));
            co_return;
        }
        if (header->type != wire::MessageType::LoginRequest) {
            co_await reject(stream, context, txid, "unexpected_type",
                            fmt::format("expected a Login Request (type 0x02), got {}",
                                        wire::to_string(header->type)));
            co_return;
        }
        auto& request = std::get<wire::LoginRequest>(decoded->body);
        LoginReply reply = co_await login_.handle(decoded->header, std::move(request), context);
        beast::get_lowest_layer(stream).expires_after(settings_.idle_timeout);
        co_await asio::async_write(stream, asio::buffer(reply.bytes),
                                   asio::redirect_error(asio::use_awaitable, ec));
        OPENSSL_cleanse(reply.bytes.data(), reply.bytes.size());  // it may hold an NMS key
        metrics_.request(
            "login_request", reply.result,
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
        if (ec) {
            co_return;
        }
        busy.reset();
    }
}

asio::awaitable<void> Server::serve_http(TlsStream& stream, Connection& conn,
                                         ConnectionContext& context, Busy& busy) {
    namespace http = beast::http;
    constexpr std::uint32_t kLimit = 8192;
    beast::flat_buffer buffer(kLimit);
    for (;;) {
        if (!busy) {
            if (runtime_.stopping()) {
                co_return;
            }
            conn.phase = Phase::Idle;
        }
        http::request_parser<http::string_body> parser;
        parser.header_limit(kLimit);
        parser.body_limit(kLimit);
        boost::system::error_code ec;
        beast::get_lowest_layer(stream).expires_after(settings_.idle_timeout);
        co_await http::async_read(stream, buffer, parser,
                                  asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            if (ec.category() ==
                    beast::http::make_error_code(http::error::end_of_stream).category() &&
                ec != http::error::end_of_stream) {
                drop("http_malformed", &context, ec.message());
            }
            co_return;
        }
        conn.phase = Phase::Busy;
        if (!busy) {
            busy.emplace(runtime_);
        }
        const auto started = std::chrono::steady_clock::now();
        HttpRequest request = parser.release();
        const bool keep_alive = request.keep_alive();
        const bool head = request.method() == http::verb::head;
        HttpResponse response = co_await api_.handle(std::move(request), context);
        response.keep_alive(keep_alive && !runtime_.stopping());
        response.prepare_payload();
        if (head) {
            response.body().clear();  // Content-Length stays that of the GET
        }
        metrics_.request(
            "controller_api", std::to_string(response.result_int()),
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
        beast::get_lowest_layer(stream).expires_after(settings_.idle_timeout);
        co_await http::async_write(stream, response, asio::redirect_error(asio::use_awaitable, ec));
        if (ec || !response.keep_alive()) {
            co_return;
        }
        busy.reset();
    }
}

}  // namespace cyphonic::as
