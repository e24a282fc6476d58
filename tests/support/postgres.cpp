#include "support/postgres.hpp"

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace cyphonic::testing {

std::string run_command(const std::string& command) {
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) {
        throw std::runtime_error("cannot run: " + command);
    }
    std::string out;
    std::array<char, 4096> chunk{};
    while (const std::size_t n = std::fread(chunk.data(), 1, chunk.size(), pipe)) {
        out.append(chunk.data(), n);
    }
    const int status = ::pclose(pipe);
    if (status != 0) {
        throw std::runtime_error("command failed (status " + std::to_string(status) +
                                 "): " + command + "\n" + out);
    }
    return out;
}

namespace {
std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) {
        s.pop_back();
    }
    return s;
}
}  // namespace

TestPostgres::TestPostgres() {
    std::string templ = (std::filesystem::temp_directory_path() / "cyphonic-pg-XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr) {
        throw std::runtime_error("mkdtemp failed for " + templ);
    }
    dir_ = templ;
    conninfo_ = trim(run_command(std::string(CYPHONIC_SOURCE_DIR) +
                                 "/scripts/pg-instance.sh start " + dir_.string() + " 2>&1"));
}

TestPostgres::~TestPostgres() {
    try {
        run_command(std::string(CYPHONIC_SOURCE_DIR) + "/scripts/pg-instance.sh stop " +
                    dir_.string() + " 2>&1");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "TestPostgres: %s\n", e.what());
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
}

std::string TestPostgres::create_database(const std::string& name) const {
    run_command("psql '" + conninfo_ + "' -v ON_ERROR_STOP=1 -qc 'CREATE DATABASE \"" + name +
                "\"' 2>&1");
    return "host=" + dir_.string() + " user=cyphonic dbname=" + name;
}

}  // namespace cyphonic::testing
