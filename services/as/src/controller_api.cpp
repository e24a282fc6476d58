#include "controller_api.hpp"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <spdlog/spdlog.h>

namespace cyphonic::as {

std::string json_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (u < 0x20 || u == 0x7F) {
                    out += fmt::format("\\u{:04x}", u);
                } else {
                    out += c;  // UTF-8 passes through unchanged
                }
        }
    }
    return out;
}

std::string_view general_node_auth_type(const DeviceRecord& node) {
    if (node.password_hash) {
        return "basic";
    }
    return node.cert_login ? "certificate" : "mac";
}

namespace {

std::string json_string_or_null(const std::optional<std::string>& s) {
    return s ? fmt::format("\"{}\"", json_escape(*s)) : std::string("null");
}

}  // namespace

std::string general_nodes_json(const std::vector<DeviceRecord>& nodes) {
    std::string out = "[";
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        const DeviceRecord& n = nodes[i];
        out += fmt::format(
            "{}{{\"device_id\":\"{}\",\"mac\":{},\"fqdn\":\"{}\",\"virtual_ipv4\":{},"
            "\"virtual_ipv6\":{},\"auth_type\":\"{}\"}}",
            i == 0 ? "" : ",", json_escape(n.device_id), json_string_or_null(n.mac),
            json_escape(n.fqdn),
            json_string_or_null(n.virtual_ipv4 ? std::optional(n.virtual_ipv4->to_string())
                                               : std::nullopt),
            json_string_or_null(n.virtual_ipv6 ? std::optional(n.virtual_ipv6->to_string())
                                               : std::nullopt),
            general_node_auth_type(n));
    }
    out += "]";
    return out;
}

namespace {

// Beast 1.74 has its own string_view type.
std::string_view view(boost::beast::string_view s) {
    return {s.data(), s.size()};
}

constexpr std::string_view kPrefix = "/v1/adapters/";
constexpr std::string_view kSuffix = "/general-nodes";

HttpResponse json_response(const HttpRequest& req, http::status status, std::string body) {
    HttpResponse res{status, req.version()};
    res.set(http::field::server, "cyphonic-as");
    res.set(http::field::content_type, "application/json");
    res.set(http::field::cache_control, "no-store");
    res.body() = std::move(body);
    return res;
}

HttpResponse error_response(const HttpRequest& req, http::status status, std::string_view message) {
    auto res = json_response(req, status, fmt::format(R"({{"error":"{}"}})", json_escape(message)));
    if (status == http::status::unauthorized) {
        res.set(http::field::www_authenticate, R"(Basic realm="cyphonic-as", charset="UTF-8")");
    }
    return res;
}

// "user:password" from "Basic <base64>", or nullopt when malformed.
std::optional<std::pair<std::string, std::string>> basic_credentials(std::string_view header) {
    constexpr std::string_view kScheme = "Basic ";
    if (header.size() <= kScheme.size() ||
        !std::equal(kScheme.begin(), kScheme.end(), header.begin(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) ==
                   std::tolower(static_cast<unsigned char>(b));
        })) {
        return std::nullopt;
    }
    std::string_view encoded = header.substr(kScheme.size());
    while (!encoded.empty() && encoded.back() == ' ') {
        encoded.remove_suffix(1);
    }
    constexpr std::size_t kMaxEncoded = 4096;
    if (encoded.empty() || encoded.size() % 4 != 0 || encoded.size() > kMaxEncoded) {
        return std::nullopt;
    }
    std::string decoded(encoded.size() / 4 * 3, '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(decoded.data()),
                                  reinterpret_cast<const unsigned char*>(encoded.data()),
                                  static_cast<int>(encoded.size()));
    if (n < 0) {
        return std::nullopt;
    }
    // EVP_DecodeBlock counts the bytes standing for '=' padding too.
    auto size = static_cast<std::size_t>(n);
    for (auto it = encoded.rbegin(); it != encoded.rend() && *it == '='; ++it) {
        --size;
    }
    decoded.resize(size);
    const auto colon = decoded.find(':');
    if (colon == std::string::npos) {
        OPENSSL_cleanse(decoded.data(), decoded.size());
        return std::nullopt;
    }
    std::pair<std::string, std::string> out{decoded.substr(0, colon), decoded.substr(colon + 1)};
    OPENSSL_cleanse(decoded.data(), decoded.size());
    return out;
}

http::status status_for(wire::ErrorCode code) {
    switch (code) {
        case wire::ErrorCode::RateLimited:
            return http::status::too_many_requests;
        case wire::ErrorCode::Internal:
            return http::status::internal_server_error;
        default:
            return http::status::unauthorized;
    }
}

}  // namespace

asio::awaitable<HttpResponse> ControllerApi::handle(HttpRequest request,
                                                    const ConnectionContext& conn) {
    try {
        co_return co_await answer(request, conn);
    } catch (const std::exception& e) {
        spdlog::error("controller api failed target={} reason={}",
                      printable(view(request.target())), e.what());
    }
    co_return error_response(request, http::status::internal_server_error,
                             "the AS cannot reach its database right now; retry in a few seconds");
}

asio::awaitable<HttpResponse> ControllerApi::answer(const HttpRequest& req,
                                                    const ConnectionContext& conn) {
    std::string_view target = view(req.target());
    if (const auto q = target.find('?'); q != std::string_view::npos) {
        target = target.substr(0, q);
    }
    if (!target.starts_with(kPrefix) || !target.ends_with(kSuffix) ||
        target.size() <= kPrefix.size() + kSuffix.size()) {
        co_return error_response(
            req, http::status::not_found,
            "no such resource: the API is GET /v1/adapters/<device-id>/general-nodes");
    }
    const std::string wanted(
        target.substr(kPrefix.size(), target.size() - kPrefix.size() - kSuffix.size()));
    if (wanted.find('/') != std::string::npos) {
        co_return error_response(
            req, http::status::not_found,
            "no such resource: the API is GET /v1/adapters/<device-id>/general-nodes");
    }
    if (req.method() != http::verb::get && req.method() != http::verb::head) {
        auto res = error_response(req, http::status::method_not_allowed, "only GET is allowed");
        res.set(http::field::allow, "GET, HEAD");
        co_return res;
    }

    std::optional<DeviceRecord> caller;
    const auto authorization = req.find(http::field::authorization);
    if (authorization != req.end()) {
        auto credentials = basic_credentials(view(authorization->value()));
        if (!credentials) {
            co_return error_response(req, http::status::unauthorized,
                                     "malformed Authorization header: use HTTP Basic with the "
                                     "adapter's DeviceID and password");
        }
        auto outcome = co_await auth_.check_password(
            std::move(credentials->first), std::move(credentials->second), conn.peer_address);
        if (!outcome.ok()) {
            co_return error_response(req, status_for(outcome.code), outcome.reason);
        }
        caller = std::move(outcome.device);
    } else if (conn.peer_certificate) {
        const std::string& cn = conn.peer_certificate->common_name;
        caller = co_await auth_.store().find_device(cn);
        if (!caller) {
            co_return error_response(
                req, http::status::unauthorized,
                fmt::format("client certificate CN '{}' is not an enrolled device", printable(cn)));
        }
        if (auto locked = auth_.lock_failure(*caller)) {
            co_return error_response(req, http::status::too_many_requests, locked->reason);
        }
        if (!caller->cert_login) {
            co_return error_response(
                req, http::status::unauthorized,
                fmt::format("device '{}' is not enrolled for certificate login", cn));
        }
    } else {
        co_return error_response(req, http::status::unauthorized,
                                 "authenticate as the adapter: HTTP Basic with its DeviceID and "
                                 "password, or its TLS client certificate");
    }

    if (caller->kind != DeviceKind::Adapter) {
        co_return error_response(req, http::status::forbidden,
                                 fmt::format("'{}' is a {}, not an adapter", caller->device_id,
                                             to_string(caller->kind)));
    }
    if (caller->device_id != wanted) {
        co_return error_response(
            req, http::status::forbidden,
            fmt::format("adapter '{}' may read only its own general nodes, not those of '{}'",
                        caller->device_id, printable(wanted)));
    }
    const auto nodes = co_await auth_.store().general_nodes_of(caller->device_id);
    spdlog::debug("general nodes listed adapter={} count={} peer={}", caller->device_id,
                  nodes.size(), conn.peer_address);
    co_return json_response(req, http::status::ok, general_nodes_json(nodes));
}

}  // namespace cyphonic::as
