#include "cyphonic/db/database.hpp"

#include <algorithm>
#include <cstdint>
#include <future>
#include <stdexcept>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace cyphonic::db {

Database::Slot::Slot(asio::thread_pool& pool, std::string info)
    : strand(asio::make_strand(pool.get_executor())),
      conninfo(std::move(info)),
      connection(std::make_unique<pqxx::connection>(conninfo)) {}

void Database::Slot::ensure_open() {
    if (!connection || !connection->is_open()) {
        spdlog::warn("database connection lost, reconnecting");
        connection = std::make_unique<pqxx::connection>(conninfo);
    }
}

Database::Database(std::string conninfo, std::size_t connections)
    : conninfo_(std::move(conninfo)), pool_(std::max<std::size_t>(1, connections)) {
    for (std::size_t i = 0; i < std::max<std::size_t>(1, connections); ++i) {
        slots_.push_back(std::make_unique<Slot>(pool_, conninfo_));
    }
}

Database::~Database() {
    stop();
}

void Database::stop() {
    pool_.join();
}

Database::Slot& Database::pick() {
    Slot* best = slots_.front().get();
    for (const auto& s : slots_) {
        if (s->queued.load(std::memory_order_relaxed) <
            best->queued.load(std::memory_order_relaxed)) {
            best = s.get();
        }
    }
    best->queued.fetch_add(1, std::memory_order_relaxed);
    return *best;
}

namespace {
// The advisory lock key that serialises creating the migrations table ("cyph").
constexpr std::int64_t kMigrationLock = 0x63797068;
}  // namespace

std::vector<int> apply_migrations(pqxx::connection& connection, std::string_view service,
                                  std::span<const Migration> migrations) {
    {
        // Two runners at once (replicas starting together, AS and NMS migrating one database)
        // would both pass CREATE TABLE IF NOT EXISTS's check, and the second fail with
        // "already exists" or a catalogue unique violation. A transaction-scoped advisory lock
        // makes the second wait until the first has committed the table.
        pqxx::work w(connection);
        w.exec("SELECT pg_advisory_xact_lock(" + std::to_string(kMigrationLock) + ")");
        w.exec(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " service TEXT NOT NULL,"
            " version INT NOT NULL,"
            " name TEXT NOT NULL,"
            " applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),"
            " PRIMARY KEY (service, version))");
        w.commit();
    }
    std::vector<const Migration*> ordered;
    for (const auto& m : migrations) {
        ordered.push_back(&m);
    }
    std::sort(ordered.begin(), ordered.end(),
              [](const Migration* a, const Migration* b) { return a->version < b->version; });

    std::vector<int> applied;
    for (const Migration* m : ordered) {
        pqxx::work w(connection);
        // The record first: a concurrent runner blocks on this row until we commit, then
        // finds it taken (ON CONFLICT) and skips the migration.
        const auto inserted = w.exec_params(
            "INSERT INTO schema_migrations (service, version, name) VALUES ($1, $2, $3) "
            "ON CONFLICT (service, version) DO NOTHING RETURNING version",
            std::string(service), m->version, std::string(m->name));
        if (inserted.empty()) {
            w.abort();
            continue;
        }
        try {
            w.exec(std::string(m->sql));
        } catch (const pqxx::sql_error& e) {
            throw std::runtime_error(fmt::format("migration {} {:03d}_{} failed: {}", service,
                                                 m->version, m->name, e.what()));
        }
        w.commit();
        applied.push_back(m->version);
    }
    return applied;
}

}  // namespace cyphonic::db
