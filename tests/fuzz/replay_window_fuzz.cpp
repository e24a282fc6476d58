// The anti-replay window against a naive model: a set of every accepted number and the highest.
// Input: a sequence of 4-byte big-endian Sequence Numbers; each is fed to both.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>

#include "cyphonic/replay/replay_window.hpp"

using cyphonic::replay::ReplayVerdict;
using cyphonic::replay::ReplayWindow;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    ReplayWindow window;
    std::set<std::uint32_t> seen;
    std::uint32_t highest = 0;
    for (std::size_t i = 0; i + 4 <= size; i += 4) {
        // Numbers near the current highest exercise the window far more than random ones: the
        // top bit picks "relative to highest" (signed 15-bit offset) or "absolute".
        const std::uint32_t raw = (std::uint32_t{data[i]} << 24U) |
                                  (std::uint32_t{data[i + 1]} << 16U) |
                                  (std::uint32_t{data[i + 2]} << 8U) | std::uint32_t{data[i + 3]};
        std::uint32_t s = raw;
        if ((raw & 0x80000000U) != 0) {
            const auto offset = static_cast<std::int32_t>(raw & 0x7FFFU) - 0x4000;
            s = static_cast<std::uint32_t>(static_cast<std::int64_t>(highest) + offset);
        }
        ReplayVerdict expected = ReplayVerdict::Accept;
        if (s == 0) {
            expected = ReplayVerdict::Zero;
        } else if (s <= highest && highest - s >= ReplayWindow::kSize) {
            expected = ReplayVerdict::TooOld;
        } else if (s <= highest && seen.contains(s)) {
            expected = ReplayVerdict::Replayed;
        }
        if (window.update(s) != expected) {
            std::abort();
        }
        if (expected == ReplayVerdict::Accept) {
            seen.insert(s);
            if (s > highest) {
                highest = s;
            }
        }
    }
    return 0;
}
