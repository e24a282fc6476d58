#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "cyphonic/net/asio.hpp"

namespace cyphonic::app {

// The life of a service process (ARCHITECTURE.md "Scaling out"): run the io_context until
// SIGTERM or SIGINT; then turn unready at once (/readyz answers 503), stop taking new work
// (`on_shutdown`, which closes listeners), give in-flight work up to `grace` to finish, stop
// the io_context and return 0.
class ServiceRuntime {
public:
    explicit ServiceRuntime(std::string name);

    [[nodiscard]] asio::io_context& io() noexcept { return io_; }
    [[nodiscard]] bool ready() const noexcept { return ready_.load(std::memory_order_relaxed); }
    void set_ready(bool ready) noexcept { ready_.store(ready, std::memory_order_relaxed); }
    [[nodiscard]] bool stopping() const noexcept {
        return stopping_.load(std::memory_order_relaxed);
    }

    // Marks one unit of work (a request being answered) for the lifetime of the guard.
    class InFlight {
    public:
        explicit InFlight(ServiceRuntime& rt) noexcept : rt_(&rt) {
            rt_->in_flight_.fetch_add(1, std::memory_order_relaxed);
        }
        InFlight(InFlight&& o) noexcept : rt_(std::exchange(o.rt_, nullptr)) {}
        InFlight(const InFlight&) = delete;
        InFlight& operator=(const InFlight&) = delete;
        InFlight& operator=(InFlight&&) = delete;
        ~InFlight() {
            if (rt_ != nullptr) {
                rt_->in_flight_.fetch_sub(1, std::memory_order_relaxed);
            }
        }

    private:
        ServiceRuntime* rt_;
    };
    [[nodiscard]] InFlight in_flight() noexcept { return InFlight(*this); }
    [[nodiscard]] std::int64_t in_flight_count() const noexcept {
        return in_flight_.load(std::memory_order_relaxed);
    }

    // Blocks running the io_context on this thread until shutdown completes; returns the exit
    // code (0 after a signal, 1 if a task reported a fatal error through fail()).
    int run(std::function<void()> on_shutdown, std::chrono::milliseconds grace);
    // Extra condition for the end of the drain, checked with in-flight work = 0. A UDP service
    // keeps answering during the grace period and passes "no datagram for a while", so it
    // exits once the load balancer has stopped sending, or when the grace period ends.
    void set_idle_predicate(std::function<bool()> idle) { idle_ = std::move(idle); }
    // Begins the same shutdown as a signal (tests, fatal errors).
    void request_stop();
    // A long-lived task died: log it, shut down and exit 1.
    void fail(const std::string& what);

private:
    void begin_shutdown();
    asio::awaitable<void> drain(std::chrono::milliseconds grace);

    std::string name_;
    asio::io_context io_{1};
    asio::signal_set signals_{io_, SIGTERM, SIGINT};
    std::atomic<bool> ready_{false};
    std::atomic<bool> stopping_{false};
    std::atomic<std::int64_t> in_flight_{0};
    std::function<void()> on_shutdown_;
    std::function<bool()> idle_;
    std::chrono::milliseconds grace_{5000};
    int exit_code_ = 0;
};

}  // namespace cyphonic::app
