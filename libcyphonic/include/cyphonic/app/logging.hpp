#pragma once

#include <string>
#include <string_view>

namespace cyphonic::app {

// Sets up spdlog for a binary: one line per event on stderr (journald and kubectl logs read it)
// as "<time> <level> <binary>: <event> key=value…". `level` is trace, debug, info, warn, error
// or off; throws std::invalid_argument naming the accepted values otherwise.
void setup_logging(std::string_view binary, std::string_view level);

// True when `level` is one setup_logging accepts.
[[nodiscard]] bool is_log_level(std::string_view level) noexcept;

}  // namespace cyphonic::app
