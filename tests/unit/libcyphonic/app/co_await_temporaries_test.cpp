// The g++ 12 miscompilations behind scripts/lint/co_await_temporaries.py, reduced: a class
// temporary made inside a co_await full-expression by `?:`, by a braced initialiser (an
// aggregate with a non-trivial member) or as the closure of a lambda capturing by value is
// destroyed twice. The safe forms (the value built in its own statement) must work everywhere;
// the reductions themselves run as death tests where the compiler is known to get them wrong
// and AddressSanitizer makes the crash certain. A temporary made by a function call is fine.
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

struct Reason {
    std::string text;
    int code = 0;
};

asio::awaitable<void> record(std::string* out, int code, std::string reason) {
    *out = std::to_string(code) + " " + reason;
    co_return;
}

asio::awaitable<void> record_reason(std::string* out, Reason reason) {
    *out = std::to_string(reason.code) + " " + reason.text;
    co_return;
}

template <typename F>
asio::awaitable<std::string> call(F f) {
    co_return f();
}

asio::awaitable<void> safe_forms(std::string* out, bool empty) {
    std::string reason;
    if (empty) {
        reason = kName + " did not confirm the route";
    } else {
        reason = "refused";
    }
    co_await record(out, 3, std::move(reason));
    Reason aggregate{*out, 4};
    co_await record_reason(out, std::move(aggregate));
    auto closure = [name = kName] { return name + "!"; };
    *out += " " + co_await call(std::move(closure));
    co_await record(out, 5, *out + " (a call's temporary)");
}

#if defined(__SANITIZE_ADDRESS__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12
#define CYPHONIC_GCC12_ASAN 1

asio::awaitable<void> conditional_form(std::string* out, bool cond) {
    const std::string other = "refused";
    // co_await-temporary: allowed (the reduction of the compiler bug the lint exists for)
    co_await record(out, 3, cond ? kName + " did not confirm the route" : other);
}

asio::awaitable<void> aggregate_form(std::string* out) {
    // co_await-temporary: allowed (the reduction of the compiler bug the lint exists for)
    co_await record_reason(out, Reason{kName + " did not confirm the route", 3});
}

asio::awaitable<void> closure_form(std::string* out) {
    // co_await-temporary: allowed (the reduction of the compiler bug the lint exists for)
    *out = co_await call([name = kName] { return name + "!"; });
}
#endif

template <typename Make>
void drive(Make make) {
    asio::io_context io;
    asio::co_spawn(io, make(), asio::detached);
    io.run();
}

TEST(CoAwaitTemporaries, ValuesBuiltInTheirOwnStatementsSurviveTheAwait) {
    for (const bool empty : {true, false}) {
        std::string out;
        drive([&] { return safe_forms(&out, empty); });
        const std::string first = empty ? kName + " did not confirm the route" : "refused";
        EXPECT_EQ(out, "5 4 3 " + first + " " + kName + "! (a call's temporary)");
    }
}

#ifdef CYPHONIC_GCC12_ASAN
TEST(CoAwaitTemporariesDeathTest, Gcc12FreesEachOfTheThreeShapesTwice) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    const char* const double_free = "double-free|not malloc";
    EXPECT_DEATH(
        {
            std::string out;
            drive([&] { return conditional_form(&out, true); });
        },
        double_free);
    EXPECT_DEATH(
        {
            std::string out;
            drive([&] { return aggregate_form(&out); });
        },
        double_free);
    EXPECT_DEATH(
        {
            std::string out;
            drive([&] { return closure_form(&out); });
        },
        double_free);
}
#endif

}  // namespace
