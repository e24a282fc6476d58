#include "cyphonic/app/logging.hpp"

#include <stdexcept>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace cyphonic::app {

bool is_log_level(std::string_view level) noexcept {
    return level == "trace" || level == "debug" || level == "info" || level == "warn" ||
           level == "error" || level == "off";
}

void setup_logging(std::string_view binary, std::string_view level) {
    if (!is_log_level(level)) {
        throw std::invalid_argument("log level '" + std::string(level) +
                                    "' is not one of trace, debug, info, warn, error, off");
    }
    auto logger = spdlog::stderr_color_mt(std::string(binary));
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %n: %v");
    logger->set_level(spdlog::level::from_str(std::string(level)));
    logger->flush_on(spdlog::level::info);
    spdlog::set_default_logger(std::move(logger));
}

}  // namespace cyphonic::app
