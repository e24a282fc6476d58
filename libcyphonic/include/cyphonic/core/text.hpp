#pragma once

#include <string>
#include <string_view>

namespace cyphonic {

// "LengthMismatch" → "length_mismatch": enumerator names become metric labels and log fields.
[[nodiscard]] std::string snake_case(std::string_view pascal_case);

}  // namespace cyphonic
