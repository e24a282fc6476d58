#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "cyphonic/app/metrics.hpp"

// The counters of cyphonic-as on /metrics (docs/SERVICES.md):
//   cyphonic_as_requests_total{type,result}   login_request / general_nodes, by outcome
//   cyphonic_as_dropped_total{reason}         bad input dropped, by reason
//   cyphonic_as_request_seconds{type}         latency from a full request to its answer
//   cyphonic_as_active_nodes                  nodes holding an unexpired NMS key
//   cyphonic_as_connections                   open TLS connections
// Thread-safe (atomics); the families are created once at start.
namespace cyphonic::as {

class AsMetrics {
public:
    explicit AsMetrics(app::MetricsRegistry& registry);

    void request(std::string_view type, std::string_view result, double seconds);
    // Counts one dropped input; `reason` is snake_case.
    void dropped(std::string_view reason);
    void set_active_nodes(std::int64_t n) { active_nodes_.set(n); }
    app::Gauge& connections() { return connections_; }

    // "reason=delta ..." for every drop reason that grew since the last call, or "" when none
    // did (the 30 s summary of STYLE.md §7). I/O thread only.
    [[nodiscard]] std::string drop_summary();

private:
    app::Family<app::Counter>& requests_;
    app::Family<app::Counter>& dropped_;
    app::Family<app::Histogram>& latency_;
    app::Gauge& active_nodes_;
    app::Gauge& connections_;
    std::map<std::string, std::uint64_t> reported_;
};

// "LengthMismatch" → "length_mismatch" (DecodeError names as metric labels).
[[nodiscard]] std::string snake_case(std::string_view pascal);

// Allows at most `burst` log lines per `period`, and says how many were held back, so a flood
// of bad input cannot flood the log. I/O thread only.
class LogLimiter {
public:
    LogLimiter(int burst, std::chrono::steady_clock::duration period)
        : burst_(burst), period_(period) {}
    // True when a line may be written now; `suppressed` receives the lines held back since the
    // last allowed one.
    [[nodiscard]] bool allow(std::uint64_t& suppressed);

private:
    int burst_;
    std::chrono::steady_clock::duration period_;
    std::chrono::steady_clock::time_point window_start_{};
    int used_ = 0;
    std::uint64_t suppressed_ = 0;
};

}  // namespace cyphonic::as
