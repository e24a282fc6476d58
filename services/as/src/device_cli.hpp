#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "config.hpp"

// `cyphonic-as device add|list|remove` and `cyphonic-as migrate`: operator commands that talk
// to the database directly (db.conninfo, or --db), so devices are enrolled without SQL.
namespace cyphonic::as {

struct DeviceCliOptions {
    CLI::App* add = nullptr;
    CLI::App* list = nullptr;
    CLI::App* remove = nullptr;

    std::string device_id;
    std::string kind = "node";
    bool password_stdin = false;
    std::filesystem::path password_file;
    bool cert_login = false;
    std::optional<std::string> adapter;
    std::optional<std::string> mac;
    bool json = false;
};

// Declares the device subcommands and their options under `device`.
void add_device_commands(CLI::App& device, DeviceCliOptions& options);

// Runs the device subcommand that was given; returns the exit code (0 ok, 1 refused or failed).
// Messages go to stdout (results) and stderr (errors). Throws app::ConfigError.
int run_device_command(const DeviceCliOptions& options, const ConfigSource& source);

// `cyphonic-as migrate`: applies the AS migrations; returns the exit code.
int run_migrate(const ConfigSource& source);

}  // namespace cyphonic::as
