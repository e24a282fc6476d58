// The g++ 12 miscompilation behind scripts/lint/co_await_conditional.py, reduced: a class
// temporary produced by `?:` inside a co_await operand is destroyed twice. The safe form (the
// value built in its own statement) must work everywhere; the reduction itself is run as a death
// test where the compiler is known to get it wrong and AddressSanitizer makes the crash certain.
#include <string>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

namespace {

namespace asio = boost::asio;

// Long enough that std::string keeps it on the heap.
const std::string kName = "responder-with-a-name-long-enough-for-the-heap.example";

asio::awaitable<void> record(std::string* out, int code, std::string reason) {
    *out = std::to_string(code) + " " + reason;
    co_return;
}

asio::awaitable<void> safe_form(std::string* out, bool confirmed_reason_empty) {
    std::string reason;
    if (confirmed_reason_empty) {
        reason = kName + " did not confirm the route";
    } else {
        reason = "refused";
    }
    co_await record(out, 3, std::move(reason));
}

#if defined(__SANITIZE_ADDRESS__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12
asio::awaitable<void> miscompiled_form(std::string* out, bool cond) {
    const std::string other = "refused";
    // co_await_conditional: allowed (the reduction of the compiler bug the lint exists for)
    co_await record(out, 3, cond ? kName + " did not confirm the route" : other);
}
#define CYPHONIC_GCC12_ASAN 1
#endif

template <typename Make>
void drive(Make make) {
    asio::io_context io;
    asio::co_spawn(io, make(), asio::detached);
    io.run();
}

TEST(CoAwaitConditional, ValueBuiltInItsOwnStatementSurvivesTheAwait) {
    for (const bool empty : {true, false}) {
        std::string out;
        drive([&] { return safe_form(&out, empty); });
        EXPECT_EQ(out, empty ? "3 " + kName + " did not confirm the route" : "3 refused");
    }
}

#ifdef CYPHONIC_GCC12_ASAN
TEST(CoAwaitConditionalDeathTest, ConditionalTemporaryInsideCoAwaitIsFreedTwiceByGcc12) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_DEATH(
        {
            std::string out;
            drive([&] { return miscompiled_form(&out, true); });
        },
        "double-free|not malloc");
}
#endif

}  // namespace
