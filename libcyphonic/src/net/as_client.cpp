#include "cyphonic/net/as_client.hpp"

#include <array>
#include <future>
#include <stdexcept>

#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "cyphonic/core/text.hpp"
#include "cyphonic/crypto/random.hpp"

namespace cyphonic::net {

namespace beast = boost::beast;
namespace http = beast::http;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

std::string LoginFailure::describe() const {
    if (kind == Kind::Rejected) {
        return fmt::format("rejected by the AS ({}): {}", wire::to_string(code), reason);
    }
    return fmt::format("no answer from the AS: {}", reason);
}

std::string ApiFailure::describe() const {
    if (status == 0) {
        return fmt::format("no answer from the controller API: {}", error);
    }
    return fmt::format("controller API answered {}: {}", status, error);
}

namespace {

// The longest answer the client reads on the login stream (a Login Response is ~100 bytes
// plus the FQDN; an Error carries a short reason).
constexpr std::size_t kMaxAnswer = std::size_t{16} * 1024;
constexpr std::string_view kAlpnStream = "cyphonic/1";
constexpr std::string_view kAlpnHttp = "http/1.1";

std::string openssl_error() {
    const unsigned long e = ERR_get_error();
    ERR_clear_error();
    if (e == 0) {
        return "unknown OpenSSL error";
    }
    std::array<char, 256> buf{};
    ERR_error_string_n(e, buf.data(), buf.size());
    return buf.data();
}

LoginFailure transport(std::string reason) {
    return LoginFailure{LoginFailure::Kind::Transport, wire::ErrorCode::Internal,
                        std::move(reason)};
}

std::string base64(std::string_view text) {
    std::string out(((text.size() + 2) / 3 * 4) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(text.data()),
                                  static_cast<int>(text.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

std::string percent_encode(std::string_view text) {
    std::string out;
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (std::isalnum(u) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
            out += c;
        } else {
            out += fmt::format("%{:02X}", u);
        }
    }
    return out;
}

// ---- a small JSON reader for the controller API's answers ------------------------------------

struct Json {
    enum class Kind : std::uint8_t { Null, Bool, Number, String, Array, Object };
    Kind kind = Kind::Null;
    std::string text;  // String: the decoded text; Number/Bool: the literal
    std::vector<Json> items;
    // Object members: names[i] names values[i] (a vector of pairs would need Json complete).
    std::vector<std::string> names;
    std::vector<Json> values;

    [[nodiscard]] const Json* member(std::string_view name) const {
        for (std::size_t i = 0; i < names.size(); ++i) {
            if (names[i] == name) {
                return &values[i];
            }
        }
        return nullptr;
    }
};

class JsonReader {
public:
    explicit JsonReader(std::string_view text) : s_(text) {}

    Expected<Json, std::string> document() {
        auto v = value(0);
        if (!v.has_value()) {
            return v;
        }
        space();
        if (i_ != s_.size()) {
            return fail(where("trailing characters"));
        }
        return v;
    }

private:
    static constexpr int kMaxDepth = 32;

    std::string where(std::string_view what) const {
        return fmt::format("invalid JSON at byte {}: {}", i_, what);
    }
    void space() {
        while (i_ < s_.size() &&
               (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t')) {
            ++i_;
        }
    }
    bool literal(std::string_view word) {
        if (s_.substr(i_, word.size()) == word) {
            i_ += word.size();
            return true;
        }
        return false;
    }

    Expected<Json, std::string> value(int depth) {
        if (depth > kMaxDepth) {
            return fail(where("nested too deeply"));
        }
        space();
        if (i_ >= s_.size()) {
            return fail(where("unexpected end"));
        }
        Json v;
        const char c = s_[i_];
        if (c == '{') {
            return object(depth);
        }
        if (c == '[') {
            return array(depth);
        }
        if (c == '"') {
            auto text = string();
            if (!text.has_value()) {
                return fail(text.error());
            }
            v.kind = Json::Kind::String;
            v.text = std::move(*text);
            return v;
        }
        if (literal("null")) {
            return v;
        }
        if (literal("true") || literal("false")) {
            v.kind = Json::Kind::Bool;
            v.text = s_[i_ - 2] == 'u' ? "true" : "false";  // "tr[u]e" vs "fal[s]e"
            return v;
        }
        const std::size_t start = i_;
        while (i_ < s_.size() &&
               (std::isdigit(static_cast<unsigned char>(s_[i_])) != 0 || s_[i_] == '-' ||
                s_[i_] == '+' || s_[i_] == '.' || s_[i_] == 'e' || s_[i_] == 'E')) {
            ++i_;
        }
        if (i_ == start) {
            return fail(where("unexpected character"));
        }
        v.kind = Json::Kind::Number;
        v.text = std::string(s_.substr(start, i_ - start));
        return v;
    }

    Expected<Json, std::string> array(int depth) {
        Json v;
        v.kind = Json::Kind::Array;
        ++i_;  // '['
        space();
        if (i_ < s_.size() && s_[i_] == ']') {
            ++i_;
            return v;
        }
        for (;;) {
            auto item = value(depth + 1);
            if (!item.has_value()) {
                return item;
            }
            v.items.push_back(std::move(*item));
            space();
            if (i_ < s_.size() && s_[i_] == ',') {
                ++i_;
                continue;
            }
            if (i_ < s_.size() && s_[i_] == ']') {
                ++i_;
                return v;
            }
            return fail(where("expected ',' or ']'"));
        }
    }

    Expected<Json, std::string> object(int depth) {
        Json v;
        v.kind = Json::Kind::Object;
        ++i_;  // '{'
        space();
        if (i_ < s_.size() && s_[i_] == '}') {
            ++i_;
            return v;
        }
        for (;;) {
            space();
            if (i_ >= s_.size() || s_[i_] != '"') {
                return fail(where("expected a member name"));
            }
            auto key = string();
            if (!key.has_value()) {
                return fail(key.error());
            }
            space();
            if (i_ >= s_.size() || s_[i_] != ':') {
                return fail(where("expected ':'"));
            }
            ++i_;
            auto member = value(depth + 1);
            if (!member.has_value()) {
                return member;
            }
            v.names.push_back(std::move(*key));
            v.values.push_back(std::move(*member));
            space();
            if (i_ < s_.size() && s_[i_] == ',') {
                ++i_;
                continue;
            }
            if (i_ < s_.size() && s_[i_] == '}') {
                ++i_;
                return v;
            }
            return fail(where("expected ',' or '}'"));
        }
    }

    static void utf8(std::string& out, std::uint32_t cp) {
        if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xC0U | (cp >> 6U));
            out += static_cast<char>(0x80U | (cp & 0x3FU));
        } else if (cp < 0x10000) {
            out += static_cast<char>(0xE0U | (cp >> 12U));
            out += static_cast<char>(0x80U | ((cp >> 6U) & 0x3FU));
            out += static_cast<char>(0x80U | (cp & 0x3FU));
        } else {
            out += static_cast<char>(0xF0U | (cp >> 18U));
            out += static_cast<char>(0x80U | ((cp >> 12U) & 0x3FU));
            out += static_cast<char>(0x80U | ((cp >> 6U) & 0x3FU));
            out += static_cast<char>(0x80U | (cp & 0x3FU));
        }
    }

    std::optional<std::uint32_t> hex4() {
        if (i_ + 4 > s_.size()) {
            return std::nullopt;
        }
        std::uint32_t v = 0;
        for (int k = 0; k < 4; ++k) {
            const char c = s_[i_++];
            v <<= 4U;
            if (c >= '0' && c <= '9') {
                v |= static_cast<std::uint32_t>(c - '0');
            } else if (c >= 'a' && c <= 'f') {
                v |= static_cast<std::uint32_t>(c - 'a' + 10);
            } else if (c >= 'A' && c <= 'F') {
                v |= static_cast<std::uint32_t>(c - 'A' + 10);
            } else {
                return std::nullopt;
            }
        }
        return v;
    }

    Expected<std::string, std::string> string() {
        ++i_;  // '"'
        std::string out;
        while (i_ < s_.size()) {
            const char c = s_[i_++];
            if (c == '"') {
                return out;
            }
            if (static_cast<unsigned char>(c) < 0x20) {
                return fail(where("control character in a string"));
            }
            if (c != '\\') {
                out += c;
                continue;
            }
            if (i_ >= s_.size()) {
                break;
            }
            const char e = s_[i_++];
            switch (e) {
                case '"':
                case '\\':
                case '/':
                    out += e;
                    break;
                case 'b':
                    out += '\b';
                    break;
                case 'f':
                    out += '\f';
                    break;
                case 'n':
                    out += '\n';
                    break;
                case 'r':
                    out += '\r';
                    break;
                case 't':
                    out += '\t';
                    break;
                case 'u': {
                    auto cp = hex4();
                    if (!cp) {
                        return fail(where("bad \\u escape"));
                    }
                    if (*cp >= 0xD800 && *cp < 0xDC00 && s_.substr(i_, 2) == "\\u") {
                        i_ += 2;
                        const auto low = hex4();
                        if (!low || *low < 0xDC00 || *low >= 0xE000) {
                            return fail(where("bad surrogate pair"));
                        }
                        cp = 0x10000 + ((*cp - 0xD800) << 10U) + (*low - 0xDC00);
                    }
                    utf8(out, *cp);
                    break;
                }
                default:
                    return fail(where("bad escape"));
            }
        }
        return fail(where("unterminated string"));
    }

    std::string_view s_;
    std::size_t i_ = 0;
};

std::string text_member(const Json& object, std::string_view name) {
    const Json* m = object.member(name);
    return m != nullptr && m->kind == Json::Kind::String ? m->text : std::string();
}

Expected<std::vector<GeneralNodeEntry>, std::string> parse_entries(std::string_view body) {
    auto doc = JsonReader(body).document();
    if (!doc.has_value()) {
        return fail(doc.error());
    }
    if (doc->kind != Json::Kind::Array) {
        return fail(std::string("expected a JSON array"));
    }
    std::vector<GeneralNodeEntry> out;
    for (const Json& item : doc->items) {
        if (item.kind != Json::Kind::Object) {
            return fail(std::string("expected an array of objects"));
        }
        GeneralNodeEntry e;
        e.device_id = text_member(item, "device_id");
        e.mac = text_member(item, "mac");
        e.fqdn = text_member(item, "fqdn");
        e.auth_type = text_member(item, "auth_type");
        e.virtual_ipv4 = Ipv4Address::parse(text_member(item, "virtual_ipv4"));
        e.virtual_ipv6 = Ipv6Address::parse(text_member(item, "virtual_ipv6"));
        if (e.device_id.empty()) {
            return fail(std::string("an entry has no device_id"));
        }
        out.push_back(std::move(e));
    }
    return out;
}

std::string api_error_text(std::string_view body) {
    auto doc = JsonReader(body).document();
    if (doc.has_value() && doc->kind == Json::Kind::Object) {
        if (auto text = text_member(*doc, "error"); !text.empty()) {
            return text;
        }
    }
    constexpr std::size_t kMax = 200;
    return std::string(body.substr(0, kMax));
}

}  // namespace

Expected<std::vector<GeneralNodeEntry>, std::string> parse_general_nodes(std::string_view body) {
    return parse_entries(body);
}

std::string general_nodes_json(const std::vector<GeneralNodeEntry>& entries) {
    const auto quote = [](std::string_view text) { return json_string(text); };
    std::string out = "[";
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const auto& e = entries[i];
        out += fmt::format(
            "{}\n  {{\"device_id\":{},\"mac\":{},\"fqdn\":{},\"virtual_ipv4\":{},"
            "\"virtual_ipv6\":{},\"auth_type\":{}}}",
            i == 0 ? "" : ",", quote(e.device_id), quote(e.mac), quote(e.fqdn),
            e.virtual_ipv4 ? quote(e.virtual_ipv4->to_string()) : "null",
            e.virtual_ipv6 ? quote(e.virtual_ipv6->to_string()) : "null", quote(e.auth_type));
    }
    return out + "\n]\n";
}

// ---- AsClient ------------------------------------------------------------------------------

struct AsClient::Impl {
    Impl(asio::any_io_executor ex, AsClientOptions opts)
        : executor(std::move(ex)), options(std::move(opts)) {
        if (options.server_name.empty()) {
            options.server_name = options.host;
        }
        SSL_CTX* native = tls.native_handle();
        SSL_CTX_set_min_proto_version(native, TLS1_3_VERSION);
        SSL_CTX_set_max_proto_version(native, TLS1_3_VERSION);
        if (SSL_CTX_load_verify_locations(native, options.ca_file.c_str(), nullptr) != 1) {
            throw std::runtime_error(fmt::format("cannot load the AS CA file '{}': {}",
                                                 options.ca_file.string(), openssl_error()));
        }
        SSL_CTX_set_verify(native, SSL_VERIFY_PEER, nullptr);
        if (!options.client_cert.empty()) {
            if (SSL_CTX_use_certificate_chain_file(native, options.client_cert.c_str()) != 1 ||
                SSL_CTX_use_PrivateKey_file(native, options.client_key.c_str(), SSL_FILETYPE_PEM) !=
                    1 ||
                SSL_CTX_check_private_key(native) != 1) {
                throw std::runtime_error(fmt::format(
                    "cannot load the client certificate '{}' with key '{}': {}",
                    options.client_cert.string(), options.client_key.string(), openssl_error()));
            }
        }
    }

    // TCP + TLS with the given ALPN protocol.
    asio::awaitable<Expected<std::unique_ptr<TlsStream>, std::string>> open(std::string_view alpn) {
        boost::system::error_code ec;
        asio::ip::tcp::resolver resolver(executor);
        const auto endpoints =
            co_await resolver.async_resolve(options.host, std::to_string(options.port),
                                            asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            co_return fail(fmt::format("cannot resolve {}: {}", options.host, ec.message()));
        }
        auto opened = std::make_unique<TlsStream>(executor, tls);
        auto& tcp = beast::get_lowest_layer(*opened);
        tcp.expires_after(options.timeout);
        co_await tcp.async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            co_return fail(fmt::format("cannot connect to {}:{}: {}", options.host, options.port,
                                       ec.message()));
        }
        SSL* ssl = opened->native_handle();
        std::string protos;
        protos += static_cast<char>(alpn.size());
        protos += alpn;
        SSL_set_alpn_protos(ssl, reinterpret_cast<const unsigned char*>(protos.data()),
                            static_cast<unsigned>(protos.size()));
        X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
        if (IpAddress::parse(options.server_name)) {
            X509_VERIFY_PARAM_set1_ip_asc(param, options.server_name.c_str());
        } else {
            SSL_set_tlsext_host_name(ssl, options.server_name.c_str());
            X509_VERIFY_PARAM_set1_host(param, options.server_name.c_str(), 0);
        }
        co_await opened->async_handshake(asio::ssl::stream_base::client,
                                         asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            co_return fail(fmt::format("TLS handshake with {}:{} failed: {}", options.host,
                                       options.port, ec.message()));
        }
        co_return std::move(opened);
    }

    asio::any_io_executor executor;
    AsClientOptions options;
    asio::ssl::context tls{asio::ssl::context::tls_client};
    std::unique_ptr<TlsStream> stream;
    std::uint32_t next_sequence = 1;
};

AsClient::AsClient(asio::any_io_executor executor, AsClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(executor), std::move(options))) {}

AsClient::~AsClient() = default;

bool AsClient::is_connected() const noexcept {
    return impl_->stream != nullptr;
}

void AsClient::close() noexcept {
    if (impl_->stream) {
        boost::system::error_code ignored;
        beast::get_lowest_layer(*impl_->stream).socket().close(ignored);
        impl_->stream.reset();
    }
}

asio::awaitable<Expected<void, LoginFailure>> AsClient::connect() {
    close();
    auto stream = co_await impl_->open(kAlpnStream);
    if (!stream.has_value()) {
        co_return fail(transport(stream.error()));
    }
    impl_->stream = std::move(*stream);
    impl_->next_sequence = 1;
    co_return Expected<void, LoginFailure>{};
}

asio::awaitable<Expected<LoginResult, LoginFailure>> AsClient::login(wire::LoginRequest request) {
    if (!impl_->stream) {
        auto connected = co_await connect();
        if (!connected.has_value()) {
            co_return fail(connected.error());
        }
    }
    TlsStream& stream = *impl_->stream;
    wire::BaseHeader header;
    header.transaction_id = crypto::random_u32();
    header.type = wire::MessageType::LoginRequest;
    header.sequence = impl_->next_sequence++;
    Bytes bytes = wire::encode_stream_message(header, request);
    OPENSSL_cleanse(request.password.data(), request.password.size());
    if (bytes.empty()) {
        co_return fail(transport("the Login Request is too large to encode"));
    }
    boost::system::error_code ec;
    auto& tcp = beast::get_lowest_layer(stream);
    tcp.expires_after(impl_->options.timeout);
    co_await asio::async_write(stream, asio::buffer(bytes),
                               asio::redirect_error(asio::use_awaitable, ec));
    OPENSSL_cleanse(bytes.data(), bytes.size());
    if (ec) {
        close();
        co_return fail(
            transport(fmt::format("sending the Login Request failed: {}", ec.message())));
    }

    std::array<std::byte, wire::kBaseHeaderSize> head{};
    co_await asio::async_read(stream, asio::buffer(head),
                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
        close();
        co_return fail(transport(fmt::format("reading the answer failed: {}", ec.message())));
    }
    const auto decoded_header = wire::decode_stream_header(head);
    if (!decoded_header.has_value() || decoded_header->message_length > kMaxAnswer) {
        close();
        co_return fail(transport(fmt::format(
            "malformed answer header ({})",
            decoded_header.has_value() ? "too long" : wire::to_string(decoded_header.error()))));
    }
    Bytes message(decoded_header->message_length);
    std::copy(head.begin(), head.end(), message.begin());
    co_await asio::async_read(stream,
                              asio::buffer(message.data() + wire::kBaseHeaderSize,
                                           message.size() - wire::kBaseHeaderSize),
                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
        close();
        co_return fail(transport(fmt::format("reading the answer failed: {}", ec.message())));
    }
    auto decoded = wire::decode_stream_message(message);
    OPENSSL_cleanse(message.data(), message.size());
    if (!decoded.has_value()) {
        close();
        co_return fail(
            transport(fmt::format("malformed answer ({})", wire::to_string(decoded.error()))));
    }
    if (decoded->header.transaction_id != header.transaction_id) {
        close();
        co_return fail(transport("the answer carries another Transaction ID"));
    }
    if (auto* error = std::get_if<wire::Error>(&decoded->body)) {
        co_return fail(
            LoginFailure{LoginFailure::Kind::Rejected, error->error_code(), error->reason});
    }
    auto* response = std::get_if<wire::LoginResponse>(&decoded->body);
    if (response == nullptr || !decoded->header.has(wire::flag::kSuccess | wire::flag::kResponse)) {
        close();
        co_return fail(
            transport(fmt::format("unexpected answer: {}", wire::to_string(decoded->header.type))));
    }
    co_return LoginResult{decoded->header.node_id(), std::move(*response)};
}

asio::awaitable<Expected<std::vector<GeneralNodeEntry>, ApiFailure>> AsClient::fetch_general_nodes(
    std::string adapter_device_id, std::optional<std::string> password) {
    auto opened = co_await impl_->open(kAlpnHttp);
    if (!opened.has_value()) {
        co_return fail(ApiFailure{0, opened.error()});
    }
    TlsStream& stream = **opened;
    http::request<http::empty_body> req{
        http::verb::get,
        fmt::format("/v1/adapters/{}/general-nodes", percent_encode(adapter_device_id)), 11};
    req.set(http::field::host, impl_->options.server_name);
    req.set(http::field::accept, "application/json");
    req.set(http::field::user_agent, "cyphonic-as-client");
    req.keep_alive(false);
    if (password) {
        std::string credentials = adapter_device_id + ":" + *password;
        req.set(http::field::authorization, "Basic " + base64(credentials));
        OPENSSL_cleanse(credentials.data(), credentials.size());
        OPENSSL_cleanse(password->data(), password->size());
    }
    boost::system::error_code ec;
    beast::get_lowest_layer(stream).expires_after(impl_->options.timeout);
    co_await http::async_write(stream, req, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
        co_return fail(ApiFailure{0, fmt::format("sending the request failed: {}", ec.message())});
    }
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    constexpr std::uint64_t kMaxBody = 4U << 20U;
    parser.body_limit(kMaxBody);
    co_await http::async_read(stream, buffer, parser,
                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
        co_return fail(ApiFailure{0, fmt::format("reading the answer failed: {}", ec.message())});
    }
    const auto& res = parser.get();
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(1));
    co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
    if (res.result() != http::status::ok) {
        co_return fail(ApiFailure{res.result_int(), api_error_text(res.body())});
    }
    auto entries = parse_entries(res.body());
    if (!entries.has_value()) {
        co_return fail(ApiFailure{res.result_int(), entries.error()});
    }
    co_return std::move(*entries);
}

// ---- BlockingAsClient ----------------------------------------------------------------------

namespace {

template <class T>
T run_blocking(asio::io_context& io, asio::awaitable<T> task) {
    std::future<T> result = asio::co_spawn(io, std::move(task), asio::use_future);
    io.restart();
    io.run();
    return result.get();
}

}  // namespace

BlockingAsClient::BlockingAsClient(AsClientOptions options)
    : client_(io_.get_executor(), std::move(options)) {}

BlockingAsClient::~BlockingAsClient() {
    client_.close();
}

Expected<void, LoginFailure> BlockingAsClient::connect() {
    return run_blocking(io_, client_.connect());
}

Expected<LoginResult, LoginFailure> BlockingAsClient::login(const wire::LoginRequest& request) {
    return run_blocking(io_, client_.login(request));
}

Expected<std::vector<GeneralNodeEntry>, ApiFailure> BlockingAsClient::fetch_general_nodes(
    const std::string& adapter_device_id, const std::optional<std::string>& password) {
    return run_blocking(io_, client_.fetch_general_nodes(adapter_device_id, password));
}

}  // namespace cyphonic::net
