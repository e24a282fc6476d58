#include "raw_tls.hpp"

#include <array>

#include <boost/asio/ssl.hpp>
#include <openssl/evp.h>

#include "cyphonic/net/asio.hpp"

namespace cyphonic::as::testing {

struct RawTls::Impl {
    explicit Impl(Options o) : options(std::move(o)) {
        SSL_CTX* native = ctx.native_handle();
        SSL_CTX_set_min_proto_version(native, options.min_version);
        SSL_CTX_set_max_proto_version(native, options.max_version);
        ctx.load_verify_file(options.ca_file.string());
        ctx.set_verify_mode(asio::ssl::verify_peer);
        if (!options.client_cert.empty()) {
            ctx.use_certificate_chain_file(options.client_cert.string());
            ctx.use_private_key_file(options.client_key.string(), asio::ssl::context::pem);
        }
        // SSL_new copies the context's settings: create the stream only now.
        stream.emplace(io, ctx);
    }

    // Runs the io_context until `done` or the timeout; false on timeout (the socket is then
    // closed so the pending operation ends).
    bool run_until(const bool& done, std::chrono::milliseconds timeout) {
        io.restart();
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!done && std::chrono::steady_clock::now() < deadline) {
            io.run_one_for(deadline - std::chrono::steady_clock::now());
        }
        if (!done) {
            boost::system::error_code ignored;
            stream->lowest_layer().close(ignored);
            io.restart();
            io.run_for(std::chrono::milliseconds(100));
        }
        return done;
    }

    Options options;
    asio::io_context io;
    asio::ssl::context ctx{asio::ssl::context::tls_client};
    std::optional<asio::ssl::stream<asio::ip::tcp::socket>> stream;
};

RawTls::RawTls(Options options) : impl_(std::make_unique<Impl>(std::move(options))) {}
RawTls::~RawTls() = default;
RawTls::RawTls(RawTls&&) noexcept = default;
RawTls& RawTls::operator=(RawTls&&) noexcept = default;

std::optional<std::string> RawTls::connect() {
    auto& s = *impl_->stream;
    const auto& server = impl_->options.server;
    boost::system::error_code ec;
    s.lowest_layer().connect({asio::ip::make_address(server.address.to_string()), server.port}, ec);
    if (ec) {
        return "connect: " + ec.message();
    }
    const auto& alpn = impl_->options.alpn;
    if (!alpn.empty()) {
        std::string protos(1, static_cast<char>(alpn.size()));
        protos += alpn;
        SSL_set_alpn_protos(s.native_handle(),
                            reinterpret_cast<const unsigned char*>(protos.data()),
                            static_cast<unsigned>(protos.size()));
    }
    SSL_set1_host(s.native_handle(), server.address.to_string().c_str());
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s.native_handle()),
                                  server.address.to_string().c_str());
    bool done = false;
    s.async_handshake(asio::ssl::stream_base::client, [&](const boost::system::error_code& e) {
        ec = e;
        done = true;
    });
    if (!impl_->run_until(done, std::chrono::seconds(5))) {
        return std::string("handshake timed out");
    }
    if (ec) {
        return "handshake: " + ec.message();
    }
    return std::nullopt;
}

bool RawTls::write(ByteView bytes) {
    bool done = false;
    boost::system::error_code ec;
    asio::async_write(*impl_->stream, asio::buffer(bytes.data(), bytes.size()),
                      [&](const boost::system::error_code& e, std::size_t) {
                          ec = e;
                          done = true;
                      });
    return impl_->run_until(done, std::chrono::seconds(5)) && !ec;
}

std::optional<wire::StreamMessage> RawTls::read_message(std::chrono::milliseconds timeout) {
    std::array<std::byte, wire::kBaseHeaderSize> head{};
    bool done = false;
    boost::system::error_code ec;
    asio::async_read(*impl_->stream, asio::buffer(head),
                     [&](const boost::system::error_code& e, std::size_t) {
                         ec = e;
                         done = true;
                     });
    if (!impl_->run_until(done, timeout) || ec) {
        return std::nullopt;
    }
    const auto header = wire::decode_stream_header(head);
    if (!header.has_value()) {
        return std::nullopt;
    }
    Bytes message(header->message_length);
    std::copy(head.begin(), head.end(), message.begin());
    done = false;
    asio::async_read(*impl_->stream,
                     asio::buffer(message.data() + head.size(), message.size() - head.size()),
                     [&](const boost::system::error_code& e, std::size_t) {
                         ec = e;
                         done = true;
                     });
    if (!impl_->run_until(done, timeout) || ec) {
        return std::nullopt;
    }
    auto decoded = wire::decode_stream_message(message);
    if (!decoded.has_value()) {
        return std::nullopt;
    }
    return std::move(*decoded);
}

bool RawTls::closed_by_peer(std::chrono::milliseconds timeout) {
    std::array<char, 256> chunk{};
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        bool done = false;
        boost::system::error_code ec;
        impl_->stream->async_read_some(asio::buffer(chunk),
                                       [&](const boost::system::error_code& e, std::size_t) {
                                           ec = e;
                                           done = true;
                                       });
        if (!impl_->run_until(done, std::chrono::duration_cast<std::chrono::milliseconds>(
                                        deadline - std::chrono::steady_clock::now()))) {
            return false;
        }
        if (ec) {
            return true;  // eof, stream truncated, reset: closed
        }
    }
    return false;
}

std::string RawTls::read_all(std::chrono::milliseconds timeout) {
    std::string out;
    std::array<char, 4096> chunk{};
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        bool done = false;
        boost::system::error_code ec;
        std::size_t n = 0;
        impl_->stream->async_read_some(asio::buffer(chunk),
                                       [&](const boost::system::error_code& e, std::size_t got) {
                                           ec = e;
                                           n = got;
                                           done = true;
                                       });
        if (!impl_->run_until(done, std::chrono::duration_cast<std::chrono::milliseconds>(
                                        deadline - std::chrono::steady_clock::now()))) {
            break;
        }
        out.append(chunk.data(), n);
        if (ec) {
            break;
        }
    }
    return out;
}

void RawTls::abort() {
    boost::system::error_code ignored;
    impl_->stream->lowest_layer().close(ignored);
}

RawTls::Options raw_options(const Endpoint& server, const std::filesystem::path& ca_file) {
    RawTls::Options o;
    o.server = server;
    o.ca_file = ca_file;
    return o;
}

HttpsResult https_get(const Endpoint& server, const std::filesystem::path& ca_file,
                      const std::string& target, const std::optional<std::string>& authorization,
                      const std::filesystem::path& client_cert,
                      const std::filesystem::path& client_key) {
    RawTls::Options o = raw_options(server, ca_file);
    o.alpn = "http/1.1";
    o.client_cert = client_cert;
    o.client_key = client_key;
    RawTls tls(o);
    if (tls.connect()) {
        return {};
    }
    std::string request = "GET " + target + " HTTP/1.1\r\nHost: as.test\r\nConnection: close\r\n";
    if (authorization) {
        request += "Authorization: " + *authorization + "\r\n";
    }
    request += "\r\n";
    if (!tls.write(as_bytes(request))) {
        return {};
    }
    const std::string response = tls.read_all();
    HttpsResult r;
    if (response.starts_with("HTTP/1.1 ") && response.size() >= 12) {
        r.status = std::stoi(response.substr(9, 3));
    }
    if (const auto body = response.find("\r\n\r\n"); body != std::string::npos) {
        r.body = response.substr(body + 4);
    }
    return r;
}

std::string basic_authorization(const std::string& user, const std::string& password) {
    const std::string plain = user + ":" + password;
    std::string out(((plain.size() + 2) / 3 * 4) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(plain.data()),
                                  static_cast<int>(plain.size()));
    out.resize(static_cast<std::size_t>(n));
    return "Basic " + out;
}

Bytes stream_bytes(const wire::LoginRequest& request, std::uint32_t transaction_id,
                   std::uint32_t sequence) {
    wire::BaseHeader h;
    h.transaction_id = transaction_id;
    h.type = wire::MessageType::LoginRequest;
    h.sequence = sequence;
    return wire::encode_stream_message(h, request);
}

}  // namespace cyphonic::as::testing
