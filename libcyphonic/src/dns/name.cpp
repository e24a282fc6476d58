#include "name.hpp"

namespace cyphonic::dns::detail {

namespace {

constexpr std::uint8_t kPointerBits = 0xC0;
constexpr std::uint8_t kLabelTypeMask = 0xC0;

// Walks the labels of the name at `pos`, calling `on_label(ByteView)` for each non-empty label
// in order. Shared by read_name and skip_name so both apply the same rules.
template <class OnLabel>
Expected<std::size_t, DnsError> walk_name(ByteView packet, std::size_t& pos, OnLabel on_label) {
    std::size_t cursor = pos;
    // Start of the run of labels being read; a pointer must land below it. Each jump lowers
    // it, so the walk takes at most `packet.size()` jumps even without the length limit.
    std::size_t run_start = pos;
    std::size_t end_of_name = 0;  // where the name ends in place: set at the first pointer
    bool jumped = false;
    std::size_t wire_length = 0;
    for (;;) {
        if (cursor >= packet.size()) {
            return fail(DnsError::Truncated);
        }
        const auto length = static_cast<std::uint8_t>(packet[cursor]);
        if ((length & kLabelTypeMask) == kPointerBits) {
            if (cursor + 1 >= packet.size()) {
                return fail(DnsError::Truncated);
            }
            const std::size_t target = (static_cast<std::size_t>(length & 0x3FU) << 8U) |
                                       static_cast<std::size_t>(packet[cursor + 1]);
            if (target >= packet.size() || target > cursor) {
                return fail(DnsError::BadPointer);
            }
            if (target >= run_start) {
                return fail(DnsError::PointerLoop);
            }
            if (!jumped) {
                end_of_name = cursor + 2;
                jumped = true;
            }
            run_start = target;
            cursor = target;
            continue;
        }
        if ((length & kLabelTypeMask) != 0) {
            return fail(DnsError::BadLabel);  // 0x40 and 0x80: extended label types (RFC 6891)
        }
        if (length == 0) {
            pos = jumped ? end_of_name : cursor + 1;
            return wire_length + 1;
        }
        if (length > packet.size() - cursor - 1) {
            return fail(DnsError::Truncated);
        }
        wire_length += 1U + length;
        if (wire_length + 1 > kMaxNameLength) {
            return fail(DnsError::NameTooLong);  // + 1: the root label still has to follow
        }
        on_label(packet.subspan(cursor + 1, length));
        cursor += 1U + length;
    }
}

}  // namespace

void append_label_text(ByteView label, std::string& text) {
    constexpr auto kDigits = "0123456789";
    for (const std::byte b : label) {
        const auto c = static_cast<unsigned char>(b);
        if (c >= 'A' && c <= 'Z') {
            text.push_back(static_cast<char>(c - 'A' + 'a'));
        } else if (c == '.' || c == '\\') {
            text.push_back('\\');
            text.push_back(static_cast<char>(c));
        } else if (c < 0x21 || c > 0x7E) {
            text.push_back('\\');  // \DDD, three decimal digits (RFC 1035 §5.1)
            text.push_back(kDigits[c / 100U]);
            text.push_back(kDigits[(c / 10U) % 10U]);
            text.push_back(kDigits[c % 10U]);
        } else {
            text.push_back(static_cast<char>(c));
        }
    }
}

Expected<Name, DnsError> read_name(ByteView packet, std::size_t& pos) {
    Name name;
    const auto length = walk_name(packet, pos, [&name](ByteView label) {
        name.wire.push_back(static_cast<std::byte>(label.size()));
        name.wire.insert(name.wire.end(), label.begin(), label.end());
        if (!name.text.empty()) {
            name.text.push_back('.');
        }
        append_label_text(label, name.text);
    });
    if (!length.has_value()) {
        return fail(length.error());
    }
    name.wire.push_back(std::byte{0});
    return name;
}

Expected<std::size_t, DnsError> skip_name(ByteView packet, std::size_t& pos) {
    return walk_name(packet, pos, [](ByteView /*label*/) {});
}

}  // namespace cyphonic::dns::detail

namespace cyphonic::dns {

namespace {

std::byte ascii_lower(std::byte b) noexcept {
    const auto c = static_cast<unsigned char>(b);
    return c >= 'A' && c <= 'Z' ? static_cast<std::byte>(c - 'A' + 'a') : b;
}

bool equal_ignoring_case(ByteView a, ByteView b) noexcept {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (ascii_lower(a[i]) != ascii_lower(b[i])) {
            return false;
        }
    }
    return true;
}

}  // namespace

ZoneMatch match_zone(ByteView name_wire, ByteView zone_wire) noexcept {
    // Compare at label boundaries only, so "x\.example.net" (one label "x.example") is not
    // mistaken for a name below "example.net".
    std::size_t pos = 0;
    while (pos < name_wire.size()) {
        const ByteView rest = name_wire.subspan(pos);
        if (equal_ignoring_case(rest, zone_wire)) {
            return pos == 0 ? ZoneMatch::Apex : ZoneMatch::Below;
        }
        const auto length = static_cast<std::size_t>(name_wire[pos]);
        if (length == 0 || length > kMaxLabelLength) {
            return ZoneMatch::Outside;  // the root reached, or not an uncompressed name
        }
        pos += 1 + length;
    }
    return ZoneMatch::Outside;
}

}  // namespace cyphonic::dns
