// `cyphonic-as serve`: wires the parts together and runs them until SIGTERM.
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "server.hpp"
#include "tls.hpp"

#include "cyphonic/app/health_server.hpp"
#include "cyphonic/app/metrics.hpp"
#include "cyphonic/app/service.hpp"
#include "cyphonic/db/database.hpp"

namespace cyphonic::as {

namespace {

// Every 10 s: the active-node gauge; every 30 s: a summary of dropped input, when it changed.
asio::awaitable<void> housekeeping(Store& store, AsMetrics& metrics, asio::steady_timer& timer,
                                   app::ServiceRuntime& runtime) {
    constexpr auto kPeriod = std::chrono::seconds(10);
    constexpr int kSummaryEvery = 3;
    for (int round = 0; !runtime.stopping(); ++round) {
        try {
            metrics.set_active_nodes(co_await store.count_active_nodes());
        } catch (const std::exception& e) {
            spdlog::warn("cannot count active nodes reason={}", e.what());
        }
        if (round % kSummaryEvery == kSummaryEvery - 1) {
            if (const auto summary = metrics.drop_summary(); !summary.empty()) {
                spdlog::info("input dropped last_30s {}", summary);
            }
        }
        boost::system::error_code ec;
        timer.expires_after(kPeriod);
        co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
}

Ipv4Address v4_or_zero(const std::optional<IpAddress>& a) {
    return a && a->is_v4() ? a->v4() : Ipv4Address{};
}

Ipv6Address v6_or_zero(const std::optional<IpAddress>& a) {
    return a && a->is_v6() ? a->v6() : Ipv6Address{};
}

}  // namespace

int run_serve(const AsConfig& config, const ConfigSource& source) {
    for (const auto& line : effective_config(config)) {
        spdlog::info("config {}", line);
    }
    asio::ssl::context tls = make_server_tls_context(config, source);
    std::optional<ClientCaVerifier> client_ca;
    if (!config.tls_client_ca.empty()) {
        client_ca.emplace(config.tls_client_ca);
    }
    db::Database db(config.db_conninfo, config.db_connections);
    // Refuse to start on a database without the AS schema rather than fail every login.
    db.run_blocking([](pqxx::connection& c) {
        pqxx::read_transaction t(c);
        try {
            t.exec("SELECT 1 FROM devices LIMIT 0");
            t.exec("SELECT 1 FROM nms_keys LIMIT 0");
        } catch (const pqxx::undefined_table&) {
            throw std::runtime_error(
                "the database has no AS tables: run `cyphonic-as migrate` first");
        }
    });

    app::MetricsRegistry registry;
    AsMetrics metrics(registry);
    app::ServiceRuntime runtime("cyphonic-as");
    const unsigned kdf_threads = config.login_kdf_threads != 0
                                     ? config.login_kdf_threads
                                     : std::max(1U, std::thread::hardware_concurrency());
    asio::thread_pool kdf_pool(kdf_threads);

    const LockPolicy policy{static_cast<int>(config.login_max_failures),
                            static_cast<int>(config.login_lock_max_s)};
    PgStore store(db, policy);
    SourceLimiter limiter(config.login_unknown_burst, config.login_unknown_per_s);
    const WallClock clock = [] { return std::chrono::system_clock::now(); };
    Authenticator auth(store, policy, limiter, kdf_pool.get_executor(), clock);
    LoginSettings login_settings;
    login_settings.cipher = static_cast<wire::CipherSuiteId>(config.nms_cipher);
    login_settings.key_lifetime_days = config.nms_key_lifetime_days;
    login_settings.nms_ipv4 = v4_or_zero(config.nms_ipv4);
    login_settings.nms_ipv6 = v6_or_zero(config.nms_ipv6);
    login_settings.client_ca_configured = client_ca.has_value();
    CertificateVerifier verifier =
        [&client_ca](ByteView der) -> Expected<std::string, std::string> {
        if (!client_ca) {
            return fail(std::string("no client CA is configured"));
        }
        return client_ca->verify(der);
    };
    LoginHandler login(auth, login_settings, std::move(verifier), clock);
    ControllerApi api(auth);

    ServerSettings server_settings;
    server_settings.listen = {*IpAddress::parse(config.listen_address), config.listen_port};
    server_settings.idle_timeout = std::chrono::seconds(config.connection_idle_timeout_s);
    server_settings.handshake_timeout = std::chrono::seconds(config.connection_handshake_timeout_s);
    server_settings.max_connections = config.connection_max;
    Server server(runtime, tls, server_settings, login, api, metrics);
    app::HealthServer health(runtime.io(), registry, [&runtime] { return runtime.ready(); });

    server.start();
    health.start(*Endpoint::parse(config.http_listen));
    asio::steady_timer housekeeping_timer(runtime.io());
    asio::co_spawn(runtime.io(), housekeeping(store, metrics, housekeeping_timer, runtime),
                   [&runtime](const std::exception_ptr& e) {
                       if (e) {
                           runtime.fail("housekeeping task stopped");
                       }
                   });
    // Tests and tools read the bound ports from this line (port 0 picks free ones).
    spdlog::info("listening tls={} http={} domain={}", server.local_endpoint(),
                 health.local_endpoint(), config.domain);
    runtime.set_ready(true);

    const int code = runtime.run(
        [&] {
            server.stop_accepting();
            housekeeping_timer.cancel();
        },
        std::chrono::seconds(config.shutdown_grace_s));

    // Whatever the grace period left behind: close it and let the coroutines unwind while the
    // objects they use still exist.
    server.close_all();
    health.stop();
    housekeeping_timer.cancel();
    runtime.io().restart();
    runtime.io().run_for(std::chrono::seconds(2));
    kdf_pool.join();
    db.stop();
    return code;
}

}  // namespace cyphonic::as
