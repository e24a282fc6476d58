#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

// A child process started by a test: stdout and stderr go to a log file; the destructor kills it
// (by its own PID, never anything else) if it still runs.
namespace cyphonic::testing {

class ChildProcess {
public:
    ChildProcess(std::vector<std::string> argv, std::filesystem::path log);
    ~ChildProcess();
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    [[nodiscard]] pid_t pid() const noexcept { return pid_; }
    [[nodiscard]] bool running();
    // Waits for a log line matching the ECMAScript regex; returns the first capture group (or
    // the whole match). Throws std::runtime_error with the log tail on timeout or exit.
    std::string wait_for_log(const std::string& pattern,
                             std::chrono::milliseconds timeout = std::chrono::seconds(15));
    // Sends `signal`, then waits; returns the exit status (128 + signal if killed by one),
    // or -1 on timeout (the process is then killed).
    int stop(int signal, std::chrono::milliseconds timeout = std::chrono::seconds(15));
    [[nodiscard]] std::string log() const;

private:
    pid_t pid_ = -1;
    int status_ = -1;
    std::filesystem::path log_;
};

// Runs a command to completion, returning {exit status, stdout+stderr}.
std::pair<int, std::string> run(const std::vector<std::string>& argv,
                                const std::string& stdin_text = {});

// A new empty temporary directory, removed by the destructor.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

private:
    std::filesystem::path path_;
};

}  // namespace cyphonic::testing
