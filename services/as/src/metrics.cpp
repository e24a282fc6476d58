#include "metrics.hpp"

#include <cctype>

#include <fmt/format.h>

namespace cyphonic::as {

AsMetrics::AsMetrics(app::MetricsRegistry& registry)
    : requests_(registry.counter("cyphonic_as_requests_total",
                                 "Requests answered, by message type and result",
                                 {"type", "result"})),
      dropped_(registry.counter("cyphonic_as_dropped_total", "Bad input dropped, by reason",
                                {"reason"})),
      latency_(registry.histogram("cyphonic_as_request_seconds",
                                  "Time from a complete request to its answer", {"type"})),
      active_nodes_(
          registry
              .gauge("cyphonic_as_active_nodes", "Nodes holding an NMS key that has not expired")
              .with({})),
      connections_(registry.gauge("cyphonic_as_connections", "Open TLS connections").with({})) {}

void AsMetrics::request(std::string_view type, std::string_view result, double seconds) {
    requests_.with({std::string(type), std::string(result)}).inc();
    latency_.with({std::string(type)}).observe(seconds);
}

void AsMetrics::dropped(std::string_view reason) {
    dropped_.with({std::string(reason)}).inc();
}

std::string AsMetrics::drop_summary() {
    std::string out;
    dropped_.for_each([&](const std::vector<std::string>& labels, const app::Counter& c) {
        const std::string& reason = labels.front();
        const std::uint64_t now = c.value();
        auto& before = reported_[reason];
        if (now != before) {
            out += fmt::format("{}{}={}", out.empty() ? "" : " ", reason, now - before);
            before = now;
        }
    });
    return out;
}

std::string snake_case(std::string_view pascal) {
    std::string out;
    for (const char c : pascal) {
        const auto u = static_cast<unsigned char>(c);
        if (std::isupper(u) != 0) {
            if (!out.empty()) {
                out += '_';
            }
            out += static_cast<char>(std::tolower(u));
        } else {
            out += c;
        }
    }
    return out;
}

bool LogLimiter::allow(std::uint64_t& suppressed) {
    const auto now = std::chrono::steady_clock::now();
    if (now - window_start_ >= period_) {
        window_start_ = now;
        used_ = 0;
    }
    if (used_ >= burst_) {
        ++suppressed_;
        return false;
    }
    ++used_;
    suppressed = suppressed_;
    suppressed_ = 0;
    return true;
}

}  // namespace cyphonic::as
