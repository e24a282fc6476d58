#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace cyphonic::replay {

// What the window says of a Sequence Number (PROTOCOL.md §5.4, D8).
enum class ReplayVerdict : std::uint8_t {
    Accept,    // new: inside the window and not seen, or above the highest seen
    Zero,      // Sequence Number 0 is never sent (D18)
    Replayed,  // seen before inside the window
    TooOld,    // highest − s ≥ 2048: can no longer be told apart from a replay
};
[[nodiscard]] std::string_view to_string(ReplayVerdict v) noexcept;

struct ReplayCounters {
    std::uint64_t accepted = 0;
    std::uint64_t zero = 0;
    std::uint64_t replayed = 0;
    std::uint64_t too_old = 0;

    ReplayCounters& operator+=(const ReplayCounters& o) noexcept {
        accepted += o.accepted;
        zero += o.zero;
        replayed += o.replayed;
        too_old += o.too_old;
        return *this;
    }
    friend bool operator==(const ReplayCounters&, const ReplayCounters&) = default;
};

// The anti-replay window of one key and one sender side (§5.4): the highest accepted number H
// (starting at 0) and a bitmap of the 2048 numbers up to and including H.
//
// Use it only after the MAC/tag verified: `check()` before the costly part if wanted, then
// `update()` (check + mark) once the message is authentic. Not thread-safe; O(1) per call
// apart from a slide, which clears at most 33 words.
class ReplayWindow {
public:
    static constexpr std::uint32_t kSize = 2048;

    // The verdict without changing anything.
    [[nodiscard]] ReplayVerdict check(std::uint32_t sequence) const noexcept;
    // The verdict; on Accept the number is marked seen (and H slides forward). Counts the
    // verdict.
    ReplayVerdict update(std::uint32_t sequence) noexcept;

    [[nodiscard]] std::uint32_t highest() const noexcept { return highest_; }
    [[nodiscard]] const ReplayCounters& counters() const noexcept { return counters_; }
    // Back to the state of a new key (H = 0, nothing seen); counters are kept.
    void reset() noexcept;

    // The window as bytes (H, then the ring, big-endian), for state shared through storage
    // (NMS replicas, C10). restore() takes what save() wrote; false (and the window unchanged)
    // for anything else.
    static constexpr std::size_t kStateSize = 4 + 8 * 33;
    [[nodiscard]] std::array<std::byte, kStateSize> save() const noexcept;
    bool restore(std::span<const std::byte> state) noexcept;

private:
    static constexpr std::uint32_t kBitsPerWord = 64;
    // One spare word: the 2048 numbers of the window can straddle 33 words.
    static constexpr std::size_t kWords = kSize / kBitsPerWord + 1;

    [[nodiscard]] static std::size_t word_index(std::uint32_t s) noexcept {
        return (s / kBitsPerWord) % kWords;
    }
    [[nodiscard]] static std::uint64_t bit(std::uint32_t s) noexcept {
        return std::uint64_t{1} << (s % kBitsPerWord);
    }

    std::array<std::uint64_t, kWords> bitmap_{};
    std::uint32_t highest_ = 0;
    ReplayCounters counters_;
};

}  // namespace cyphonic::replay
