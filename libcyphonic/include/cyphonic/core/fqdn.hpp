#pragma once

#include <compare>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "cyphonic/core/expected.hpp"

namespace cyphonic {

enum class FqdnError {
    Empty,         // no characters at all
    TooLong,       // more than 253 bytes
    EmptyLabel,    // "a..b", leading dot or trailing dot
    LabelTooLong,  // a label over 63 bytes
    BadCharacter,  // anything but a-z, 0-9, '-' and '.' (upper case is rejected, not folded)
    HyphenAtEdge,  // a label starting or ending with '-'
};
[[nodiscard]] std::string_view to_string(FqdnError e) noexcept;

// A validated overlay name (PROTOCOL.md §0): ASCII lower case, labels of 1–63 letters, digits
// and hyphens not at either end, joined by dots, no trailing dot, 1–253 bytes.
class Fqdn {
public:
    [[nodiscard]] static Expected<Fqdn, FqdnError> parse(std::string_view text);
    [[nodiscard]] static Expected<void, FqdnError> validate(std::string_view text) noexcept;

    [[nodiscard]] const std::string& str() const noexcept { return name_; }
    // True when this name is `domain` or lies below it ("a.example.net" in "example.net").
    [[nodiscard]] bool is_within(std::string_view domain) const noexcept;

    friend bool operator==(const Fqdn&, const Fqdn&) = default;
    friend auto operator<=>(const Fqdn&, const Fqdn&) = default;

private:
    explicit Fqdn(std::string name) : name_(std::move(name)) {}
    std::string name_;
};

}  // namespace cyphonic

template <>
struct fmt::formatter<cyphonic::Fqdn> : fmt::formatter<std::string_view> {
    template <class Ctx>
    auto format(const cyphonic::Fqdn& f, Ctx& ctx) const {
        return fmt::formatter<std::string_view>::format(f.str(), ctx);
    }
};
