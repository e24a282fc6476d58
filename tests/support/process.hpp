#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

// A child process started by a test: stdout and stderr go to a log file.
//
// Every service or daemon a test starts must still be alive at the end and exit 0 on SIGTERM:
// a crash after the last assertion is still a failure. So unless the test has settled the
// process itself (stop(), or wait_exit() for one expected to end by itself), the destructor
// sends SIGTERM and records a GoogleTest failure, with the log's tail, if the process had
// already died or does not exit 0 within 15 s. It only ever signals its own PID.
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
    // or -1 on timeout (the process is then killed). The test owns the result.
    int stop(int signal, std::chrono::milliseconds timeout = std::chrono::seconds(15));
    // Waits for a process expected to end by itself; returns its exit status, or -1 on timeout
    // (the process is then killed). The test owns the result.
    int wait_exit(std::chrono::milliseconds timeout = std::chrono::seconds(15));
    [[nodiscard]] std::string log() const;

private:
    void check_end_of_life();

    pid_t pid_ = -1;
    int status_ = -1;
    bool settled_ = false;  // the test took the exit status itself
    std::string name_;
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
