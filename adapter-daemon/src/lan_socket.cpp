#include "lan_socket.hpp"

#include <arpa/inet.h>
#include <linux/ethtool.h>
#include <linux/if_packet.h>
#include <linux/sockios.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cyphonic/sys/netlink.hpp"

namespace cyphonic::adapterd {

namespace {

bool ethtool_set(int fd, const std::string& name, std::uint32_t cmd, std::uint32_t value) {
    ethtool_value ev{};
    ev.cmd = cmd;
    ev.data = value;
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    ifr.ifr_data =
        reinterpret_cast<char*>(&ev);  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
    return ::ioctl(fd, SIOCETHTOOL, &ifr) == 0;
}

void offloads_off(int fd, const std::string& name) {
    if (!ethtool_set(fd, name, ETHTOOL_SGRO, 0)) {
        spdlog::warn("lan {}: cannot switch GRO off: {}", name, std::strerror(errno));
    }
    ethtool_value flags{};
    flags.cmd = ETHTOOL_GFLAGS;
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    ifr.ifr_data =
        reinterpret_cast<char*>(&flags);  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
    if (::ioctl(fd, SIOCETHTOOL, &ifr) == 0 && (flags.data & ETH_FLAG_LRO) != 0 &&
        !ethtool_set(fd, name, ETHTOOL_SFLAGS,
                     flags.data & ~static_cast<std::uint32_t>(ETH_FLAG_LRO))) {
        spdlog::warn("lan {}: cannot switch LRO off: {}", name, std::strerror(errno));
    }
}

void forwarding_off(const std::string& name) {
    for (const char* family : {"ipv4", "ipv6"}) {
        const auto path = fmt::format("/proc/sys/net/{}/conf/{}/forwarding", family, name);
        std::string value;
        if (std::ifstream in(path); in >> value && value == "0") {
            continue;
        }
        std::ofstream out(path);
        out << "0\n";
        if (!out) {
            spdlog::warn(
                "lan {}: forwarding is on and {} cannot be written: the kernel may "
                "route general nodes' packets itself",
                name, path);
        }
    }
}

}  // namespace

Expected<LanInterface, std::string> open_lan_interface(const std::string& name) {
    LanInterface lan;
    lan.ifindex = static_cast<int>(::if_nametoindex(name.c_str()));
    if (lan.ifindex == 0) {
        return fail(fmt::format("lan interface {}: {}", name, std::strerror(errno)));
    }
    const int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
    if (fd < 0) {
        return fail(fmt::format("lan interface {}: raw socket: {} (needs CAP_NET_RAW)", name,
                                std::strerror(errno)));
    }
    const auto close_with = [&](const std::string& what) {
        const int e = errno;
        ::close(fd);
        return fail(fmt::format("lan interface {}: {}: {}", name, what, std::strerror(e)));
    };
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = lan.ifindex;
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&sll), sizeof sll) != 0) {  // NOLINT
        return close_with("bind");
    }
    packet_mreq mreq{};
    mreq.mr_ifindex = lan.ifindex;
    mreq.mr_type = PACKET_MR_PROMISC;
    if (::setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mreq, sizeof mreq) != 0) {
        return close_with("promiscuous mode");
    }
    const int one = 1;
    if (::setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) != 0) {
        spdlog::debug("lan {}: PACKET_IGNORE_OUTGOING unsupported; outgoing frames filtered", name);
    }
    const int buffer = 4 << 20;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    if (::ioctl(fd, SIOCGIFHWADDR, &ifr) != 0) {
        return close_with("hardware address");
    }
    std::memcpy(lan.mac.bytes.data(), ifr.ifr_hwaddr.sa_data, lan.mac.bytes.size());
    offloads_off(fd, name);
    forwarding_off(name);
    if (auto nl = sys::Netlink::open()) {
        if (auto addrs = nl->addresses()) {
            for (const auto& a : *addrs) {
                if (a.ifindex == lan.ifindex && a.address.is_v6() &&
                    a.address.v6().bytes[0] == std::byte{0xfe} &&
                    (a.address.v6().bytes[1] & std::byte{0xc0}) == std::byte{0x80}) {
                    lan.link_local = a.address.v6();
                }
            }
        }
    }
    lan.fd = fd;
    return lan;
}

}  // namespace cyphonic::adapterd
