// cyphonic-trs: the Tunnel Relay Service (PROTOCOL.md §7.4). `cyphonic-trs serve -c trs.yaml`.
#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "config.hpp"
#include "server.hpp"

#include "cyphonic/app/logging.hpp"

namespace {

constexpr int kExitConfig = 78;  // EX_CONFIG

std::string keys_help() {
    std::string out = "Configuration keys (YAML file or --set key=value):\n";
    for (const auto& line : cyphonic::trs::describe_keys()) {
        out += "  " + line + "\n";
    }
    return out;
}

int run(int argc, char** argv) {
    CLI::App cli{"CYPHONIC Tunnel Relay Service: relays path messages between two ends"};
    cli.set_version_flag("--version", "cyphonic-trs " CYPHONIC_VERSION);
    cli.require_subcommand(1);
    cli.footer(keys_help());
    auto* serve = cli.add_subcommand("serve", "run the relay until SIGTERM");
    std::string config_file;
    std::vector<std::string> overrides;
    serve->add_option("-c,--config", config_file, "YAML configuration file");
    serve->add_option("--set", overrides, "override one key: --set listen.port=4700 (repeatable)");
    serve->footer(keys_help());
    CLI11_PARSE(cli, argc, argv);

    cyphonic::trs::TrsSettings settings;
    try {
        settings = cyphonic::trs::load_settings(
            config_file.empty() ? std::nullopt : std::optional<std::filesystem::path>(config_file),
            overrides);
    } catch (const cyphonic::app::ConfigError& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return kExitConfig;
    }
    cyphonic::app::setup_logging("cyphonic-trs", settings.log_level);
    spdlog::info("starting version={}", CYPHONIC_VERSION);
    for (const auto& line : settings.effective) {
        spdlog::info("config {}", line);
    }
    for (const auto& warning : settings.warnings) {
        spdlog::warn("{}", warning);
    }
    try {
        return cyphonic::trs::serve(settings);
    } catch (const std::exception& e) {
        spdlog::error("start failed reason={}", e.what());
        return 1;
    }
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "cyphonic-trs: %s\n", e.what());
    } catch (...) {
        std::fprintf(stderr, "cyphonic-trs: unknown exception\n");
    }
    return 1;
}
