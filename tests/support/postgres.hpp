#pragma once

#include <filesystem>
#include <string>

// A throwaway PostgreSQL server for one test binary: initdb into a temporary directory, a unix
// socket in that directory, no TCP port; stopped and deleted in the destructor. Real server,
// never a mock (scripts/pg-instance.sh does the work, so the quick start uses the same path).
namespace cyphonic::testing {

class TestPostgres {
public:
    TestPostgres();  // throws std::runtime_error with the server's log tail on failure
    ~TestPostgres();
    TestPostgres(const TestPostgres&) = delete;
    TestPostgres& operator=(const TestPostgres&) = delete;

    // libpq connection string of the `cyphonic` database.
    [[nodiscard]] const std::string& conninfo() const noexcept { return conninfo_; }
    // A fresh empty database on the same server; returns its connection string.
    [[nodiscard]] std::string create_database(const std::string& name) const;

private:
    std::filesystem::path dir_;
    std::string conninfo_;
};

// Runs a shell command; returns its stdout; throws with the exit status on failure.
std::string run_command(const std::string& command);

}  // namespace cyphonic::testing
