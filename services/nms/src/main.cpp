// cyphonic-nms: the Node Management Service (PROTOCOL.md §7.2–§7.4).
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "config.hpp"
#include "server.hpp"

#include "cyphonic/app/health_server.hpp"
#include "cyphonic/app/logging.hpp"
#include "cyphonic/app/service.hpp"
#include "cyphonic/db/database.hpp"

namespace cyphonic::nms {
std::span<const db::Migration> migrations();
}

namespace {

using namespace cyphonic;

int serve(nms::NmsConfig& config) {
    auto settings = nms::validate(config);
    const Endpoint http = settings.http;
    const NodeId node_id = settings.node_id;
    const std::size_t trs_count = settings.trs.size();
    db::Database database(config.db_conninfo, config.db_connections);
    app::ServiceRuntime runtime("cyphonic-nms");
    app::MetricsRegistry metrics;
    nms::NmsServer server(runtime, config, std::move(settings), database, metrics);
    app::HealthServer health(runtime.io(), metrics, [&runtime] { return runtime.ready(); });
    server.start();
    health.start(http);
    runtime.set_idle_predicate([&server] { return server.idle(); });
    for (const auto& ep : server.local_endpoints()) {
        spdlog::info("listening udp={}", ep);
    }
    spdlog::info("listening http={} node_id={} trs={}", health.local_endpoint(), node_id,
                 trs_count);
    runtime.set_ready(true);
    const int code = runtime.run(
        [] {
            // UDP: nothing to close. NMS keeps answering while the load balancer drains
            // (/readyz says 503 meanwhile); the sockets close when the drain ends.
        },
        std::chrono::milliseconds(static_cast<std::int64_t>(config.grace_s * 1000)));
    server.close();
    database.stop();
    return code;
}

}  // namespace

static int run_cli(int argc, char** argv) {
    CLI::App cli{
        "cyphonic-nms: CYPHONIC Node Management Service (registration, keep alive, "
        "route selection)"};
    cli.set_version_flag("--version", "cyphonic-nms 0.1.0");
    cli.require_subcommand(1);
    std::optional<std::string> config_file;
    std::vector<std::string> overrides;
    auto add_common = [&](CLI::App* sub) {
        sub->add_option("-c,--config", config_file, "YAML configuration file");
        sub->add_option("--set", overrides, "override a key: --set listen.port=4600 (repeatable)");
    };
    auto* serve_cmd = cli.add_subcommand("serve", "run the service");
    auto* migrate_cmd =
        cli.add_subcommand("migrate", "apply the NMS schema (run `cyphonic-as migrate` first)");
    auto* keys_cmd = cli.add_subcommand("config-keys", "list every configuration key");
    add_common(serve_cmd);
    add_common(migrate_cmd);
    CLI11_PARSE(cli, argc, argv);

    nms::NmsConfig config;
    app::ConfigSchema schema;
    nms::describe(schema, config);
    if (keys_cmd->parsed()) {
        for (const auto& line : schema.describe_keys()) {
            std::puts(line.c_str());
        }
        return 0;
    }
    try {
        schema.load(config_file ? std::optional<std::filesystem::path>(*config_file) : std::nullopt,
                    overrides);
        app::setup_logging("cyphonic-nms", config.log_level);
        for (const auto& line : schema.effective()) {
            spdlog::info("config {}", line);
        }
        if (migrate_cmd->parsed()) {
            pqxx::connection connection(config.db_conninfo);
            const auto applied = db::apply_migrations(connection, "nms", nms::migrations());
            spdlog::info("migrated service=nms applied={}", applied.size());
            return 0;
        }
        return serve(config);
    } catch (const app::ConfigError& e) {
        std::fprintf(stderr, "cyphonic-nms: %s\n", e.what());
        return 78;  // EX_CONFIG
    } catch (const std::exception& e) {
        std::fprintf(stderr, "cyphonic-nms: %s\n", e.what());
        return 1;
    }
}

int main(int argc, char** argv) {
    try {
        return run_cli(argc, argv);
    } catch (...) {
        std::fputs("cyphonic-nms: unexpected error\n", stderr);
        return 1;
    }
}
