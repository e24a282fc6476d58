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
// Writes `bytes` as tests/golden/<name> (a '#' comment line, then 32 bytes of hex per line),
// creating folders. Used only to create new vectors, when CYPHONIC_WRITE_GOLDEN=1.
void write(const std::string& name, const std::string& comment, ByteView bytes);
// True when CYPHONIC_WRITE_GOLDEN=1: tests then (re)write their vectors instead of comparing.
[[nodiscard]] bool writing();
// Parses hex the same way (comments and white space allowed); throws on bad hex.
[[nodiscard]] Bytes hex(std::string_view text);

}  // namespace cyphonic::golden
