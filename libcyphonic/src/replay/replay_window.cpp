#include "cyphonic/replay/replay_window.hpp"

namespace cyphonic::replay {

std::string_view to_string(ReplayVerdict v) noexcept {
    switch (v) {
        case ReplayVerdict::Accept:
            return "accept";
        case ReplayVerdict::Zero:
            return "zero_sequence";
        case ReplayVerdict::Replayed:
            return "replayed";
        case ReplayVerdict::TooOld:
            return "too_old";
    }
    return "unknown";
}

ReplayVerdict ReplayWindow::check(std::uint32_t sequence) const noexcept {
    if (sequence == 0) {
        return ReplayVerdict::Zero;
    }
    if (sequence > highest_) {
        return ReplayVerdict::Accept;
    }
    if (highest_ - sequence >= kSize) {
        return ReplayVerdict::TooOld;
    }
    if ((bitmap_[word_index(sequence)] & bit(sequence)) != 0) {
        return ReplayVerdict::Replayed;
    }
    return ReplayVerdict::Accept;
}

ReplayVerdict ReplayWindow::update(std::uint32_t sequence) noexcept {
    const ReplayVerdict verdict = check(sequence);
    switch (verdict) {
        case ReplayVerdict::Accept:
            ++counters_.accepted;
            break;
        case ReplayVerdict::Zero:
            ++counters_.zero;
            return verdict;
        case ReplayVerdict::Replayed:
            ++counters_.replayed;
            return verdict;
        case ReplayVerdict::TooOld:
            ++counters_.too_old;
            return verdict;
    }
    if (sequence > highest_) {
        // Clear the words the window slides into; they may still hold bits of numbers that
        // have fallen out of it.
        const std::uint32_t from_word = highest_ / kBitsPerWord;
        const std::uint32_t to_word = sequence / kBitsPerWord;
        if (to_word - from_word >= kWords) {
            bitmap_.fill(0);
        } else {
            for (std::uint32_t w = from_word + 1; w <= to_word; ++w) {
                bitmap_[w % kWords] = 0;
            }
        }
        highest_ = sequence;
    }
    bitmap_[word_index(sequence)] |= bit(sequence);
    return verdict;
}

std::array<std::byte, ReplayWindow::kStateSize> ReplayWindow::save() const noexcept {
    static_assert(kStateSize == 4 + 8 * kWords);
    std::array<std::byte, kStateSize> out{};
    std::size_t pos = 0;
    for (int shift = 24; shift >= 0; shift -= 8) {
        out[pos++] = static_cast<std::byte>((highest_ >> shift) & 0xFFU);
    }
    for (const std::uint64_t word : bitmap_) {
        for (int shift = 56; shift >= 0; shift -= 8) {
            out[pos++] = static_cast<std::byte>((word >> shift) & 0xFFU);
        }
    }
    return out;
}

bool ReplayWindow::restore(std::span<const std::byte> state) noexcept {
    if (state.size() != kStateSize) {
        return false;
    }
    std::size_t pos = 0;
    std::uint32_t highest = 0;
    for (int i = 0; i < 4; ++i) {
        highest = (highest << 8U) | static_cast<std::uint32_t>(state[pos++]);
    }
    std::array<std::uint64_t, kWords> bitmap{};
    for (auto& word : bitmap) {
        for (int i = 0; i < 8; ++i) {
            word = (word << 8U) | static_cast<std::uint64_t>(state[pos++]);
        }
    }
    highest_ = highest;
    bitmap_ = bitmap;
    return true;
}

void ReplayWindow::reset() noexcept {
    bitmap_.fill(0);
    highest_ = 0;
}

}  // namespace cyphonic::replay
