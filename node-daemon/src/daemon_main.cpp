#include "daemon_main.hpp"

#include <cstdio>
#include <exception>
#include <iostream>

#include <CLI/CLI.hpp>

#include "status.hpp"

#include "cyphonic/app/config.hpp"

namespace cyphonic::noded {

namespace {

constexpr int kExitConfig = 78;  // EX_CONFIG

int parse_and_run(int argc, char** argv, const DaemonMain& spec) {
    CLI::App cli{spec.description};
    cli.set_version_flag("--version", spec.program + " " CYPHONIC_VERSION);
    cli.require_subcommand(1);

    auto* run_cmd = cli.add_subcommand("run", spec.run_help);
    std::string config_file;
    std::vector<std::string> overrides;
    run_cmd->add_option("-c,--config", config_file, "YAML configuration file");
    run_cmd->add_option("--set", overrides, "override one key: --set log.level=debug (repeatable)");
    std::string keys = "Configuration keys (YAML file or --set key=value):\n";
    for (const auto& line : spec.describe_keys()) {
        keys += "  " + line + "\n";
    }
    run_cmd->footer(keys);

    auto* status_cmd = cli.add_subcommand("status", spec.status_help);
    bool json = false;
    std::string socket = spec.default_socket;
    status_cmd->add_flag("--json", json, "machine-readable output");
    status_cmd->add_option("-s,--socket", socket, "status socket of the daemon")
        ->capture_default_str();
    CLI11_PARSE(cli, argc, argv);

    if (status_cmd->parsed()) {
        const auto answer = query_status(socket, json ? "json" : "text");
        if (!answer) {
            std::fprintf(stderr, "%s status: %s\n", spec.program.c_str(), answer.error().c_str());
            return 1;
        }
        std::cout << *answer;
        return 0;
    }
    try {
        return spec.run(
            config_file.empty() ? std::nullopt : std::optional<std::filesystem::path>(config_file),
            overrides);
    } catch (const app::ConfigError& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return kExitConfig;
    }
}

}  // namespace

int daemon_main(int argc, char** argv, const DaemonMain& spec) {
    try {
        return parse_and_run(argc, argv, spec);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: %s\n", spec.program.c_str(), e.what());
    } catch (...) {
        std::fprintf(stderr, "%s: unknown exception\n", spec.program.c_str());
    }
    return 1;
}

}  // namespace cyphonic::noded
