#include "cyphonic/signaling/path_id.hpp"

#include <gtest/gtest.h>

namespace cyphonic::signaling {
namespace {

Fqdn fqdn(std::string_view s) {
    auto f = Fqdn::parse(s);
    EXPECT_TRUE(f.has_value()) << s;
    return *f;
}

// PROTOCOL.md §11.
TEST(PathId, MatchesProtocolTestVector) {
    EXPECT_EQ(make_path_id(fqdn("alice.example.net"), fqdn("bob.example.net")).to_hex(),
              "dd5fcb64b9089d1d47787370c4c08b02");
}

TEST(PathId, DependsOnDirection) {
    const auto a = fqdn("alice.example.net");
    const auto b = fqdn("bob.example.net");
    EXPECT_NE(make_path_id(a, b), make_path_id(b, a));
    EXPECT_EQ(make_path_id(a, b), make_path_id(a, b));
}

TEST(PathId, SeparatorKeepsNamePairsApart) {
    // Without the 0x00 separator "ab" ‖ "c" and "a" ‖ "bc" would hash alike.
    EXPECT_NE(make_path_id(fqdn("ab"), fqdn("c")), make_path_id(fqdn("a"), fqdn("bc")));
}

}  // namespace
}  // namespace cyphonic::signaling
