#pragma once

#include <utility>

#include <tl/expected.hpp>

namespace cyphonic {

// The result type of every fallible call in libcyphonic (STYLE.md §3). Only has_value(), *r,
// r->, error() and and_then are used, so a move to std::expected stays a one-line change.
template <class T, class E>
using Expected = tl::expected<T, E>;

template <class E>
[[nodiscard]] constexpr tl::unexpected<E> fail(E error) {
    return tl::unexpected<E>(std::move(error));
}

}  // namespace cyphonic
