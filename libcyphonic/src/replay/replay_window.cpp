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

void ReplayWindow::reset() noexcept {
    bitmap_.fill(0);
    highest_ = 0;
}

}  // namespace cyphonic::replay
