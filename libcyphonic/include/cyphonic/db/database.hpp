#pragma once

#include <atomic>
#include <cstddef>
#include <future>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include <pqxx/pqxx>

#include "cyphonic/net/asio.hpp"

// PostgreSQL access for the services (STYLE.md §2): libpqxx blocks, so every query runs on a
// small thread pool, each connection behind its own strand, and the caller's coroutine resumes
// on its own executor (the I/O thread). SQL itself stays with each service.
namespace cyphonic::db {

class Database {
public:
    // Opens `connections` connections (throws pqxx::broken_connection with libpq's message if
    // the server cannot be reached: a bad environment at start).
    Database(std::string conninfo, std::size_t connections);
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    // Runs `fn(pqxx::connection&)` on a pool thread with a connection nobody else is using,
    // and resumes the caller with its result (or its exception). A connection found broken is
    // reopened once before `fn` runs; an error inside `fn` is the caller's to handle.
    template <class Fn>
    asio::awaitable<std::invoke_result_t<Fn, pqxx::connection&>> run(Fn fn) {
        using Result = std::invoke_result_t<Fn, pqxx::connection&>;
        using Value = std::conditional_t<std::is_void_v<Result>, std::monostate, Result>;
        Slot& slot = pick();
        // Plain handlers, no coroutine lambda: the query runs on the slot's strand and the
        // result is posted back to the caller's executor.
        auto value = co_await asio::async_initiate<decltype(asio::use_awaitable),
                                                   void(std::exception_ptr, std::optional<Value>)>(
            [&slot](auto handler, Fn f) {
                // The awaiting coroutine resumes on its own executor (the handler's).
                const auto caller = asio::get_associated_executor(handler);
                asio::post(slot.strand, [&slot, caller, f = std::move(f),
                                         handler = std::move(handler)]() mutable {
                    std::exception_ptr error;
                    std::optional<Value> result;
                    try {
                        const BusyGuard busy(slot);
                        slot.ensure_open();
                        if constexpr (std::is_void_v<Result>) {
                            f(*slot.connection);
                            result.emplace();
                        } else {
                            result.emplace(f(*slot.connection));
                        }
                    } catch (...) {
                        error = std::current_exception();
                    }
                    asio::post(caller, [handler = std::move(handler), error,
                                        result = std::move(result)]() mutable {
                        handler(error, std::move(result));
                    });
                });
            },
            asio::use_awaitable, std::move(fn));
        if constexpr (!std::is_void_v<Result>) {
            co_return std::move(*value);
        }
    }

    // The same, blocking the calling thread (command-line tools, tests). Not on an I/O thread.
    template <class Fn>
    std::invoke_result_t<Fn, pqxx::connection&> run_blocking(Fn fn) {
        using Result = std::invoke_result_t<Fn, pqxx::connection&>;
        Slot& slot = pick();
        // A promise, not a packaged_task: Asio treats a packaged_task as a completion token.
        std::promise<Result> promise;
        auto result = promise.get_future();
        asio::post(slot.strand, [&slot, &promise, &fn] {
            try {
                const BusyGuard busy(slot);
                slot.ensure_open();
                if constexpr (std::is_void_v<Result>) {
                    fn(*slot.connection);
                    promise.set_value();
                } else {
                    promise.set_value(fn(*slot.connection));
                }
            } catch (...) {
                promise.set_exception(std::current_exception());
            }
        });
        return result.get();
    }

    [[nodiscard]] const std::string& conninfo() const noexcept { return conninfo_; }
    // Waits for queued queries to finish and joins the pool threads.
    void stop();

private:
    struct Slot {
        Slot(asio::thread_pool& pool, std::string conninfo);
        void ensure_open();
        asio::strand<asio::thread_pool::executor_type> strand;
        std::string conninfo;
        std::unique_ptr<pqxx::connection> connection;
        std::atomic<int> queued{0};
    };
    struct BusyGuard {
        explicit BusyGuard(Slot& s) : slot(s) {}
        ~BusyGuard() { slot.queued.fetch_sub(1, std::memory_order_relaxed); }
        BusyGuard(const BusyGuard&) = delete;
        BusyGuard& operator=(const BusyGuard&) = delete;
        Slot& slot;
    };
    // The connection with the fewest queued jobs; counts the new job.
    Slot& pick();

    std::string conninfo_;
    asio::thread_pool pool_;
    std::vector<std::unique_ptr<Slot>> slots_;
};

// One versioned schema change of a service (services/<name>/sql/NNN_title.sql).
struct Migration {
    int version = 0;
    std::string_view name;
    std::string_view sql;
};

// Applies, in version order, every migration of `service` not yet recorded in
// schema_migrations, each in its own transaction together with its record. Safe to run from
// several processes at once: the record's primary key makes a second runner wait, then skip.
// Returns the versions applied now. Throws pqxx exceptions naming the failing migration.
std::vector<int> apply_migrations(pqxx::connection& connection, std::string_view service,
                                  std::span<const Migration> migrations);

}  // namespace cyphonic::db
