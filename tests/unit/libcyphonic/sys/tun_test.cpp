#include "cyphonic/sys/tun.hpp"

#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/netns.hpp"
#include "unit/libcyphonic/sys/sys_test_util.hpp"

#include "cyphonic/sys/netlink.hpp"

namespace cyphonic::sys {
namespace {

using cyphonic::testing::FreshNetnsTest;
using std::chrono::milliseconds;
using testing::ip;

using TunDeviceInNetns = FreshNetnsTest;

TEST_F(TunDeviceInNetns, OpensWithTheGivenName) {
    const auto tun = TunDevice::open("cyphtest0");
    ASSERT_TRUE(tun.has_value()) << tun.error();
    EXPECT_EQ(tun->name(), "cyphtest0");
    EXPECT_GE(tun->fd(), 0);
    EXPECT_EQ(tun->ifindex(), static_cast<int>(if_nametoindex("cyphtest0")));
    EXPECT_NE(::fcntl(tun->fd(), F_GETFL) & O_NONBLOCK, 0);
    EXPECT_NE(::fcntl(tun->fd(), F_GETFD) & FD_CLOEXEC, 0);
    const auto state = testing::link_state("cyphtest0");
    ASSERT_TRUE(state.has_value());
    EXPECT_FALSE(state->up);
}

TEST_F(TunDeviceInNetns, BlockingWhenAsked) {
    const auto tun = TunDevice::open("cyphtest0", false);
    ASSERT_TRUE(tun.has_value()) << tun.error();
    EXPECT_EQ(::fcntl(tun->fd(), F_GETFL) & O_NONBLOCK, 0);
}

TEST_F(TunDeviceInNetns, KernelFillsInANamePattern) {
    const auto first = TunDevice::open("cyph%d");
    const auto second = TunDevice::open("cyph%d");
    ASSERT_TRUE(first.has_value()) << first.error();
    ASSERT_TRUE(second.has_value()) << second.error();
    EXPECT_EQ(first->name(), "cyph0");
    EXPECT_EQ(second->name(), "cyph1");
    EXPECT_NE(first->ifindex(), second->ifindex());
}

TEST_F(TunDeviceInNetns, RejectsNamesTheKernelCannotTake) {
    for (const std::string& name : {std::string(), std::string(IFNAMSIZ, 'x')}) {
        SCOPED_TRACE(name);
        const auto tun = TunDevice::open(name);
        ASSERT_FALSE(tun.has_value());
        EXPECT_NE(tun.error().find("1 to 15 characters"), std::string::npos) << tun.error();
    }
    const auto bad = TunDevice::open("bad name/");
    ASSERT_FALSE(bad.has_value());
    EXPECT_NE(bad.error().find("TUN bad name/: TUNSETIFF: "), std::string::npos) << bad.error();
}

TEST_F(TunDeviceInNetns, NameInUseIsAnError) {
    const auto first = TunDevice::open("cyphtest0");
    ASSERT_TRUE(first.has_value()) << first.error();
    const auto second = TunDevice::open("cyphtest0");
    ASSERT_FALSE(second.has_value());
    EXPECT_EQ(second.error(), "TUN cyphtest0: TUNSETIFF: Device or resource busy");
}

TEST_F(TunDeviceInNetns, InterfaceGoesAwayWithTheDevice) {
    {
        const auto tun = TunDevice::open("cyphtest0");
        ASSERT_TRUE(tun.has_value()) << tun.error();
        EXPECT_NE(if_nametoindex("cyphtest0"), 0U);
    }
    EXPECT_EQ(if_nametoindex("cyphtest0"), 0U);
}

TEST_F(TunDeviceInNetns, MoveKeepsTheInterface) {
    auto opened = TunDevice::open("cyphtest0");
    ASSERT_TRUE(opened.has_value()) << opened.error();
    const int fd = opened->fd();
    std::vector<TunDevice> owners;
    owners.push_back(std::move(*opened));
    opened = TunDevice::open("other0");  // the moved-from object is destroyed: closes nothing
    ASSERT_TRUE(opened.has_value()) << opened.error();
    EXPECT_EQ(owners.front().fd(), fd);
    EXPECT_EQ(owners.front().name(), "cyphtest0");
    EXPECT_NE(if_nametoindex("cyphtest0"), 0U);
}

TEST_F(TunDeviceInNetns, ReleaseHandsOverTheDescriptor) {
    int fd = -1;
    {
        auto tun = TunDevice::open("cyphtest0");
        ASSERT_TRUE(tun.has_value()) << tun.error();
        fd = tun->release();
        EXPECT_EQ(tun->fd(), -1);
    }
    EXPECT_NE(if_nametoindex("cyphtest0"), 0U);  // still open: we own it now
    ::close(fd);
    EXPECT_EQ(if_nametoindex("cyphtest0"), 0U);
}

TEST_F(TunDeviceInNetns, SetLinkUpAppliesTheMtu) {
    const auto tun = TunDevice::open("cyphtest0");
    ASSERT_TRUE(tun.has_value()) << tun.error();
    auto netlink = Netlink::open();
    ASSERT_TRUE(netlink.has_value()) << netlink.error();
    const auto up = netlink->set_link_up(tun->ifindex(), 1380);
    ASSERT_TRUE(up.has_value()) << up.error();
    auto state = testing::link_state("cyphtest0");
    ASSERT_TRUE(state.has_value());
    EXPECT_TRUE(state->up);
    EXPECT_EQ(state->mtu, 1380);

    // Without an MTU the MTU stays as it is.
    const auto again = netlink->set_link_up(tun->ifindex(), std::nullopt);
    ASSERT_TRUE(again.has_value()) << again.error();
    state = testing::link_state("cyphtest0");
    ASSERT_TRUE(state.has_value());
    EXPECT_EQ(state->mtu, 1380);
}

TEST_F(TunDeviceInNetns, SetLinkUpNamesTheFailure) {
    auto netlink = Netlink::open();
    ASSERT_TRUE(netlink.has_value()) << netlink.error();
    const auto missing = netlink->set_link_up(4242, std::nullopt);
    ASSERT_FALSE(missing.has_value());
    EXPECT_EQ(missing.error().rfind("set ifindex 4242 up: No such device", 0), 0U)
        << missing.error();

    const auto tun = TunDevice::open("cyphtest0");
    ASSERT_TRUE(tun.has_value()) << tun.error();
    const auto tiny = netlink->set_link_up(tun->ifindex(), 10);  // below the minimum MTU
    ASSERT_FALSE(tiny.has_value());
    EXPECT_EQ(tiny.error().rfind("set cyphtest0 up with mtu 10: Invalid argument", 0), 0U)
        << tiny.error();
}

TEST_F(TunDeviceInNetns, ReadWithNothingQueuedIsEagain) {
    const auto tun = TunDevice::open("cyphtest0");
    ASSERT_TRUE(tun.has_value()) << tun.error();
    std::array<std::byte, 2048> buffer{};
    const auto n = tun->read(buffer);
    ASSERT_FALSE(n.has_value());
    EXPECT_EQ(n.error(), EAGAIN);
}

// A TUN configured like the daemon's: up, one address, one route.
struct ConfiguredTun {
    TunDevice tun;
    Netlink netlink;
};
std::optional<ConfiguredTun> configured_tun(const IpAddress& local, const IpAddress& prefix,
                                            unsigned prefix_len) {
    auto tun = TunDevice::open("cyphtest0");
    auto netlink = Netlink::open();
    if (!tun || !netlink) {
        ADD_FAILURE() << "open failed";
        return std::nullopt;
    }
    const auto up = netlink->set_link_up(tun->ifindex(), 1400);
    const auto address = netlink->add_address(tun->ifindex(), local, local.is_v4() ? 32 : 128);
    const auto route = netlink->add_route(tun->ifindex(), prefix, prefix_len);
    if (!up || !address || !route) {
        ADD_FAILURE() << (!up ? up.error() : !address ? address.error() : route.error());
        return std::nullopt;
    }
    return ConfiguredTun{std::move(*tun), std::move(*netlink)};
}

// Sends a UDP datagram to `destination`, which a route sends into the TUN, and reads packets
// from the TUN until that datagram turns up (the kernel may send IPv6 housekeeping first).
void expect_datagram_arrives_on_tun(const IpAddress& local, const IpAddress& prefix,
                                    unsigned prefix_len, const IpAddress& destination) {
    const auto configured = configured_tun(local, prefix, prefix_len);
    ASSERT_TRUE(configured.has_value());
    const TunDevice& tun = configured->tun;

    const auto [to, to_len] = testing::to_sockaddr(destination, 4600);
    const UniqueFd sender(::socket(to.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    const std::string payload = "to the tunnel";
    ASSERT_EQ(::sendto(sender.get(), payload.data(), payload.size(), 0,
                       reinterpret_cast<const sockaddr*>(&to), to_len),
              static_cast<ssize_t>(payload.size()))
        << std::generic_category().message(errno);

    const std::size_t header = destination.is_v4() ? 20 : 40;  // no options or extension headers
    std::array<std::byte, 2048> buffer{};
    for (int packets = 0; packets < 20; ++packets) {
        ASSERT_TRUE(testing::readable(tun.fd(), milliseconds(2000))) << "no packet on the TUN";
        const auto n = tun.read(buffer);
        ASSERT_TRUE(n.has_value()) << std::generic_category().message(n.error());
        const auto packet = std::span(buffer).first(*n);
        const auto version = static_cast<unsigned>(packet[0]) >> 4U;
        if (version != (destination.is_v4() ? 4U : 6U) ||
            packet.size() != header + 8 + payload.size()) {
            continue;  // IPv6 router solicitation, MLD report, ...
        }
        const unsigned protocol = static_cast<unsigned>(packet[destination.is_v4() ? 9 : 6]);
        EXPECT_EQ(protocol, 17U);  // UDP
        if (destination.is_v4()) {
            EXPECT_TRUE(
                std::equal(packet.begin() + 12, packet.begin() + 16, local.v4().bytes.begin()));
            EXPECT_TRUE(std::equal(packet.begin() + 16, packet.begin() + 20,
                                   destination.v4().bytes.begin()));
        } else {
            EXPECT_TRUE(
                std::equal(packet.begin() + 8, packet.begin() + 24, local.v6().bytes.begin()));
            EXPECT_TRUE(std::equal(packet.begin() + 24, packet.begin() + 40,
                                   destination.v6().bytes.begin()));
        }
        EXPECT_EQ(to_string(packet.subspan(header + 8)), payload);
        return;
    }
    FAIL() << "the datagram never came out of the TUN";
}

TEST_F(TunDeviceInNetns, ReadsAnIpv4PacketRoutedIntoIt) {
    expect_datagram_arrives_on_tun(ip("10.77.0.1"), ip("10.77.1.0"), 24, ip("10.77.1.5"));
}

TEST_F(TunDeviceInNetns, ReadsAnIpv6PacketRoutedIntoIt) {
    expect_datagram_arrives_on_tun(ip("fd00:77::1"), ip("fd00:77:1::"), 64, ip("fd00:77:1::5"));
}

// The RFC 791 header checksum: one's complement of the one's complement sum of 16-bit words.
std::uint16_t ipv4_checksum(std::span<const std::byte> header) {
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i + 1 < header.size(); i += 2) {
        sum += (static_cast<std::uint32_t>(header[i]) << 8U) |
               static_cast<std::uint32_t>(header[i + 1]);
    }
    while ((sum >> 16U) != 0) {
        sum = (sum & 0xFFFFU) + (sum >> 16U);
    }
    return static_cast<std::uint16_t>(~sum & 0xFFFFU);
}

TEST_F(TunDeviceInNetns, WrittenPacketReachesALocalSocket) {
    const IpAddress local = ip("10.77.0.1");
    const IpAddress remote = ip("10.77.1.5");
    const auto configured = configured_tun(local, ip("10.77.1.0"), 24);
    ASSERT_TRUE(configured.has_value());

    const auto [bind_to, bind_len] = testing::to_sockaddr(local, 0);
    const UniqueFd receiver(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    ASSERT_EQ(::bind(receiver.get(), reinterpret_cast<const sockaddr*>(&bind_to), bind_len), 0);
    sockaddr_in bound{};
    socklen_t bound_len = sizeof bound;
    ASSERT_EQ(::getsockname(receiver.get(), reinterpret_cast<sockaddr*>(&bound), &bound_len), 0);
    const std::uint16_t port = ntohs(bound.sin_port);

    const std::string payload = "from the tunnel";
    std::vector<std::byte> packet(20 + 8 + payload.size());
    const auto header = std::span(packet).first<20>();
    store_u8<0>(header, 0x45);  // version 4, 5 words of header
    store_be16<2>(header, static_cast<std::uint16_t>(packet.size()));
    store_be16<6>(header, 0x4000);  // don't fragment
    store_u8<8>(header, 64);        // TTL
    store_u8<9>(header, 17);        // UDP
    std::copy(remote.v4().bytes.begin(), remote.v4().bytes.end(), packet.begin() + 12);
    std::copy(local.v4().bytes.begin(), local.v4().bytes.end(), packet.begin() + 16);
    store_be16<10>(header, ipv4_checksum(header));
    const auto udp = std::span(packet).subspan<20, 8>();
    store_be16<0>(udp, 5000);
    store_be16<2>(udp, port);
    store_be16<4>(udp, static_cast<std::uint16_t>(8 + payload.size()));  // checksum 0: none
    const auto body = as_bytes(payload);
    std::copy(body.begin(), body.end(), packet.begin() + 28);

    const auto written = configured->tun.write(packet);
    ASSERT_TRUE(written.has_value()) << std::generic_category().message(written.error());

    ASSERT_TRUE(testing::readable(receiver.get(), milliseconds(2000))) << "nothing delivered";
    std::array<char, 256> received{};
    sockaddr_in from{};
    socklen_t from_len = sizeof from;
    const ssize_t n = ::recvfrom(receiver.get(), received.data(), received.size(), 0,
                                 reinterpret_cast<sockaddr*>(&from), &from_len);
    ASSERT_EQ(n, static_cast<ssize_t>(payload.size()));
    EXPECT_EQ(std::string(received.data(), payload.size()), payload);
    EXPECT_EQ(ntohs(from.sin_port), 5000);
    EXPECT_EQ(std::memcmp(&from.sin_addr, remote.v4().bytes.data(), 4), 0);
}

TEST_F(TunDeviceInNetns, WritingGarbageIsAnErrno) {
    const auto tun = TunDevice::open("cyphtest0");
    ASSERT_TRUE(tun.has_value()) << tun.error();
    const std::array<std::byte, 4> garbage{std::byte{0xFF}, std::byte{1}, std::byte{2},
                                           std::byte{3}};
    const auto written = tun->write(garbage);
    ASSERT_FALSE(written.has_value());
    EXPECT_NE(written.error(), 0);
}

}  // namespace
}  // namespace cyphonic::sys
