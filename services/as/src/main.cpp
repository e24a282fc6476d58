// cyphonic-as: the CYPHONIC Authentication Service (ARCHITECTURE.md, docs/SERVICES.md).
#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

#include "config.hpp"
#include "device_cli.hpp"
#include "server.hpp"

#include "cyphonic/app/logging.hpp"

namespace {
constexpr int kExitConfig = 78;  // EX_CONFIG
constexpr int kExitUsage = 64;   // EX_USAGE
int run(int argc, char** argv) {
    using namespace cyphonic::as;
    CLI::App app{"cyphonic-as: CYPHONIC Authentication Service"};
    app.set_version_flag("--version", "cyphonic-as 0.1.0");
    std::string config_file;
    std::vector<std::string> overrides;
    std::string db;
    std::string log_level;
    app.add_option("-c,--config", config_file, "YAML configuration file");
    app.add_option("--set", overrides, "override a configuration key: key.path=value");
    app.add_option("--db", db, "same as --set db.conninfo=...");
    app.add_option("--log-level", log_level, "same as --set log.level=...");
    std::string keys = "\nConfiguration keys:\n";
    for (const auto& line : describe_config()) {
        keys += "  " + line + "\n";
    }
    app.footer(keys);
    app.require_subcommand(1);
    auto* serve = app.add_subcommand("serve", "run the service until SIGTERM");
    auto* migrate = app.add_subcommand("migrate", "apply the database migrations (idempotent)");
    auto* device = app.add_subcommand("device", "enrol, list and remove devices");
    device->require_subcommand(1);
    DeviceCliOptions device_options;
    add_device_commands(*device, device_options);
    for (auto* sub : {serve, migrate, device}) {
        sub->fallthrough();
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);
        return code == 0 ? 0 : kExitUsage;
    }

    ConfigSource source;
    if (!config_file.empty()) {
        source.file = config_file;
    }
    source.overrides = overrides;
    if (!db.empty()) {
        source.overrides.push_back("db.conninfo=" + db);
    }
    if (!log_level.empty()) {
        source.overrides.push_back("log.level=" + log_level);
    }
    try {
        const ConfigUse use = serve->parsed() ? ConfigUse::Serve : ConfigUse::Database;
        const AsConfig config = load_config(source, use);
        cyphonic::app::setup_logging("cyphonic-as", config.log_level);
        if (serve->parsed()) {
            return run_serve(config, source);
        }
        if (migrate->parsed()) {
            return run_migrate(source);
        }
        return run_device_command(device_options, source);
    } catch (const cyphonic::app::ConfigError& e) {
        std::cerr << e.what() << '\n';
        return kExitConfig;
    } catch (const pqxx::broken_connection& e) {
        std::cerr << "cyphonic-as: cannot connect to the database (db.conninfo): " << e.what()
                  << '\n';
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "cyphonic-as: " << e.what() << '\n';
        return 1;
    }
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (...) {
        std::fputs("cyphonic-as: unexpected error\n", stderr);
        return 1;
    }
}
