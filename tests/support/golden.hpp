#pragma once

#include <filesystem>
#include <string>

#include "cyphonic/core/bytes.hpp"

// Golden vectors: exact bytes for fixed inputs, one `.hex` file each under tests/golden/.
// Format: hex digits, white space ignored, lines starting with '#' are comments.
namespace cyphonic::golden {

[[nodiscard]] std::filesystem::path path(const std::string& name);
// Reads tests/golden/<name>; throws std::runtime_error naming the file when it is missing or
// not valid hex (a test setup error, not a result).
[[nodiscard]] Bytes read(const std::string& name);
// Parses hex the same way (comments and white space allowed); throws on bad hex.
[[nodiscard]] Bytes hex(std::string_view text);

}  // namespace cyphonic::golden
