#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include <openssl/ssl.h>

#include "cyphonic/core/address.hpp"
#include "cyphonic/core/bytes.hpp"
#include "cyphonic/wire/messages.hpp"

// A TLS client that sends whatever bytes a test wants (garbage, truncated or pipelined
// messages, an old protocol version) and reads what comes back, each step with a timeout.
namespace cyphonic::as::testing {

class RawTls {
public:
    struct Options {
        Endpoint server;
        std::filesystem::path ca_file;
        std::string alpn = "cyphonic/1";  // "" for none
        int min_version = TLS1_2_VERSION;
        int max_version = TLS1_3_VERSION;
        std::filesystem::path client_cert;
        std::filesystem::path client_key;
    };

    explicit RawTls(Options options);
    ~RawTls();
    RawTls(const RawTls&) = delete;
    RawTls& operator=(const RawTls&) = delete;
    RawTls(RawTls&&) noexcept;
    RawTls& operator=(RawTls&&) noexcept;

    // TCP connect and TLS handshake; nullopt on success, else what failed.
    [[nodiscard]] std::optional<std::string> connect();
    [[nodiscard]] bool write(ByteView bytes);
    // One AS stream message (header, then Message Length − 32 bytes); nullopt on close,
    // timeout or an undecodable message.
    [[nodiscard]] std::optional<wire::StreamMessage> read_message(
        std::chrono::milliseconds timeout = std::chrono::seconds(5));
    // Reads until the peer closes; true when it did within `timeout` (no more messages).
    [[nodiscard]] bool closed_by_peer(std::chrono::milliseconds timeout = std::chrono::seconds(5));
    // Everything until the peer closes (HTTP with Connection: close).
    [[nodiscard]] std::string read_all(std::chrono::milliseconds timeout = std::chrono::seconds(5));
    // Closes the TCP connection without a TLS close_notify.
    void abort();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Options for a connection to `server`, verifying it against `ca_file`, ALPN "cyphonic/1".
[[nodiscard]] RawTls::Options raw_options(const Endpoint& server,
                                          const std::filesystem::path& ca_file);

// One HTTPS request to the controller API on the AS port (ALPN http/1.1).
struct HttpsResult {
    int status = 0;  // 0: no HTTP answer
    std::string body;
};
[[nodiscard]] HttpsResult https_get(const Endpoint& server, const std::filesystem::path& ca_file,
                                    const std::string& target,
                                    const std::optional<std::string>& authorization,
                                    const std::filesystem::path& client_cert = {},
                                    const std::filesystem::path& client_key = {});
// "Basic base64(user:password)"
[[nodiscard]] std::string basic_authorization(const std::string& user, const std::string& password);

// Encodes one stream message (for building valid requests to mangle).
[[nodiscard]] Bytes stream_bytes(const wire::LoginRequest& request, std::uint32_t transaction_id,
                                 std::uint32_t sequence = 1);

}  // namespace cyphonic::as::testing
