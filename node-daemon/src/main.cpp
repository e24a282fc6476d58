// cyphonicd: the CYPHONIC Daemon of a host. `cyphonicd run -c /etc/cyphonic/cyphonicd.yaml`
// joins the overlay; `cyphonicd status [--json]` shows what it is doing.
#include <spdlog/spdlog.h>

#include "config.hpp"
#include "daemon.hpp"
#include "daemon_main.hpp"

#include "cyphonic/app/logging.hpp"

int main(int argc, char** argv) {
    using namespace cyphonic::noded;
    DaemonMain spec;
    spec.program = "cyphonicd";
    spec.description =
        "CYPHONIC node daemon: gives this host its overlay name and virtual addresses and "
        "connects it end to end with other CYPHONIC nodes";
    spec.run_help =
        "log in, bring up the TUN interface and serve until SIGTERM (needs CAP_NET_ADMIN)";
    spec.status_help = "print login state, virtual IPs, NAT flag and every peer with its path";
    spec.default_socket = "/run/cyphonic/cyphonicd.sock";
    spec.describe_keys = describe_keys;
    spec.run = [](const std::optional<std::filesystem::path>& file,
                  const std::vector<std::string>& overrides) {
        DaemonSettings settings = load_settings(file, overrides);
        cyphonic::app::setup_logging("cyphonicd", settings.raw.log_level);
        spdlog::info("starting version={}", CYPHONIC_VERSION);
        for (const auto& line : settings.effective) {
            spdlog::info("config {}", line);
        }
        Daemon daemon(std::move(settings));
        return daemon.run();
    };
    return daemon_main(argc, argv, spec);
}
