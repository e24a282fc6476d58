// SIGTERM: /readyz turns 503 at once, the listener closes, every login whose connection was
// accepted is answered, and the process exits 0 within shutdown.grace_s (ARCHITECTURE.md
// "Scaling out").
#include <signal.h>

#include <atomic>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "as_harness.hpp"

namespace cyphonic::as::testing {
namespace {

using namespace std::chrono_literals;

TEST(AsShutdown, SigtermDuringABurstCompletesAcceptedLoginsAndExitsZero) {
    constexpr int kGraceS = 5;
    AsHarness h({"shutdown.grace_s=" + std::to_string(kGraceS)});
    h.add_device({"burst"}, "burst-pw");
    h.start();
    ASSERT_NE(h.http_get("/readyz").find("200 OK"), std::string::npos);

    // A client whose connection is accepted but whose request comes only after SIGTERM.
    net::BlockingAsClient late(h.client_options());
    ASSERT_TRUE(late.connect().has_value());
    // A client (an adapter, say) that keeps its connection open between logins.
    net::BlockingAsClient idle(h.client_options());
    ASSERT_TRUE(idle.login(basic_login("burst", "burst-pw")).has_value());

    std::atomic<bool> term_sent{false};
    std::atomic<int> answered{0};
    std::atomic<int> refused_before_term{0};
    std::atomic<int> failed{0};
    std::mutex mutex;
    std::vector<std::string> failures;
    std::vector<std::thread> burst;
    for (int t = 0; t < 4; ++t) {
        burst.emplace_back([&] {
            for (;;) {
                net::BlockingAsClient client(h.client_options());
                if (!client.connect().has_value()) {
                    if (!term_sent.load()) {
                        ++refused_before_term;  // a failure before any SIGTERM: a real one
                        continue;
                    }
                    return;  // not accepted: the listener is closed
                }
                auto r = client.login(basic_login("burst", "burst-pw"));
                if (r.has_value()) {
                    ++answered;
                } else {
                    ++failed;
                    const std::lock_guard lock(mutex);
                    failures.push_back(r.error().describe());
                }
            }
        });
    }
    while (answered.load() < 20) {
        std::this_thread::sleep_for(5ms);
    }
    const auto sent = std::chrono::steady_clock::now();
    ASSERT_EQ(::kill(h.pid(), SIGTERM), 0);
    term_sent = true;

    // Unready at once, while the late client keeps the process in its grace period.
    bool unready = false;
    for (int i = 0; i < 50 && !unready; ++i) {
        unready = h.http_get("/readyz").find("503") != std::string::npos;
        if (!unready) {
            std::this_thread::sleep_for(10ms);
        }
    }
    EXPECT_TRUE(unready);
    EXPECT_LT(std::chrono::steady_clock::now() - sent, 1s);

    auto late_login = late.login(basic_login("burst", "burst-pw"));
    EXPECT_TRUE(late_login.has_value()) << late_login.error().describe();
    for (auto& t : burst) {
        t.join();
    }
    const int code = h.wait_exit(std::chrono::seconds(kGraceS + 2));
    const auto took = std::chrono::steady_clock::now() - sent;
    EXPECT_EQ(code, 0) << h.log();
    EXPECT_LT(took, std::chrono::seconds(kGraceS + 1));
    EXPECT_EQ(failed.load(), 0) << (failures.empty() ? "" : failures.front());
    EXPECT_EQ(refused_before_term.load(), 0);
    EXPECT_GE(answered.load(), 20);
    EXPECT_NE(h.log().find("shutdown requested signal=15"), std::string::npos);
    // The idle connection was closed at SIGTERM rather than kept through the grace period.
    auto after = idle.login(basic_login("burst", "burst-pw"));
    ASSERT_FALSE(after.has_value());
    EXPECT_EQ(after.error().kind, net::LoginFailure::Kind::Transport);
}

}  // namespace
}  // namespace cyphonic::as::testing
