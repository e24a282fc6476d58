// cyphonic-adapterd: the CYPHONIC adapter. `cyphonic-adapterd run -c /etc/cyphonic/adapterd.yaml`
// brings the general nodes of the internal link into the overlay; `cyphonic-adapterd status`
// shows them.
#include <spdlog/spdlog.h>

#include "adapter.hpp"
#include "config.hpp"
#include "daemon_main.hpp"

#include "cyphonic/app/logging.hpp"

int main(int argc, char** argv) {
    using namespace cyphonic::adapterd;
    cyphonic::noded::DaemonMain spec;
    spec.program = "cyphonic-adapterd";
    spec.description =
        "CYPHONIC adapter daemon: brings unmodified devices (general nodes) on the internal "
        "link into the overlay: DHCP, RA/DHCPv6, proxy ARP/ND and DNS on the link, signaling "
        "and encrypted tunnels on their behalf";
    spec.run_help =
        "log in, serve the internal link and relay its general nodes until SIGTERM (needs "
        "CAP_NET_ADMIN, CAP_NET_RAW, CAP_NET_BIND_SERVICE)";
    spec.status_help =
        "print the adapter's state and every general node (MAC, virtual IPs, state) with its "
        "peers";
    spec.default_socket = "/run/cyphonic/adapterd.sock";
    spec.describe_keys = describe_keys;
    spec.run = [](const std::optional<std::filesystem::path>& file,
                  const std::vector<std::string>& overrides) {
        AdapterSettings settings = load_settings(file, overrides);
        cyphonic::app::setup_logging("cyphonic-adapterd", settings.raw.log_level);
        spdlog::info("starting version={}", CYPHONIC_VERSION);
        for (const auto& line : settings.effective) {
            spdlog::info("config {}", line);
        }
        Adapter adapter(std::move(settings));
        return adapter.run();
    };
    return cyphonic::noded::daemon_main(argc, argv, spec);
}
