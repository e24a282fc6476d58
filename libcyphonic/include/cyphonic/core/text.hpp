#pragma once

#include <string>
#include <string_view>

namespace cyphonic {

// "LengthMismatch" → "length_mismatch": enumerator names become metric labels and log fields.
[[nodiscard]] std::string snake_case(std::string_view pascal_case);

// `text` as a JSON string literal, quotes included: '"' and '\\' escaped, control characters
// as \u00XX (status output, cache files).
[[nodiscard]] std::string json_string(std::string_view text);

}  // namespace cyphonic
