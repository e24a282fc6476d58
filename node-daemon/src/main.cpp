// cyphonicd: the CYPHONIC Daemon of a host. `cyphonicd run -c /etc/cyphonic/cyphonicd.yaml`
// joins the overlay; `cyphonicd status [--json]` shows what it is doing.
#include <cstdio>
#include <exception>
#include <iostream>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "config.hpp"
#include "daemon.hpp"
#include "status.hpp"

#include "cyphonic/app/logging.hpp"

namespace {

constexpr int kExitConfig = 78;  // EX_CONFIG
constexpr const char* kDefaultSocket = "/run/cyphonic/cyphonicd.sock";

std::string keys_help() {
    std::string out = "Configuration keys (YAML file or --set key=value):\n";
    for (const auto& line : cyphonic::noded::describe_keys()) {
        out += "  " + line + "\n";
    }
    return out;
}

int run(int argc, char** argv) {
    CLI::App cli{
        "CYPHONIC node daemon: gives this host its overlay name and virtual addresses and "
        "connects it end to end with other CYPHONIC nodes"};
    cli.set_version_flag("--version", "cyphonicd " CYPHONIC_VERSION);
    cli.require_subcommand(1);

    auto* run_cmd = cli.add_subcommand(
        "run", "log in, bring up the TUN interface and serve until SIGTERM (needs CAP_NET_ADMIN)");
    std::string config_file;
    std::vector<std::string> overrides;
    run_cmd->add_option("-c,--config", config_file, "YAML configuration file");
    run_cmd->add_option("--set", overrides, "override one key: --set tun.name=cyph1 (repeatable)");
    run_cmd->footer(keys_help());

    auto* status_cmd = cli.add_subcommand(
        "status", "print login state, virtual IPs, NAT flag and every peer with its path");
    bool json = false;
    std::string socket = kDefaultSocket;
    status_cmd->add_flag("--json", json, "machine-readable output");
    status_cmd->add_option("-s,--socket", socket, "status socket of the daemon")
        ->capture_default_str();
    CLI11_PARSE(cli, argc, argv);

    if (status_cmd->parsed()) {
        const auto answer = cyphonic::noded::query_status(socket, json ? "json" : "text");
        if (!answer) {
            std::fprintf(stderr, "cyphonicd status: %s\n", answer.error().c_str());
            return 1;
        }
        std::cout << *answer;
        return 0;
    }

    cyphonic::noded::DaemonSettings settings;
    try {
        settings = cyphonic::noded::load_settings(
            config_file.empty() ? std::nullopt : std::optional<std::filesystem::path>(config_file),
            overrides);
    } catch (const cyphonic::app::ConfigError& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return kExitConfig;
    }
    cyphonic::app::setup_logging("cyphonicd", settings.raw.log_level);
    spdlog::info("starting version={}", CYPHONIC_VERSION);
    for (const auto& line : settings.effective) {
        spdlog::info("config {}", line);
    }
    cyphonic::noded::Daemon daemon(std::move(settings));
    return daemon.run();
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "cyphonicd: %s\n", e.what());
    } catch (...) {
        std::fprintf(stderr, "cyphonicd: unknown exception\n");
    }
    return 1;
}
