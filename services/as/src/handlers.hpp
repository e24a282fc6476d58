#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "metrics.hpp"
#include "store.hpp"

#include "cyphonic/core/address.hpp"
#include "cyphonic/core/bytes.hpp"
#include "cyphonic/core/expected.hpp"
#include "cyphonic/net/asio.hpp"
#include "cyphonic/wire/messages.hpp"

// Login logic of the AS (PROTOCOL.md §6.2, §6.3, §7.1, §7.9, §7.10 step 1, C14): a Login
// Request in, the bytes of a Login Response or an Error out. No sockets: the server feeds it
// decoded requests and writes what it returns. All methods run on the I/O thread and suspend
// for the database and the password KDF (which runs on its own thread pool).
namespace cyphonic::as {

// A client certificate the TLS handshake verified against tls.client_ca.
struct PeerCertificate {
    std::string common_name;  // subject CN
    Bytes der;
};

// What one TLS connection knows about its client. Owned by the connection.
struct ConnectionContext {
    IpAddress peer_address;
    std::optional<PeerCertificate> peer_certificate;
    // Set by a successful adapter login on this connection; MAC logins and general-node
    // logins (Exec Mode 3) are accepted only then (§7.10 step 1).
    std::optional<std::string> adapter_id;
    // Sequence Number of the next message the AS sends on this stream (from 1, §5.4).
    std::uint32_t next_sequence = 1;
};

struct LoginSettings {
    wire::CipherSuiteId cipher = wire::CipherSuiteId::Aes256Gcm;
    std::uint32_t key_lifetime_days = 7;
    Ipv4Address nms_ipv4;
    Ipv6Address nms_ipv6;
    bool client_ca_configured = false;
};

// Verifies a DER certificate carried in a Login Request (a general node's, Q2) against the
// client CA; returns its subject CN or why it is not acceptable.
using CertificateVerifier = std::function<Expected<std::string, std::string>(ByteView der)>;
using WallClock = std::function<SystemTime()>;

// Per source address allowance for failed logins of unknown DeviceIDs (a token bucket), so
// scanning for DeviceIDs is slowed (docs/DECISIONS.md AS-3). Memory is bounded. I/O thread only.
class SourceLimiter {
public:
    SourceLimiter(double burst, double per_s, std::size_t max_sources = 10000)
        : burst_(burst), per_s_(per_s), max_sources_(max_sources) {}
    // Seconds until `source` may fail again; 0 when it may now.
    [[nodiscard]] double wait_s(const IpAddress& source, std::chrono::steady_clock::time_point now);
    void consume(const IpAddress& source, std::chrono::steady_clock::time_point now);

private:
    struct Bucket {
        double tokens = 0;
        std::chrono::steady_clock::time_point updated;
    };
    Bucket& refill(const IpAddress& source, std::chrono::steady_clock::time_point now);

    double burst_;
    double per_s_;
    std::size_t max_sources_;
    std::map<IpAddress, Bucket> buckets_;
};

// The result of checking one set of credentials.
struct AuthOutcome {
    std::optional<DeviceRecord> device;  // set when the credentials are good
    wire::ErrorCode code = wire::ErrorCode::AuthFailed;
    std::string reason;      // for the client: a person can act on it (C14)
    std::string log_reason;  // for the log: may say more than the client should learn

    [[nodiscard]] bool ok() const noexcept { return device.has_value(); }
};

// Password checks and lock-out shared by the login stream and the controller API.
class Authenticator {
public:
    Authenticator(Store& store, LockPolicy policy, SourceLimiter& limiter,
                  asio::any_io_executor kdf_executor, WallClock clock);

    // DeviceID + password: the device's lock, the per-source allowance for unknown DeviceIDs,
    // one KDF whether or not the device exists, and the failure counter.
    asio::awaitable<AuthOutcome> check_password(std::string device_id, std::string password,
                                                IpAddress source);
    // RATE_LIMITED when `device` is locked now.
    [[nodiscard]] std::optional<AuthOutcome> lock_failure(const DeviceRecord& device) const;
    [[nodiscard]] Store& store() noexcept { return store_; }

private:
    Store& store_;
    LockPolicy policy_;
    SourceLimiter& limiter_;
    asio::any_io_executor kdf_;
    WallClock clock_;
};

// One answer on the stream; `result` is the metric label (ok, auth_failed, rate_limited,
// internal, ...).
struct LoginReply {
    Bytes bytes;
    std::string result;
};

class LoginHandler {
public:
    LoginHandler(Authenticator& auth, LoginSettings settings, CertificateVerifier verifier,
                 WallClock clock);

    // Answers one Login Request of `conn`. Never throws: database failures become INTERNAL.
    asio::awaitable<LoginReply> handle(wire::BaseHeader header, wire::LoginRequest request,
                                       ConnectionContext& conn);

private:
    asio::awaitable<AuthOutcome> authenticate(const wire::LoginRequest& request,
                                              const ConnectionContext& conn);
    asio::awaitable<AuthOutcome> check_certificate(const wire::LoginRequest& request,
                                                   const ConnectionContext& conn);
    asio::awaitable<AuthOutcome> check_mac(const wire::LoginRequest& request,
                                           const ConnectionContext& conn);
    asio::awaitable<LoginReply> issue(const wire::BaseHeader& header,
                                      const wire::LoginRequest& request, const DeviceRecord& device,
                                      ConnectionContext& conn);

    Authenticator& auth_;
    LoginSettings settings_;
    CertificateVerifier verifier_;
    WallClock clock_;
    LogLimiter log_limit_{20, std::chrono::seconds(10)};
};

// An Error message on the AS stream (§6.11): RESPONSE set, SUCCESS clear, ID zero (D20).
[[nodiscard]] Bytes encode_stream_error(std::uint32_t transaction_id, std::uint32_t sequence,
                                        wire::ErrorCode code, std::string_view reason);

// The expiry date of a key issued at `now` that lives `days` days (D7, C4), and the matching
// timestamp "YYYY-MM-DD 23:59:59+00".
[[nodiscard]] wire::Date expiry_date(SystemTime now, std::uint32_t days);
[[nodiscard]] std::string expiry_timestamp(const wire::Date& date);
// "2026-11-23T12:00:00Z"
[[nodiscard]] std::string iso_time(SystemTime t);
// Text from a client made safe for a log line or a reason: printable ASCII, at most 64 chars.
[[nodiscard]] std::string printable(std::string_view text);

}  // namespace cyphonic::as
