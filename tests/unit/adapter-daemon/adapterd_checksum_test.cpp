// Completing TCP/UDP checksums that a virtual NIC left to offload (adapter_plane.cpp): checked
// with the receiver's rule — the ones' complement sum over pseudo-header and segment, checksum
// included, is 0xffff — on IPv4 and IPv6, TCP and UDP, odd and even lengths.
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "adapter_plane.hpp"

namespace cyphonic::adapterd {
namespace {

std::uint16_t fold(std::uint32_t sum) {
    while ((sum >> 16U) != 0) {
        sum = (sum & 0xffffU) + (sum >> 16U);
    }
    return static_cast<std::uint16_t>(sum);
}

std::uint32_t add_bytes(const std::vector<std::uint8_t>& p, std::size_t from, std::size_t to) {
    std::uint32_t sum = 0;
    for (std::size_t i = from; i < to; i += 2) {
        const std::uint32_t hi = p[i];
        const std::uint32_t lo = i + 1 < to ? p[i + 1] : 0;
        sum += (hi << 8U) | lo;
    }
    return sum;
}

// The receiver's check of RFC 1071 / RFC 8200 §8.1.
bool verifies(const std::vector<std::uint8_t>& p) {
    const bool v4 = (p[0] >> 4U) == 4;
    const std::size_t l4 = v4 ? (p[0] & 0x0fU) * 4U : 40U;
    const unsigned proto = v4 ? p[9] : p[6];
    std::uint32_t sum = v4 ? add_bytes(p, 12, 20) : add_bytes(p, 8, 40);
    sum += proto + static_cast<std::uint32_t>(p.size() - l4);
    sum += add_bytes(p, l4, p.size());
    return fold(sum) == 0xffff;
}

std::vector<std::uint8_t> packet(bool v6, unsigned proto, std::size_t payload) {
    const std::size_t l4_header = proto == 6 ? 20 : 8;
    const std::size_t ip_header = v6 ? 40 : 20;
    std::vector<std::uint8_t> p(ip_header + l4_header + payload);
    const std::size_t total = p.size();
    if (v6) {
        p[0] = 0x60;
        p[4] = static_cast<std::uint8_t>((total - 40) >> 8U);
        p[5] = static_cast<std::uint8_t>(total - 40);
        p[6] = static_cast<std::uint8_t>(proto);
        p[7] = 64;
        p[8] = 0xfd;
        p[9] = 0x99;
        p[23] = 3;  // fd99::3
        p[24] = 0xfd;
        p[25] = 0x99;
        p[39] = 1;  // fd99::1
    } else {
        p[0] = 0x45;
        p[2] = static_cast<std::uint8_t>(total >> 8U);
        p[3] = static_cast<std::uint8_t>(total);
        p[8] = 64;
        p[9] = static_cast<std::uint8_t>(proto);
        const std::uint8_t src[] = {10, 99, 0, 3};
        const std::uint8_t dst[] = {10, 99, 0, 1};
        std::copy(std::begin(src), std::end(src), p.begin() + 12);
        std::copy(std::begin(dst), std::end(dst), p.begin() + 16);
    }
    const std::size_t l4 = ip_header;
    p[l4] = 0x9c;  // source port 40000
    p[l4 + 1] = 0x40;
    p[l4 + 3] = 80;
    if (proto == 17) {
        p[l4 + 4] = static_cast<std::uint8_t>((total - l4) >> 8U);
        p[l4 + 5] = static_cast<std::uint8_t>(total - l4);
    } else {
        p[l4 + 12] = 0x50;
    }
    for (std::size_t i = l4 + l4_header; i < total; ++i) {
        p[i] = static_cast<std::uint8_t>(i * 7 + 1);
    }
    // What a sender leaves for offload: the pseudo-header sum only, or garbage.
    const std::size_t field = l4 + (proto == 6 ? 16 : 6);
    p[field] = 0x12;
    p[field + 1] = 0x34;
    return p;
}

MutableByteView view(std::vector<std::uint8_t>& p) {
    return {reinterpret_cast<std::byte*>(p.data()), p.size()};  // NOLINT
}

TEST(CompleteChecksum, AllFamiliesProtocolsAndParities) {
    for (const bool v6 : {false, true}) {
        for (const unsigned proto : {6U, 17U}) {
            for (const std::size_t payload : {0U, 1U, 2U, 1331U, 1332U}) {
                auto p = packet(v6, proto, payload);
                EXPECT_FALSE(verifies(p)) << "the test packet must start out wrong";
                complete_l4_checksum(view(p));
                EXPECT_TRUE(verifies(p))
                    << "v6=" << v6 << " proto=" << proto << " payload=" << payload;
            }
        }
    }
}

TEST(CompleteChecksum, LeavesOtherPacketsAlone) {
    auto icmp = packet(false, 17, 10);
    icmp[9] = 1;  // ICMP: its checksum is never offloaded
    const auto before = icmp;
    complete_l4_checksum(view(icmp));
    EXPECT_EQ(icmp, before);
    std::vector<std::uint8_t> tiny{0x45, 0, 0};
    complete_l4_checksum(view(tiny));
    EXPECT_EQ(tiny, (std::vector<std::uint8_t>{0x45, 0, 0}));
    auto cut = packet(false, 6, 0);
    cut.resize(30);  // TCP header cut before the checksum field
    const auto cut_before = cut;
    complete_l4_checksum(view(cut));
    EXPECT_EQ(cut, cut_before);
}

}  // namespace
}  // namespace cyphonic::adapterd
