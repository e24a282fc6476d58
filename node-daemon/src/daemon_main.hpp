#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

// The command line both daemons share: `run -c FILE [--set key=value]...` and
// `status [--json] [--socket PATH]`, with --help listing every configuration key, exit 78
// (EX_CONFIG) for configuration errors and 1 for anything unexpected.
namespace cyphonic::noded {

struct DaemonMain {
    std::string program;      // "cyphonicd"
    std::string description;  // first line of --help
    std::string run_help;
    std::string status_help;
    std::string default_socket;
    std::function<std::vector<std::string>()> describe_keys;
    // Loads the settings (throws app::ConfigError), sets up logging and runs the daemon.
    std::function<int(const std::optional<std::filesystem::path>& file,
                      const std::vector<std::string>& overrides)>
        run;
};

int daemon_main(int argc, char** argv, const DaemonMain& spec);

}  // namespace cyphonic::noded
