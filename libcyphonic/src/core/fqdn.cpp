#include "cyphonic/core/fqdn.hpp"

namespace cyphonic {

std::string_view to_string(FqdnError e) noexcept {
    switch (e) {
        case FqdnError::Empty:
            return "empty name";
        case FqdnError::TooLong:
            return "name longer than 253 bytes";
        case FqdnError::EmptyLabel:
            return "empty label (leading, trailing or double dot)";
        case FqdnError::LabelTooLong:
            return "label longer than 63 bytes";
        case FqdnError::BadCharacter:
            return "character other than a-z, 0-9, '-' or '.'";
        case FqdnError::HyphenAtEdge:
            return "label starts or ends with '-'";
    }
    return "unknown fqdn error";
}

Expected<void, FqdnError> Fqdn::validate(std::string_view text) noexcept {
    static constexpr std::size_t kMaxName = 253;
    static constexpr std::size_t kMaxLabel = 63;
    if (text.empty()) {
        return fail(FqdnError::Empty);
    }
    if (text.size() > kMaxName) {
        return fail(FqdnError::TooLong);
    }
    std::size_t label_start = 0;
    for (std::size_t i = 0; i <= text.size(); ++i) {
        if (i == text.size() || text[i] == '.') {
            const std::size_t len = i - label_start;
            if (len == 0) {
                return fail(FqdnError::EmptyLabel);
            }
            if (len > kMaxLabel) {
                return fail(FqdnError::LabelTooLong);
            }
            if (text[label_start] == '-' || text[i - 1] == '-') {
                return fail(FqdnError::HyphenAtEdge);
            }
            label_start = i + 1;
            continue;
        }
        const char c = text[i];
        const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
        if (!ok) {
            return fail(FqdnError::BadCharacter);
        }
    }
    return {};
}

Expected<Fqdn, FqdnError> Fqdn::parse(std::string_view text) {
    if (auto ok = validate(text); !ok.has_value()) {
        return fail(ok.error());
    }
    return Fqdn(std::string(text));
}

bool Fqdn::is_within(std::string_view domain) const noexcept {
    if (name_ == domain) {
        return true;
    }
    return name_.size() > domain.size() + 1 && name_.ends_with(domain) &&
           name_[name_.size() - domain.size() - 1] == '.';
}

}  // namespace cyphonic
