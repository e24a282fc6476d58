#include "support/process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

extern char** environ;

namespace cyphonic::testing {

namespace {

pid_t spawn(const std::vector<std::string>& argv, int out_fd, int in_fd) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (in_fd >= 0) {
        posix_spawn_file_actions_adddup2(&actions, in_fd, 0);
    }
    posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
    posix_spawn_file_actions_adddup2(&actions, out_fd, 2);
    std::vector<char*> args;
    for (const auto& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    pid_t pid = -1;
    const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
    }
    return pid;
}

int decode_status(int status) {
    if (WIFEXITED(status)) {
        return WEXITSTATUS(status);
    }
    if (WIFSIGNALED(status)) {
        return 128 + WTERMSIG(status);
    }
    return -1;
}

}  // namespace

ChildProcess::ChildProcess(std::vector<std::string> argv, std::filesystem::path log)
    : name_(std::filesystem::path(argv.empty() ? std::string() : argv[0]).filename().string()),
      log_(std::move(log)) {
    const int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        throw std::runtime_error("cannot create " + log_.string());
    }
    try {
        pid_ = spawn(argv, fd, -1);
    } catch (...) {
        ::close(fd);
        throw;
    }
    ::close(fd);
}

ChildProcess::~ChildProcess() {
    if (!settled_ && pid_ > 0) {
        check_end_of_life();
    }
    if (running()) {
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
    }
}

namespace {

std::string tail(const std::string& text, std::size_t lines) {
    std::size_t at = text.size();
    for (std::size_t n = 0; at > 0 && n <= lines; ++n) {
        at = text.rfind('\n', at - 1);
        if (at == std::string::npos) {
            return text;
        }
    }
    return text.substr(at + 1);
}

}  // namespace

void ChildProcess::check_end_of_life() {
    if (!running()) {
        ADD_FAILURE() << name_ << " (pid " << pid_ << ") died before the end of the test, status "
                      << status_ << "; last lines of " << log_.string() << ":\n"
                      << tail(log(), 40);
        return;
    }
    const int status = stop(SIGTERM, std::chrono::seconds(15));
    if (status != 0) {
        ADD_FAILURE() << name_ << " (pid " << pid_ << ") did not exit 0 on SIGTERM: "
                      << (status == -1 ? std::string("still running after 15 s, killed")
                                       : "status " + std::to_string(status))
                      << "; last lines of " << log_.string() << ":\n"
                      << tail(log(), 40);
    }
}

bool ChildProcess::running() {
    if (pid_ <= 0 || status_ >= 0) {
        return false;
    }
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
        status_ = decode_status(status);
        return false;
    }
    return true;
}

std::string ChildProcess::log() const {
    std::ifstream in(log_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string ChildProcess::wait_for_log(const std::string& pattern,
                                       std::chrono::milliseconds timeout) {
    const std::regex re(pattern);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        const std::string text = log();
        std::smatch m;
        if (std::regex_search(text, m, re)) {
            return m.size() > 1 ? m[1].str() : m[0].str();
        }
        if (!running()) {
            throw std::runtime_error("process exited (status " + std::to_string(status_) +
                                     ") before logging /" + pattern + "/:\n" + text);
        }
        if (std::chrono::steady_clock::now() > deadline) {
            throw std::runtime_error("timeout waiting for /" + pattern + "/ in:\n" + text);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

int ChildProcess::wait_exit(std::chrono::milliseconds timeout) {
    settled_ = true;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (running()) {
        if (std::chrono::steady_clock::now() > deadline) {
            ::kill(pid_, SIGKILL);
            int status = 0;
            ::waitpid(pid_, &status, 0);
            status_ = decode_status(status);
            return -1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return status_;
}

int ChildProcess::stop(int signal, std::chrono::milliseconds timeout) {
    settled_ = true;
    if (!running()) {
        return status_;
    }
    ::kill(pid_, signal);
    return wait_exit(timeout);
}

std::pair<int, std::string> run(const std::vector<std::string>& argv,
                                const std::string& stdin_text) {
    char out_template[] = "/tmp/cyphonic-run-XXXXXX";
    const int out_fd = ::mkstemp(out_template);
    int pipe_fds[2] = {-1, -1};
    if (out_fd < 0 || ::pipe2(pipe_fds, O_CLOEXEC) != 0) {
        throw std::runtime_error("cannot set up " + argv[0]);
    }
    const pid_t pid = spawn(argv, out_fd, pipe_fds[0]);
    ::close(pipe_fds[0]);
    std::size_t written = 0;
    while (written < stdin_text.size()) {
        const ssize_t n =
            ::write(pipe_fds[1], stdin_text.data() + written, stdin_text.size() - written);
        if (n <= 0) {
            break;
        }
        written += static_cast<std::size_t>(n);
    }
    ::close(pipe_fds[1]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ::close(out_fd);
    std::ifstream in(out_template);
    std::stringstream s;
    s << in.rdbuf();
    ::unlink(out_template);
    return {decode_status(status), s.str()};
}

TempDir::TempDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "cyphonic-test-XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr) {
        throw std::runtime_error("mkdtemp failed");
    }
    path_ = templ;
}

TempDir::~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

}  // namespace cyphonic::testing
