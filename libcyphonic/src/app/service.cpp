#include "cyphonic/app/service.hpp"

#include <spdlog/spdlog.h>

namespace cyphonic::app {

ServiceRuntime::ServiceRuntime(std::string name) : name_(std::move(name)) {}

int ServiceRuntime::run(std::function<void()> on_shutdown, std::chrono::milliseconds grace) {
    on_shutdown_ = std::move(on_shutdown);
    grace_ = grace;
    signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
        if (!ec) {
            spdlog::info("shutdown requested signal={} in_flight={} grace_ms={}", signal,
                         in_flight_count(), grace_.count());
            begin_shutdown();
        }
    });
    io_.run();
    spdlog::info("stopped service={} exit={}", name_, exit_code_);
    return exit_code_;
}

void ServiceRuntime::request_stop() {
    asio::post(io_, [this] { begin_shutdown(); });
}

void ServiceRuntime::fail(const std::string& what) {
    spdlog::error("fatal service={} reason={}", name_, what);
    exit_code_ = 1;
    request_stop();
}

void ServiceRuntime::begin_shutdown() {
    if (stopping_.exchange(true)) {
        return;
    }
    set_ready(false);
    boost::system::error_code ignored;
    signals_.cancel(ignored);
    if (on_shutdown_) {
        on_shutdown_();
    }
    asio::co_spawn(io_, drain(grace_), [this](const std::exception_ptr&) { io_.stop(); });
}

asio::awaitable<void> ServiceRuntime::drain(std::chrono::milliseconds grace) {
    const auto deadline = std::chrono::steady_clock::now() + grace;
    asio::steady_timer timer(io_);
    const auto busy = [this] { return in_flight_count() > 0 || (idle_ && !idle_()); };
    while (busy() && std::chrono::steady_clock::now() < deadline) {
        timer.expires_after(std::chrono::milliseconds(10));
        co_await timer.async_wait(asio::use_awaitable);
    }
    if (busy()) {
        spdlog::warn("grace period over in_flight={} abandoned", in_flight_count());
    }
}

}  // namespace cyphonic::app
