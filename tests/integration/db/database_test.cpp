#include "cyphonic/db/database.hpp"

#include <thread>

#include <gtest/gtest.h>

#include "support/postgres.hpp"

namespace cyphonic::db {
namespace {

testing::TestPostgres& server() {
    static testing::TestPostgres instance;
    return instance;
}

constexpr Migration kMigrations[] = {
    {2, "add_column", "ALTER TABLE widgets ADD COLUMN colour TEXT NOT NULL DEFAULT 'red'"},
    {1, "create", "CREATE TABLE widgets (id BIGINT PRIMARY KEY, name TEXT NOT NULL)"},
};

TEST(Migrations, ApplyInVersionOrderOnce) {
    pqxx::connection c(server().create_database("migrate_once"));
    EXPECT_EQ(apply_migrations(c, "test", kMigrations), (std::vector<int>{1, 2}));
    EXPECT_EQ(apply_migrations(c, "test", kMigrations), std::vector<int>{});
    pqxx::work w(c);
    EXPECT_EQ(w.exec1("SELECT count(*) FROM schema_migrations WHERE service = 'test'")[0].as<int>(),
              2);
    w.exec("INSERT INTO widgets (id, name) VALUES (1, 'a')");
    EXPECT_EQ(w.exec1("SELECT colour FROM widgets")[0].as<std::string>(), "red");
}

TEST(Migrations, ConcurrentRunnersApplyEachMigrationOnce) {
    const std::string info = server().create_database("migrate_concurrent");
    std::vector<int> first;
    std::vector<int> second;
    std::thread a([&] {
        pqxx::connection c(info);
        first = apply_migrations(c, "test", kMigrations);
    });
    std::thread b([&] {
        pqxx::connection c(info);
        second = apply_migrations(c, "test", kMigrations);
    });
    a.join();
    b.join();
    EXPECT_EQ(first.size() + second.size(), 2U);
}

TEST(Migrations, FailureNamesTheMigrationAndKeepsNoRecord) {
    pqxx::connection c(server().create_database("migrate_fail"));
    constexpr Migration bad[] = {{1, "broken", "CREATE TABLE ("}};
    try {
        apply_migrations(c, "test", bad);
        FAIL() << "a broken migration was accepted";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("001_broken"), std::string::npos) << e.what();
    }
    pqxx::work w(c);
    EXPECT_EQ(w.exec1("SELECT count(*) FROM schema_migrations")[0].as<int>(), 0);
}

TEST(Database, RunsQueriesOnThePoolAndResumesOnTheCaller) {
    Database db(server().conninfo(), 2);
    asio::io_context io;
    const auto io_thread = std::this_thread::get_id();
    std::vector<int> results;
    bool resumed_on_io = true;
    for (int i = 0; i < 10; ++i) {
        asio::co_spawn(
            io,
            [&db, &results, &resumed_on_io, io_thread, i]() -> asio::awaitable<void> {
                auto query = [i](pqxx::connection& c) {
                    pqxx::read_transaction t(c);
                    return t.exec_params1("SELECT $1::int * 2", i)[0].as<int>();
                };
                const int v = co_await db.run(std::move(query));
                resumed_on_io = resumed_on_io && std::this_thread::get_id() == io_thread;
                results.push_back(v);
            },
            asio::detached);
    }
    io.run();
    std::sort(results.begin(), results.end());
    EXPECT_EQ(results, (std::vector<int>{0, 2, 4, 6, 8, 10, 12, 14, 16, 18}));
    EXPECT_TRUE(resumed_on_io);
}

TEST(Database, PassesExceptionsToTheCaller) {
    Database db(server().conninfo(), 1);
    EXPECT_THROW(db.run_blocking([](pqxx::connection& c) {
        pqxx::work w(c);
        w.exec("SELECT * FROM no_such_table");
        return 0;
    }),
                 pqxx::sql_error);
    // The connection is still usable afterwards.
    EXPECT_EQ(db.run_blocking([](pqxx::connection& c) {
        pqxx::read_transaction t(c);
        return t.exec1("SELECT 7")[0].as<int>();
    }),
              7);
}

TEST(Database, RejectsUnreachableServerAtStart) {
    EXPECT_THROW(Database("host=/nonexistent-socket-dir user=cyphonic dbname=x", 1),
                 pqxx::broken_connection);
}

}  // namespace
}  // namespace cyphonic::db
