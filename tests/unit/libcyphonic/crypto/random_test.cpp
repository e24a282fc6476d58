#include "cyphonic/crypto/random.hpp"

#include <algorithm>
#include <set>

#include <gtest/gtest.h>

#include "cyphonic/core/bytes.hpp"
#include "cyphonic/core/ids.hpp"

namespace cyphonic::crypto {
namespace {

TEST(RandomBytes, ProducesDifferentOutputsOnEachCall) {
    Bytes a(32);
    Bytes b(32);
    random_bytes(a);
    random_bytes(b);
    EXPECT_NE(a, b);
    EXPECT_NE(a, Bytes(32));
}

TEST(RandomBytes, AcceptsAnEmptyBuffer) {
    EXPECT_NO_THROW(random_bytes(MutableByteView{}));
}

TEST(RandomBytes, FillsLargeBuffersCompletely) {
    Bytes big(1 << 16);
    random_bytes(big);
    // 64 KiB of CSPRNG output containing no zero-free 4 KiB tail is astronomically unlikely;
    // an unfilled tail would be all zero.
    const auto tail = std::span(big).last(4096);
    EXPECT_TRUE(
        std::any_of(tail.begin(), tail.end(), [](std::byte b) { return b != std::byte{0}; }));
}

TEST(RandomKey, ProducesDifferentKeys) {
    const Key a = random_key();
    const Key b = random_key();
    EXPECT_FALSE(std::equal(a.view().begin(), a.view().end(), b.view().begin()));
}

TEST(RandomU32, ProducesDifferentValues) {
    std::set<std::uint32_t> seen;
    for (int i = 0; i < 16; ++i) {
        seen.insert(random_u32());
    }
    EXPECT_GT(seen.size(), 1U);
}

TEST(RandomId, ProducesDifferentIds) {
    EXPECT_NE(random_id<PathIdTag>(), random_id<PathIdTag>());
    EXPECT_FALSE(random_id<NodeIdTag>().is_zero());
}

}  // namespace
}  // namespace cyphonic::crypto
