#include "state.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace cyphonic::adapterd {

namespace {

constexpr const char* kNodesFile = "general-nodes.json";
constexpr const char* kGatewayFile = "gateway";

Expected<std::optional<std::string>, std::string> read_file(const std::filesystem::path& path) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        return std::optional<std::string>();
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return fail(fmt::format("cannot read {}", path.string()));
    }
    std::ostringstream text;
    text << in.rdbuf();
    return std::optional<std::string>(text.str());
}

Expected<void, std::string> write_atomically(const std::filesystem::path& path,
                                             const std::string& text) {
    const auto tmp = path.string() + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) {
        return fail(fmt::format("cannot write {}: {}", tmp, std::strerror(errno)));
    }
    std::size_t done = 0;
    while (done < text.size()) {
        const auto n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            const int e = errno;
            ::close(fd);
            return fail(fmt::format("cannot write {}: {}", tmp, std::strerror(e)));
        }
        done += static_cast<std::size_t>(n);
    }
    const bool synced = ::fsync(fd) == 0;
    ::close(fd);
    if (!synced || ::rename(tmp.c_str(), path.c_str()) != 0) {
        return fail(fmt::format("cannot replace {}: {}", path.string(), std::strerror(errno)));
    }
    return {};
}

}  // namespace

Expected<SavedState, std::string> load_state(const std::filesystem::path& dir) {
    SavedState out;
    auto nodes = read_file(dir / kNodesFile);
    if (!nodes) {
        return fail(nodes.error());
    }
    if (*nodes) {
        auto parsed = net::parse_general_nodes(**nodes);
        if (!parsed) {
            return fail(fmt::format("{}: {}", (dir / kNodesFile).string(), parsed.error()));
        }
        out.general_nodes = std::move(*parsed);
    }
    auto gateway = read_file(dir / kGatewayFile);
    if (!gateway) {
        return fail(gateway.error());
    }
    if (*gateway) {
        std::istringstream lines(**gateway);
        std::string line;
        while (std::getline(lines, line)) {
            if (line.empty()) {
                continue;
            }
            if (const auto v4 = Ipv4Address::parse(line)) {
                out.gateway_v4 = v4;
            } else if (const auto v6 = Ipv6Address::parse(line)) {
                out.gateway_v6 = v6;
            } else {
                return fail(
                    fmt::format("{}: '{}' is not an address", (dir / kGatewayFile).string(), line));
            }
        }
    }
    return out;
}

Expected<void, std::string> save_state(const std::filesystem::path& dir, const SavedState& state) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
        return fail(fmt::format("cannot create {}: {}", dir.string(), ec.message()));
    }
    if (auto r = write_atomically(dir / kNodesFile, net::general_nodes_json(state.general_nodes));
        !r) {
        return r;
    }
    std::string gateway;
    if (state.gateway_v4) {
        gateway += state.gateway_v4->to_string() + "\n";
    }
    if (state.gateway_v6) {
        gateway += state.gateway_v6->to_string() + "\n";
    }
    return write_atomically(dir / kGatewayFile, gateway);
}

}  // namespace cyphonic::adapterd
