#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/http.hpp>

#include "handlers.hpp"
#include "store.hpp"

#include "cyphonic/net/asio.hpp"

// The controller API for adapters (PROTOCOL.md §7.9 step 3, C13), served on the AS port to
// clients that negotiate ALPN "http/1.1":
//   GET /v1/adapters/{device_id}/general-nodes
//     → 200 [{"device_id", "mac", "fqdn", "virtual_ipv4", "virtual_ipv6", "auth_type"}, ...]
// The caller authenticates as that adapter with HTTP Basic (DeviceID:password) or with its
// TLS client certificate (CN = DeviceID). Errors are {"error": "..."} with 401 (no or bad
// credentials), 403 (not this adapter), 404 (no such resource), 405, 429 (locked) or 500.
namespace cyphonic::as {

namespace http = boost::beast::http;
using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

class ControllerApi {
public:
    explicit ControllerApi(Authenticator& auth) : auth_(auth) {}

    // Answers one request; never throws (database failures become 500). I/O thread.
    asio::awaitable<HttpResponse> handle(HttpRequest request, const ConnectionContext& conn);

private:
    asio::awaitable<HttpResponse> answer(const HttpRequest& request, const ConnectionContext& conn);

    Authenticator& auth_;
};

// JSON string contents with every character JSON requires escaped (no surrounding quotes).
[[nodiscard]] std::string json_escape(std::string_view text);
// The 200 body: one object per general node.
[[nodiscard]] std::string general_nodes_json(const std::vector<DeviceRecord>& nodes);
// What an adapter should use to log this general node in: "basic" (it has a password),
// "certificate" (certificate login only), else "mac".
[[nodiscard]] std::string_view general_node_auth_type(const DeviceRecord& node);

}  // namespace cyphonic::as
