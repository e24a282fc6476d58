#pragma once

#include <unistd.h>

#include <utility>

namespace cyphonic::sys {

// Owns one file descriptor and closes it in the destructor (STYLE.md §5). Move-only; -1 means
// "none".
class UniqueFd {
public:
    UniqueFd() noexcept = default;
    explicit UniqueFd(int fd) noexcept : fd_(fd) {}
    ~UniqueFd() { reset(); }
    UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept {
        if (this != &other) {
            reset(other.release());
        }
        return *this;
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;

    [[nodiscard]] int get() const noexcept { return fd_; }
    [[nodiscard]] bool valid() const noexcept { return fd_ >= 0; }
    // Gives up ownership without closing; the caller now owns the descriptor.
    [[nodiscard]] int release() noexcept { return std::exchange(fd_, -1); }
    void reset(int fd = -1) noexcept {
        if (fd_ >= 0) {
            ::close(fd_);  // nothing useful to do on EINTR/EIO: the descriptor is gone either way
        }
        fd_ = fd;
    }

private:
    int fd_ = -1;
};

}  // namespace cyphonic::sys
