#include "handlers.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <ctime>

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include "password.hpp"

#include "cyphonic/core/fqdn.hpp"
#include "cyphonic/crypto/random.hpp"

namespace cyphonic::as {

// ---- helpers -------------------------------------------------------------------------------

std::string printable(std::string_view text) {
    constexpr std::size_t kMax = 64;
    std::string out;
    for (const char c : text.substr(0, kMax)) {
        const auto u = static_cast<unsigned char>(c);
        out += (u >= 0x20 && u < 0x7F) ? c : '?';
    }
    if (text.size() > kMax) {
        out += "...";
    }
    return out;
}

std::string iso_time(SystemTime t) {
    const std::time_t seconds =
        std::chrono::system_clock::to_time_t(std::chrono::ceil<std::chrono::seconds>(t));
    std::tm tm{};
    ::gmtime_r(&seconds, &tm);
    std::array<char, 32> buf{};
    const std::size_t n = std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return {buf.data(), n};
}

wire::Date expiry_date(SystemTime now, std::uint32_t days) {
    const auto today = std::chrono::floor<std::chrono::days>(now);
    const std::chrono::year_month_day ymd(today + std::chrono::days(days));
    return wire::Date{static_cast<std::uint16_t>(static_cast<int>(ymd.year())),
                      static_cast<std::uint8_t>(static_cast<unsigned>(ymd.month())),
                      static_cast<std::uint8_t>(static_cast<unsigned>(ymd.day()))};
}

std::string expiry_timestamp(const wire::Date& d) {
    return fmt::format("{:04d}-{:02d}-{:02d} 23:59:59+00", d.year, d.month, d.day);
}

Bytes encode_stream_error(std::uint32_t transaction_id, std::uint32_t sequence,
                          wire::ErrorCode code, std::string_view reason) {
    wire::BaseHeader h;
    h.transaction_id = transaction_id;
    h.flags = wire::flag::kResponse;
    h.type = wire::MessageType::Error;
    h.sequence = sequence;
    wire::Error body;
    body.code = static_cast<std::uint16_t>(code);
    body.reason = std::string(reason.substr(0, 1024));
    return wire::encode_stream_message(h, body);
}

namespace {

AuthOutcome failure(wire::ErrorCode code, std::string reason, std::string log_reason = {}) {
    AuthOutcome o;
    o.code = code;
    o.log_reason = log_reason.empty() ? reason : std::move(log_reason);
    o.reason = std::move(reason);
    return o;
}

AuthOutcome success(DeviceRecord device) {
    AuthOutcome o;
    o.device = std::move(device);
    return o;
}

std::string_view auth_name(wire::AuthType t) {
    switch (t) {
        case wire::AuthType::Basic:
            return "basic";
        case wire::AuthType::Certificate:
            return "certificate";
        case wire::AuthType::MacAddress:
            return "mac";
    }
    return "unknown";
}

std::string_view article(DeviceKind k) {
    return k == DeviceKind::Adapter ? "an" : "a";
}

std::string wrong_password(std::string_view device_id) {
    return fmt::format("unknown device '{}' or wrong password", printable(device_id));
}

}  // namespace

// ---- SourceLimiter -------------------------------------------------------------------------

SourceLimiter::Bucket& SourceLimiter::refill(const IpAddress& source,
                                             std::chrono::steady_clock::time_point now) {
    auto it = buckets_.find(source);
    if (it == buckets_.end()) {
        if (buckets_.size() >= max_sources_) {
            // Forget sources whose allowance is full again; if that is not enough, all of them:
            // memory stays bounded, and a flood only costs its senders a fresh allowance.
            std::erase_if(buckets_, [&](const auto& entry) {
                const double elapsed =
                    std::chrono::duration<double>(now - entry.second.updated).count();
                return entry.second.tokens + (elapsed * per_s_) >= burst_;
            });
            if (buckets_.size() >= max_sources_) {
                buckets_.clear();
            }
        }
        it = buckets_.emplace(source, Bucket{burst_, now}).first;
    }
    Bucket& b = it->second;
    const double elapsed = std::chrono::duration<double>(now - b.updated).count();
    b.tokens = std::min(burst_, b.tokens + (elapsed * per_s_));
    b.updated = now;
    return b;
}

double SourceLimiter::wait_s(const IpAddress& source, std::chrono::steady_clock::time_point now) {
    const Bucket& b = refill(source, now);
    return b.tokens >= 1.0 ? 0.0 : (1.0 - b.tokens) / per_s_;
}

void SourceLimiter::consume(const IpAddress& source, std::chrono::steady_clock::time_point now) {
    Bucket& b = refill(source, now);
    b.tokens = std::max(0.0, b.tokens - 1.0);
}

// ---- Authenticator -------------------------------------------------------------------------

Authenticator::Authenticator(Store& store, LockPolicy policy, SourceLimiter& limiter,
                             asio::any_io_executor kdf_executor, WallClock clock)
    : store_(store),
      policy_(policy),
      limiter_(limiter),
      kdf_(std::move(kdf_executor)),
      clock_(std::move(clock)) {}

std::optional<AuthOutcome> Authenticator::lock_failure(const DeviceRecord& device) const {
    if (!device.locked || !device.locked_until) {
        return std::nullopt;
    }
    return failure(
        wire::ErrorCode::RateLimited,
        fmt::format("device '{}' is locked after {} failed logins; retry after {}",
                    device.device_id, device.failed_logins, iso_time(*device.locked_until)));
}

asio::awaitable<AuthOutcome> Authenticator::check_password(std::string device_id,
                                                           std::string password, IpAddress source) {
    const auto now = std::chrono::steady_clock::now();
    if (const double wait = limiter_.wait_s(source, now); wait > 0) {
        co_return failure(
            wire::ErrorCode::RateLimited,
            fmt::format("too many failed logins for unknown devices from {}; retry in {} s",
                        source.to_string(), static_cast<long>(std::ceil(wait))));
    }
    // A DeviceID that is not a DNS label cannot be enrolled: no need to ask the database.
    const bool plausible =
        Fqdn::validate(device_id).has_value() && device_id.find('.') == std::string::npos;
    std::optional<DeviceRecord> device;
    if (plausible) {
        device = co_await store_.find_device(device_id);
    }
    if (device) {
        if (auto locked = lock_failure(*device)) {
            co_return std::move(*locked);
        }
    }
    // Exactly one KDF on every path, off the I/O thread.
    const std::optional<std::string> stored = device ? device->password_hash : std::nullopt;
    // A named task, not a temporary in the co_await expression: g++ 12 destroys such a
    // temporary lambda twice.
    auto kdf = [password = std::move(password),
                stored]() mutable -> asio::awaitable<PasswordCheck> {
        PasswordCheck result = PasswordCheck::Mismatch;
        if (stored) {
            result = verify_password(password, *stored);
        } else {
            spend_dummy_kdf(password);
        }
        OPENSSL_cleanse(password.data(), password.size());
        co_return result;
    };
    const PasswordCheck check = co_await asio::co_spawn(kdf_, std::move(kdf), asio::use_awaitable);

    if (!device) {
        limiter_.consume(source, std::chrono::steady_clock::now());
        co_return failure(wire::ErrorCode::AuthFailed, wrong_password(device_id), "unknown device");
    }
    if (check == PasswordCheck::Match) {
        co_return success(std::move(*device));
    }
    if (check == PasswordCheck::Malformed) {
        spdlog::error(
            "stored password hash is malformed device_id={}: set a new password by "
            "removing and adding the device",
            device->device_id);
        co_return failure(wire::ErrorCode::Internal,
                          fmt::format("the AS cannot check the password of device '{}'; ask its "
                                      "operator to enrol it again",
                                      device->device_id),
                          "malformed stored password hash");
    }
    const FailureState state = co_await store_.record_failure(device->device_id);
    std::string reason = wrong_password(device_id);
    if (state.locked_until) {
        reason += fmt::format("; after {} failed logins the device is locked until {}",
                              state.failed_logins, iso_time(*state.locked_until));
    }
    co_return failure(wire::ErrorCode::AuthFailed, std::move(reason),
                      stored ? fmt::format("wrong password (failure {})", state.failed_logins)
                             : "device has no password (certificate or MAC login only)");
}

// ---- LoginHandler --------------------------------------------------------------------------

LoginHandler::LoginHandler(Authenticator& auth, LoginSettings settings,
                           CertificateVerifier verifier, WallClock clock)
    : auth_(auth), settings_(settings), verifier_(std::move(verifier)), clock_(std::move(clock)) {}

asio::awaitable<LoginReply> LoginHandler::handle(wire::BaseHeader header,
                                                 wire::LoginRequest request,
                                                 ConnectionContext& conn) {
    AuthOutcome outcome;
    try {
        outcome = co_await authenticate(request, conn);
        if (outcome.ok()) {
            co_return co_await issue(header, request, *outcome.device, conn);
        }
    } catch (const std::exception& e) {
        spdlog::error("login failed on the database device_id={} reason={}",
                      printable(request.device_id), e.what());
        outcome = failure(wire::ErrorCode::Internal,
                          "the AS cannot reach its database right now; retry in a few seconds",
                          fmt::format("database error: {}", e.what()));
    }
    std::uint64_t suppressed = 0;
    if (log_limit_.allow(suppressed)) {
        spdlog::info("login failed device_id={} auth={} exec_mode={} peer={} code={} reason={}{}",
                     printable(request.device_id), auth_name(request.auth_type),
                     static_cast<int>(request.exec_mode), conn.peer_address,
                     to_string(outcome.code), outcome.log_reason,
                     suppressed > 0 ? fmt::format(" suppressed={}", suppressed) : std::string());
    }
    co_return LoginReply{encode_stream_error(header.transaction_id, conn.next_sequence++,
                                             outcome.code, outcome.reason),
                         std::string(to_string(outcome.code))};
}

asio::awaitable<AuthOutcome> LoginHandler::authenticate(const wire::LoginRequest& request,
                                                        const ConnectionContext& conn) {
    const bool general = request.exec_mode == wire::ExecMode::GeneralNode;
    if (request.auth_type == wire::AuthType::MacAddress) {
        co_return co_await check_mac(request, conn);
    }
    if (general && !conn.adapter_id) {
        co_return failure(wire::ErrorCode::AuthFailed,
                          "general nodes (Exec Mode 3) are logged in by their adapter: log in as "
                          "the adapter on this connection first");
    }
    if (request.auth_type == wire::AuthType::Certificate) {
        co_return co_await check_certificate(request, conn);
    }
    co_return co_await auth_.check_password(request.device_id, request.password, conn.peer_address);
}

asio::awaitable<AuthOutcome> LoginHandler::check_certificate(const wire::LoginRequest& request,
                                                             const ConnectionContext& conn) {
    if (!settings_.client_ca_configured) {
        co_return failure(wire::ErrorCode::Unsupported,
                          "certificate login is not enabled on this AS (tls.client_ca is not "
                          "configured)");
    }
    const std::string id = printable(request.device_id);
    std::string common_name;
    if (request.exec_mode == wire::ExecMode::GeneralNode) {
        // Q2: the TLS peer is the adapter; the general node's certificate travels in the
        // request (its possession was proven to the adapter in EAP-TLS).
        if (request.certificate.empty()) {
            co_return failure(wire::ErrorCode::AuthFailed,
                              "a general node's certificate login needs its certificate in the "
                              "Certificate field");
        }
        auto verified = verifier_(request.certificate);
        if (!verified.has_value()) {
            co_return failure(
                wire::ErrorCode::AuthFailed,
                fmt::format("the certificate of general node '{}' is not accepted: {}", id,
                            verified.error()));
        }
        common_name = *verified;
    } else {
        if (!conn.peer_certificate) {
            co_return failure(wire::ErrorCode::AuthFailed,
                              "certificate login needs a TLS client certificate, and none was "
                              "presented");
        }
        if (!request.certificate.empty() && request.certificate != conn.peer_certificate->der) {
            co_return failure(wire::ErrorCode::AuthFailed,
                              "the Certificate field differs from the TLS client certificate "
                              "(send the same certificate, or leave the field empty)");
        }
        common_name = conn.peer_certificate->common_name;
    }
    if (common_name != request.device_id) {
        co_return failure(wire::ErrorCode::AuthFailed,
                          fmt::format("client certificate CN '{}' does not match DeviceID '{}'",
                                      printable(common_name), id));
    }
    auto device = co_await auth_.store().find_device(request.device_id);
    if (!device) {
        co_return failure(wire::ErrorCode::AuthFailed,
                          fmt::format("no device '{}' is enrolled on this AS", id));
    }
    if (auto locked = auth_.lock_failure(*device)) {
        co_return std::move(*locked);
    }
    if (!device->cert_login) {
        co_return failure(wire::ErrorCode::AuthFailed,
                          fmt::format("device '{}' is not enrolled for certificate login (enrol "
                                      "it with --cert-login)",
                                      id));
    }
    co_return success(std::move(*device));
}

asio::awaitable<AuthOutcome> LoginHandler::check_mac(const wire::LoginRequest& request,
                                                     const ConnectionContext& conn) {
    if (!conn.adapter_id) {
        co_return failure(wire::ErrorCode::AuthFailed,
                          "MAC login is only accepted on a connection already logged in as an "
                          "adapter");
    }
    if (request.exec_mode != wire::ExecMode::GeneralNode) {
        co_return failure(wire::ErrorCode::AuthFailed,
                          "MAC login (Auth Type 3) is only for general nodes (Exec Mode 3)");
    }
    // The decoder accepted only a lower-case "aa:bb:cc:dd:ee:ff" here (W7).
    auto device = co_await auth_.store().find_by_mac(request.device_id);
    if (!device || device->adapter_id != conn.adapter_id) {
        co_return failure(wire::ErrorCode::AuthFailed,
                          fmt::format("MAC {} is not a general node of adapter '{}'",
                                      printable(request.device_id), *conn.adapter_id));
    }
    if (auto locked = auth_.lock_failure(*device)) {
        co_return std::move(*locked);
    }
    co_return success(std::move(*device));
}

asio::awaitable<LoginReply> LoginHandler::issue(const wire::BaseHeader& header,
                                                const wire::LoginRequest& request,
                                                const DeviceRecord& device,
                                                ConnectionContext& conn) {
    const auto mode = static_cast<DeviceKind>(request.exec_mode);
    std::optional<AuthOutcome> refused;
    if (device.kind != mode) {
        refused = failure(
            wire::ErrorCode::AuthFailed,
            fmt::format("device '{}' is enrolled as {} {} and must log in with Exec Mode {}, "
                        "not {} ({})",
                        device.device_id, article(device.kind), to_string(device.kind),
                        static_cast<int>(device.kind), static_cast<int>(mode), to_string(mode)));
    } else if (device.kind == DeviceKind::GeneralNode && device.adapter_id != conn.adapter_id) {
        refused = failure(wire::ErrorCode::AuthFailed,
                          fmt::format("general node '{}' belongs to adapter '{}', not to '{}' "
                                      "logged in on this connection",
                                      device.device_id, device.adapter_id.value_or("?"),
                                      conn.adapter_id.value_or("?")));
    }
    if (refused) {
        spdlog::info("login failed device_id={} auth={} peer={} code={} reason={}",
                     device.device_id, auth_name(request.auth_type), conn.peer_address,
                     to_string(refused->code), refused->log_reason);
        co_return LoginReply{encode_stream_error(header.transaction_id, conn.next_sequence++,
                                                 refused->code, refused->reason),
                             std::string(to_string(refused->code))};
    }

    const SystemTime now = clock_();
    const wire::Date expiry = expiry_date(now, settings_.key_lifetime_days);
    crypto::Key key = crypto::random_key();
    wire::LoginResponse response;
    response.cipher = settings_.cipher;
    response.expiry = expiry;
    response.virtual_ipv4 = device.virtual_ipv4.value_or(Ipv4Address{});
    response.virtual_ipv6 = device.virtual_ipv6.value_or(Ipv6Address{});
    response.nms_ipv4 = settings_.nms_ipv4;
    response.nms_ipv6 = settings_.nms_ipv6;
    std::copy(key.view().begin(), key.view().end(), response.common_key.begin());
    response.fqdn = device.fqdn;

    // A named argument: g++ 12 destroys a braced temporary passed to a coroutine in a co_await
    // expression twice.
    IssuedKey issued{settings_.cipher, key.clone(), expiry_timestamp(expiry)};
    const std::int64_t generation =
        co_await auth_.store().complete_login(device.node_id, std::move(issued));

    wire::BaseHeader h;
    h.transaction_id = header.transaction_id;
    h.flags = wire::flag::kSuccess | wire::flag::kResponse;
    h.type = wire::MessageType::LoginResponse;
    h.sequence = conn.next_sequence++;
    h.set_id(device.node_id);
    Bytes bytes = wire::encode_stream_message(h, response);
    OPENSSL_cleanse(response.common_key.data(), response.common_key.size());
    if (device.kind == DeviceKind::Adapter) {
        conn.adapter_id = device.device_id;
    }
    spdlog::info("login ok device_id={} node_id={} fqdn={} auth={} peer={} generation={}",
                 device.device_id, device.node_id, device.fqdn, auth_name(request.auth_type),
                 conn.peer_address, generation);
    co_return LoginReply{std::move(bytes), "ok"};
}

}  // namespace cyphonic::as
