#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cyphonic/core/address.hpp"
#include "cyphonic/core/expected.hpp"
#include "cyphonic/core/ids.hpp"
#include "cyphonic/net/asio.hpp"
#include "cyphonic/wire/messages.hpp"

// The client side of the Authentication Service (PROTOCOL.md §7.1, §7.9, §7.10 step 1): Login
// Requests over TLS 1.3 (ALPN "cyphonic/1"), and the controller API (HTTPS, ALPN "http/1.1")
// from which an adapter fetches its general nodes. Used by the node and adapter daemons, the
// load generator and the tests.
namespace cyphonic::net {

struct AsClientOptions {
    std::string host = "localhost";  // name or address of the AS
    std::uint16_t port = 8443;
    // Name the AS certificate must carry (a DNS name or an IP address in its SAN); empty: host.
    std::string server_name;
    std::filesystem::path ca_file;  // root CA the AS certificate must chain to (required)
    // Client certificate chain and key (PEM), presented when set: certificate login (Auth
    // Type 2) and the controller API without a password.
    std::filesystem::path client_cert;
    std::filesystem::path client_key;
    // Limit for connect + handshake, and for each request with its answer.
    std::chrono::milliseconds timeout{10000};
};

// A successful login: the NodeID from the Login Response header (§6.3) and its body.
struct LoginResult {
    NodeId node_id;
    wire::LoginResponse response;
};

struct LoginFailure {
    enum class Kind : std::uint8_t {
        Rejected,   // the AS answered with an Error: see `code` and `reason`
        Transport,  // no answer: connect, TLS, timeout or a malformed answer (see `reason`)
    };
    Kind kind = Kind::Transport;
    wire::ErrorCode code = wire::ErrorCode::Internal;
    std::string reason;
    [[nodiscard]] std::string describe() const;
};

// One entry of GET /v1/adapters/{device_id}/general-nodes.
struct GeneralNodeEntry {
    std::string device_id;
    std::string mac;
    std::string fqdn;
    std::optional<Ipv4Address> virtual_ipv4;
    std::optional<Ipv6Address> virtual_ipv6;
    std::string auth_type;  // "basic", "certificate" or "mac"
    friend bool operator==(const GeneralNodeEntry&, const GeneralNodeEntry&) = default;
};

// The controller API's JSON array of general nodes (also the adapter's cache file format).
[[nodiscard]] Expected<std::vector<GeneralNodeEntry>, std::string> parse_general_nodes(
    std::string_view body);
[[nodiscard]] std::string general_nodes_json(const std::vector<GeneralNodeEntry>& entries);

struct ApiFailure {
    unsigned status = 0;  // HTTP status; 0 when there was no HTTP answer
    std::string error;    // the API's {"error": ...} text, or what went wrong
    [[nodiscard]] std::string describe() const;
};

// One login connection to the AS, kept open across logins so an adapter can log in its general
// nodes after itself (MAC and Exec Mode 3 logins need that). login() connects when needed; a
// transport failure closes the connection and the next call opens a new one (which is then not
// logged in as an adapter any more). Not thread-safe: use from one executor.
class AsClient {
public:
    // Throws std::runtime_error when the CA file or the client certificate cannot be loaded.
    AsClient(asio::any_io_executor executor, AsClientOptions options);
    ~AsClient();
    AsClient(const AsClient&) = delete;
    AsClient& operator=(const AsClient&) = delete;

    // Opens the login connection (TCP, TLS 1.3 handshake, certificate and name checks).
    [[nodiscard]] asio::awaitable<Expected<void, LoginFailure>> connect();
    // Sends one Login Request with a random Transaction ID and reads its answer.
    [[nodiscard]] asio::awaitable<Expected<LoginResult, LoginFailure>> login(
        wire::LoginRequest request);
    // Fetches the adapter's general nodes on a separate HTTPS connection, authenticated with
    // HTTP Basic when `password` is given, else with the client certificate.
    [[nodiscard]] asio::awaitable<Expected<std::vector<GeneralNodeEntry>, ApiFailure>>
    fetch_general_nodes(std::string adapter_device_id, std::optional<std::string> password);

    [[nodiscard]] bool is_connected() const noexcept;
    void close() noexcept;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// The same calls, blocking on an internal io_context (tools and tests). Not thread-safe.
class BlockingAsClient {
public:
    explicit BlockingAsClient(AsClientOptions options);
    ~BlockingAsClient();
    BlockingAsClient(const BlockingAsClient&) = delete;
    BlockingAsClient& operator=(const BlockingAsClient&) = delete;

    [[nodiscard]] Expected<void, LoginFailure> connect();
    [[nodiscard]] Expected<LoginResult, LoginFailure> login(const wire::LoginRequest& request);
    [[nodiscard]] Expected<std::vector<GeneralNodeEntry>, ApiFailure> fetch_general_nodes(
        const std::string& adapter_device_id, const std::optional<std::string>& password);
    [[nodiscard]] bool is_connected() const noexcept { return client_.is_connected(); }
    void close() noexcept { client_.close(); }

private:
    asio::io_context io_;
    AsClient client_;
};

}  // namespace cyphonic::net
