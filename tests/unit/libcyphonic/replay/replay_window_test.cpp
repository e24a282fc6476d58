#include "cyphonic/replay/replay_window.hpp"

#include <cstdint>
#include <random>
#include <set>

#include <gtest/gtest.h>

namespace cyphonic::replay {
namespace {

TEST(ReplayWindow, RejectsSequenceZero) {
    ReplayWindow w;
    EXPECT_EQ(w.update(0), ReplayVerdict::Zero);
    EXPECT_EQ(w.counters().zero, 1U);
    EXPECT_EQ(w.highest(), 0U);
}

TEST(ReplayWindow, AcceptsIncreasingNumbersOnce) {
    ReplayWindow w;
    for (std::uint32_t s = 1; s <= 5000; ++s) {
        ASSERT_EQ(w.update(s), ReplayVerdict::Accept) << s;
        ASSERT_EQ(w.update(s), ReplayVerdict::Replayed) << s;
    }
    EXPECT_EQ(w.counters().accepted, 5000U);
    EXPECT_EQ(w.counters().replayed, 5000U);
}

TEST(ReplayWindow, AcceptsOutOfOrderInsideWindow) {
    ReplayWindow w;
    ASSERT_EQ(w.update(3000), ReplayVerdict::Accept);
    // Every number in (3000 − 2048, 3000) is new and accepted exactly once.
    for (std::uint32_t s = 2999; s > 3000 - ReplayWindow::kSize; --s) {
        ASSERT_EQ(w.update(s), ReplayVerdict::Accept) << s;
    }
    for (std::uint32_t s = 2999; s > 3000 - ReplayWindow::kSize; --s) {
        ASSERT_EQ(w.update(s), ReplayVerdict::Replayed) << s;
    }
}

TEST(ReplayWindow, RejectsCounterOlderThanWindow) {
    ReplayWindow w;
    ASSERT_EQ(w.update(5000), ReplayVerdict::Accept);
    EXPECT_EQ(w.check(5000 - ReplayWindow::kSize + 1), ReplayVerdict::Accept);
    EXPECT_EQ(w.update(5000 - ReplayWindow::kSize), ReplayVerdict::TooOld);
    EXPECT_EQ(w.update(1), ReplayVerdict::TooOld);
    EXPECT_EQ(w.counters().too_old, 2U);
}

TEST(ReplayWindow, CheckDoesNotMark) {
    ReplayWindow w;
    EXPECT_EQ(w.check(7), ReplayVerdict::Accept);
    EXPECT_EQ(w.check(7), ReplayVerdict::Accept);
    EXPECT_EQ(w.highest(), 0U);
    EXPECT_EQ(w.update(7), ReplayVerdict::Accept);
    EXPECT_EQ(w.check(7), ReplayVerdict::Replayed);
}

TEST(ReplayWindow, LargeJumpForgetsEverything) {
    ReplayWindow w;
    for (std::uint32_t s = 1; s <= 100; ++s) {
        ASSERT_EQ(w.update(s), ReplayVerdict::Accept);
    }
    ASSERT_EQ(w.update(1'000'000), ReplayVerdict::Accept);
    EXPECT_EQ(w.update(100), ReplayVerdict::TooOld);
    // Numbers just inside the new window were never seen, even where the ring reuses words.
    for (std::uint32_t s = 1'000'000 - ReplayWindow::kSize + 1; s < 1'000'000; ++s) {
        ASSERT_EQ(w.check(s), ReplayVerdict::Accept) << s;
    }
}

TEST(ReplayWindow, SlideClearsStaleBitsOfReusedWords) {
    // Mark every number that fills the whole ring, then slide a few words: the numbers inside
    // the new window that were never sent share ring words with old, marked numbers and must
    // still read as new.
    ReplayWindow w;
    constexpr std::uint32_t kRing = 2112;  // 33 words of 64
    for (std::uint32_t s = 1; s <= kRing; ++s) {
        ASSERT_EQ(w.update(s), ReplayVerdict::Accept);
    }
    for (const std::uint32_t jump : {64U * 5, 64U * 17 + 3, 64U * 32}) {
        const std::uint32_t top = w.highest() + jump;
        const std::uint32_t before = w.highest();
        ASSERT_EQ(w.update(top), ReplayVerdict::Accept);
        for (std::uint32_t s = before + 1; s < top; ++s) {
            ASSERT_EQ(w.check(s), ReplayVerdict::Accept) << "jump=" << jump << " s=" << s;
        }
        for (std::uint32_t s = top - ReplayWindow::kSize + 1; s <= before; ++s) {
            ASSERT_EQ(w.check(s), ReplayVerdict::Replayed) << "jump=" << jump << " s=" << s;
        }
        for (std::uint32_t s = before + 1; s < top; ++s) {
            ASSERT_EQ(w.update(s), ReplayVerdict::Accept);
        }
    }
}

TEST(ReplayWindow, HandlesTopOfCounterSpace) {
    ReplayWindow w;
    ASSERT_EQ(w.update(UINT32_MAX), ReplayVerdict::Accept);
    EXPECT_EQ(w.update(UINT32_MAX), ReplayVerdict::Replayed);
    EXPECT_EQ(w.update(UINT32_MAX - 1), ReplayVerdict::Accept);
    EXPECT_EQ(w.update(UINT32_MAX - ReplayWindow::kSize), ReplayVerdict::TooOld);
}

TEST(ReplayWindow, ResetForgetsNumbersButKeepsCounters) {
    ReplayWindow w;
    ASSERT_EQ(w.update(10), ReplayVerdict::Accept);
    w.reset();
    EXPECT_EQ(w.highest(), 0U);
    EXPECT_EQ(w.update(10), ReplayVerdict::Accept);
    EXPECT_EQ(w.counters().accepted, 2U);
}

TEST(ReplayWindow, SaveAndRestoreKeepEveryVerdict) {
    ReplayWindow w;
    for (std::uint32_t s : {5000U, 4999U, 3500U, 2953U, 4100U}) {
        ASSERT_EQ(w.update(s), ReplayVerdict::Accept);
    }
    ReplayWindow copy;
    ASSERT_TRUE(copy.restore(w.save()));
    EXPECT_EQ(copy.highest(), 5000U);
    for (std::uint32_t s = 1; s <= 6000; ++s) {
        ASSERT_EQ(copy.check(s), w.check(s)) << s;
    }
}

TEST(ReplayWindow, RestoreRejectsWrongSize) {
    ReplayWindow w;
    ASSERT_EQ(w.update(9), ReplayVerdict::Accept);
    const std::array<std::byte, 10> junk{};
    EXPECT_FALSE(w.restore(junk));
    EXPECT_EQ(w.highest(), 9U);
}

// A naive model (a set of accepted numbers and the highest) must agree on random traffic that
// mixes new, reordered, replayed and stale numbers.
TEST(ReplayWindow, AgreesWithNaiveModel) {
    std::mt19937 rng(20261123);
    ReplayWindow w;
    std::set<std::uint32_t> seen;
    std::uint32_t highest = 0;
    for (int i = 0; i < 200'000; ++i) {
        std::uint32_t s = 0;
        switch (rng() % 4) {
            case 0:
                s = highest + 1 + static_cast<std::uint32_t>(rng() % 300);
                break;
            case 1:
                s = highest - std::min<std::uint32_t>(highest, rng() % 2100);
                break;
            case 2:
                s = seen.empty()
                        ? 0
                        : *seen.lower_bound(static_cast<std::uint32_t>(rng() % (highest + 1)));
                break;
            default:
                s = highest - std::min<std::uint32_t>(highest, rng() % 4000);
                break;
        }
        ReplayVerdict expected = ReplayVerdict::Accept;
        if (s == 0) {
            expected = ReplayVerdict::Zero;
        } else if (s > highest) {
            expected = ReplayVerdict::Accept;
        } else if (highest - s >= ReplayWindow::kSize) {
            expected = ReplayVerdict::TooOld;
        } else if (seen.contains(s)) {
            expected = ReplayVerdict::Replayed;
        }
        ASSERT_EQ(w.update(s), expected) << "i=" << i << " s=" << s << " highest=" << highest;
        if (expected == ReplayVerdict::Accept) {
            seen.insert(s);
            highest = std::max(highest, s);
        }
    }
}

}  // namespace
}  // namespace cyphonic::replay
