#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "cyphonic/core/bytes.hpp"
#include "cyphonic/core/expected.hpp"
#include "cyphonic/dns/message.hpp"

// Domain names inside a message (RFC 1035 §3.1, §4.1.4). Private to the dns module.
namespace cyphonic::dns::detail {

// A name as read from a message: uncompressed wire form (case kept) and presentation text
// (lower-cased, escaped; see Query::name).
struct Name {
    Bytes wire;
    std::string text;
};

// Reads the name that starts at `pos` in `packet`, following compression pointers. On success
// `pos` is just past the name where it starts (after its first pointer, if any). Rules: a
// pointer must lie inside the message (BadPointer), point backwards (BadPointer) and before
// the start of the run of labels it ends (PointerLoop), so every jump goes strictly lower and
// the walk ends; label lengths 0x40–0xBF are BadLabel; more than 255 wire bytes NameTooLong.
[[nodiscard]] Expected<Name, DnsError> read_name(ByteView packet, std::size_t& pos);

// The same checks without building anything: returns the name's wire length (1 = the root).
[[nodiscard]] Expected<std::size_t, DnsError> skip_name(ByteView packet, std::size_t& pos);

// Appends one label's bytes to `text` in presentation form (lower-cased, escaped).
void append_label_text(ByteView label, std::string& text);

}  // namespace cyphonic::dns::detail
