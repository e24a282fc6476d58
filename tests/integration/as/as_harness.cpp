#include "as_harness.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "support/postgres.hpp"

#include "cyphonic/net/asio.hpp"

extern char** environ;  // NOLINT(readability-identifier-naming)

namespace cyphonic::as::testing {

namespace {

using namespace std::chrono_literals;

std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

pid_t spawn(const std::vector<std::string>& argv, const std::filesystem::path& in,
            const std::filesystem::path& out, const std::filesystem::path& err) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, in.c_str(), O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const auto& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        throw std::runtime_error("posix_spawn failed for " + argv[0]);
    }
    return pid;
}

// Exit code, or 128 + signal; -1 when still running after `timeout`.
int wait_for(pid_t pid, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        int status = 0;
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            if (WIFEXITED(status)) {
                return WEXITSTATUS(status);
            }
            return 128 + WTERMSIG(status);
        }
        if (r < 0 || std::chrono::steady_clock::now() >= deadline) {
            return -1;
        }
        std::this_thread::sleep_for(5ms);
    }
}

std::string quoted(const std::string& s) {
    std::string out = "\"";
    for (const char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    return out + "\"";
}

constexpr const char* kClientCertificates[] = {"node-cert", "node-other", "ad-cert", "gn-cert"};

cyphonic::testing::TestPostgres& postgres() {
    static cyphonic::testing::TestPostgres instance;
    return instance;
}

}  // namespace

// ---- AsEnvironment -------------------------------------------------------------------------

AsEnvironment& AsEnvironment::get() {
    static AsEnvironment instance;
    return instance;
}

AsEnvironment::AsEnvironment() {
    std::string templ = (std::filesystem::temp_directory_path() / "cyphonic-as-XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr) {
        throw std::runtime_error("mkdtemp failed");
    }
    dir_ = templ;
    const std::string script = std::string(CYPHONIC_SOURCE_DIR) + "/scripts/make-certs.sh";
    std::string clients;
    for (const char* c : kClientCertificates) {
        clients += std::string(" ") + c;
    }
    cyphonic::testing::run_command(script + " " + certs().string() + clients + " 2>&1");
    cyphonic::testing::run_command(script + " " + foreign_certs().string() + " node-cert 2>&1");
    (void)postgres();
}

AsEnvironment::~AsEnvironment() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
}

std::string AsEnvironment::new_database() {
    return postgres().create_database("as_" + std::to_string(::getpid()) + "_" +
                                      std::to_string(++databases_));
}

// ---- AsHarness -----------------------------------------------------------------------------

AsHarness::AsHarness(std::vector<std::string> overrides) : overrides_(std::move(overrides)) {
    auto& env = AsEnvironment::get();
    conninfo_ = env.new_database();
    static int counter = 0;
    dir_ = env.dir() / ("h" + std::to_string(++counter));
    std::filesystem::create_directories(dir_);
    config_ = dir_ / "as.yaml";
    log_ = dir_ / "serve.log";
    const auto certs = env.certs();
    std::ofstream(config_) << "# written by as_harness.cpp\n"
                           << "listen:\n  address: 127.0.0.1\n  port: 0\n"
                           << "tls:\n"
                           << "  cert: " << quoted((certs / "server.crt").string()) << "\n"
                           << "  key: " << quoted((certs / "server.key").string()) << "\n"
                           << "  client_ca: " << quoted((certs / "ca.crt").string()) << "\n"
                           << "domain: cyphonic.test\n"
                           << "db:\n  conninfo: " << quoted(conninfo_) << "\n"
                           << "nms:\n  ipv4: 192.0.2.10\n  ipv6: \"2001:db8::10\"\n"
                           << "login:\n  kdf_threads: 2\n"
                           << "http:\n  listen: \"127.0.0.1:0\"\n";
    const auto migrated = run({"migrate"});
    if (migrated.exit_code != 0) {
        throw std::runtime_error("migrate failed: " + migrated.err);
    }
}

// A server the test did not stop itself must still be alive and exit 0 on SIGTERM: a crash
// after the last assertion is still a failure.
AsHarness::~AsHarness() {
    if (pid_ <= 0) {
        return;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        ADD_FAILURE() << "cyphonic-as serve died before the end of the test, status "
                      << (WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status)) << ":\n"
                      << read_file(log_);
        return;
    }
    ::kill(pid_, SIGTERM);
    const int code = wait_for(pid_, 15s);
    if (code != 0) {
        if (code == -1) {
            ::kill(pid_, SIGKILL);
            wait_for(pid_, 5s);
        }
        ADD_FAILURE() << "cyphonic-as serve did not exit 0 on SIGTERM (status " << code << "):\n"
                      << read_file(log_);
    }
}

std::vector<std::string> AsHarness::command(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {CYPHONIC_AS_BINARY, "-c", config_.string()};
    for (const auto& o : overrides_) {
        argv.push_back("--set");
        argv.push_back(o);
    }
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

CommandResult AsHarness::run(const std::vector<std::string>& args, const std::string& input) {
    return execute(command(args), input);
}

CommandResult AsHarness::run_plain(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {CYPHONIC_AS_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    return execute(argv, "");
}

CommandResult AsHarness::execute(const std::vector<std::string>& argv, const std::string& input) {
    static std::atomic<int> counter{0};
    const std::string n = std::to_string(++counter);
    const auto in = dir_ / ("cmd" + n + ".in");
    const auto out = dir_ / ("cmd" + n + ".out");
    const auto err = dir_ / ("cmd" + n + ".err");
    std::ofstream(in) << input;
    const pid_t pid = spawn(argv, in, out, err);
    CommandResult r;
    r.exit_code = wait_for(pid, 60s);
    r.out = read_file(out);
    r.err = read_file(err);
    return r;
}

void AsHarness::add_device(const std::vector<std::string>& args,
                           const std::optional<std::string>& password) {
    std::vector<std::string> full = {"device", "add"};
    full.insert(full.end(), args.begin(), args.end());
    if (password) {
        full.emplace_back("--password-stdin");
    }
    const auto r = run(full, password ? *password + "\n" : std::string());
    if (r.exit_code != 0) {
        throw std::runtime_error("device add failed (" + std::to_string(r.exit_code) +
                                 "): " + r.err);
    }
}

void AsHarness::start() {
    pid_ = spawn(command({"serve"}), "/dev/null", "/dev/null", log_);
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
        const std::string text = read_file(log_);
        const auto at = text.find("listening tls=");
        const auto line_end = at == std::string::npos ? at : text.find('\n', at);
        if (line_end != std::string::npos) {
            std::istringstream words(text.substr(at, line_end - at));
            std::string word;
            while (words >> word) {
                if (word.starts_with("tls=")) {
                    tls_ = *Endpoint::parse(word.substr(4));
                } else if (word.starts_with("http=")) {
                    http_ = *Endpoint::parse(word.substr(5));
                }
            }
            return;
        }
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            throw std::runtime_error("cyphonic-as serve exited at start:\n" + text);
        }
        std::this_thread::sleep_for(10ms);
    }
    throw std::runtime_error("cyphonic-as serve did not start listening:\n" + read_file(log_));
}

int AsHarness::stop(int signal, std::chrono::milliseconds timeout) {
    if (pid_ <= 0) {
        return -1;
    }
    ::kill(pid_, signal);
    return wait_exit(timeout);
}

int AsHarness::wait_exit(std::chrono::milliseconds timeout) {
    const int code = wait_for(pid_, timeout);
    if (code == -1) {
        ::kill(pid_, SIGKILL);
        wait_for(pid_, 5s);
    }
    pid_ = -1;
    return code;
}

std::string AsHarness::log() const {
    return read_file(log_);
}

net::AsClientOptions AsHarness::client_options(const std::string& cert_device, bool foreign) const {
    net::AsClientOptions o;
    o.host = tls_.address.to_string();
    o.port = tls_.port;
    const auto& env = AsEnvironment::get();
    o.ca_file = env.certs() / "ca.crt";
    if (!cert_device.empty()) {
        const auto dir = foreign ? env.foreign_certs() : env.certs();
        o.client_cert = dir / ("client-" + cert_device + ".crt");
        o.client_key = dir / ("client-" + cert_device + ".key");
    }
    o.timeout = 10s;
    return o;
}

std::string AsHarness::http_get(const std::string& path) const {
    try {
        asio::io_context io;
        asio::ip::tcp::socket socket(io);
        socket.connect({asio::ip::make_address(http_.address.to_string()), http_.port});
        const std::string request = "GET " + path + " HTTP/1.1\r\nHost: test\r\n\r\n";
        asio::write(socket, asio::buffer(request));
        std::string response;
        std::array<char, 4096> chunk{};
        boost::system::error_code ec;
        for (;;) {
            const std::size_t n = socket.read_some(asio::buffer(chunk), ec);
            response.append(chunk.data(), n);
            if (ec) {
                break;
            }
        }
        return response;
    } catch (const std::exception&) {
        return {};
    }
}

double AsHarness::metric(const std::string& series) const {
    const std::string body = http_get("/metrics");
    std::istringstream lines(body);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.size() > series.size() && line.starts_with(series) && line[series.size()] == ' ') {
            return std::stod(line.substr(series.size() + 1));
        }
    }
    return 0;
}

double AsHarness::wait_metric(const std::string& series, double at_least,
                              std::chrono::milliseconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    double v = metric(series);
    while (v < at_least && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(20ms);
        v = metric(series);
    }
    return v;
}

// ---- helpers -------------------------------------------------------------------------------

wire::LoginRequest basic_login(const std::string& device_id, const std::string& password,
                               wire::ExecMode mode) {
    wire::LoginRequest r;
    r.auth_type = wire::AuthType::Basic;
    r.exec_mode = mode;
    r.device_id = device_id;
    r.password = password;
    return r;
}

wire::LoginRequest certificate_login(const std::string& device_id, wire::ExecMode mode,
                                     Bytes certificate) {
    wire::LoginRequest r;
    r.auth_type = wire::AuthType::Certificate;
    r.exec_mode = mode;
    r.device_id = device_id;
    r.certificate = std::move(certificate);
    return r;
}

wire::LoginRequest mac_login(const std::string& mac) {
    wire::LoginRequest r;
    r.auth_type = wire::AuthType::MacAddress;
    r.exec_mode = wire::ExecMode::GeneralNode;
    r.device_id = mac;
    return r;
}

Bytes certificate_der(const std::filesystem::path& pem) {
    FILE* f = std::fopen(pem.c_str(), "r");
    if (f == nullptr) {
        throw std::runtime_error("cannot open " + pem.string());
    }
    X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    if (cert == nullptr) {
        throw std::runtime_error("not a PEM certificate: " + pem.string());
    }
    unsigned char* der = nullptr;
    const int len = i2d_X509(cert, &der);
    X509_free(cert);
    Bytes out(reinterpret_cast<std::byte*>(der), reinterpret_cast<std::byte*>(der) + len);
    OPENSSL_free(der);
    return out;
}

wire::Date utc_date_plus(int days) {
    const auto today = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
    const std::chrono::year_month_day ymd(today + std::chrono::days(days));
    return wire::Date{static_cast<std::uint16_t>(static_cast<int>(ymd.year())),
                      static_cast<std::uint8_t>(static_cast<unsigned>(ymd.month())),
                      static_cast<std::uint8_t>(static_cast<unsigned>(ymd.day()))};
}

}  // namespace cyphonic::as::testing
