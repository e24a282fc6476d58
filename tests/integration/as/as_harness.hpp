#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "cyphonic/core/address.hpp"
#include "cyphonic/net/as_client.hpp"
#include "cyphonic/wire/messages.hpp"

// Drives the real `cyphonic-as` binary for the integration tests: a throwaway PostgreSQL and a
// private CA shared by the tests of one process, and per test a fresh database, a config file,
// enrolment through the CLI and a `serve` process. The binary listens on port 0 and logs
//   listening tls=<address:port> http=<address:port> ...
// which the harness reads to find its ports. Only the PIDs the harness started are signalled.
namespace cyphonic::as::testing {

struct CommandResult {
    int exit_code = -1;
    std::string out;
    std::string err;
};

// The shared part: PostgreSQL and certificates (scripts/make-certs.sh) with client
// certificates for every DeviceID listed in kClientCertificates, and a second, foreign CA.
class AsEnvironment {
public:
    static AsEnvironment& get();
    [[nodiscard]] const std::filesystem::path& dir() const noexcept { return dir_; }
    [[nodiscard]] std::filesystem::path certs() const { return dir_ / "certs"; }
    [[nodiscard]] std::filesystem::path foreign_certs() const { return dir_ / "foreign"; }
    // A fresh empty database; returns its connection string.
    [[nodiscard]] std::string new_database();

    AsEnvironment(const AsEnvironment&) = delete;
    AsEnvironment& operator=(const AsEnvironment&) = delete;
    ~AsEnvironment();

private:
    AsEnvironment();
    std::filesystem::path dir_;
    int databases_ = 0;
};

class AsHarness {
public:
    // A new database, migrated, and a config file; `overrides` ("key=value") go on every
    // command line as --set.
    explicit AsHarness(std::vector<std::string> overrides = {});
    ~AsHarness();
    AsHarness(const AsHarness&) = delete;
    AsHarness& operator=(const AsHarness&) = delete;

    // Runs `cyphonic-as -c <config> --set ... <args>` to completion.
    CommandResult run(const std::vector<std::string>& args, const std::string& input = "");
    // Runs `cyphonic-as <args>` without the harness's config and overrides.
    CommandResult run_plain(const std::vector<std::string>& args);
    // `device add` that must succeed; `password` goes through --password-stdin.
    void add_device(const std::vector<std::string>& args,
                    const std::optional<std::string>& password = std::nullopt);

    // Starts `serve` and waits until it listens.
    void start();
    // Sends `signal` to the serve process; returns its exit code, or -1 if it did not exit
    // within `timeout` (it is then killed).
    int stop(int signal, std::chrono::milliseconds timeout);
    // Waits for the serve process to exit, without a signal.
    int wait_exit(std::chrono::milliseconds timeout);
    [[nodiscard]] pid_t pid() const noexcept { return pid_; }
    [[nodiscard]] const Endpoint& tls() const noexcept { return tls_; }
    [[nodiscard]] const Endpoint& http() const noexcept { return http_; }
    [[nodiscard]] std::string log() const;
    [[nodiscard]] const std::filesystem::path& config() const noexcept { return config_; }
    [[nodiscard]] const std::string& conninfo() const noexcept { return conninfo_; }

    // Client options for the AS, optionally with the client certificate made for `device`.
    [[nodiscard]] net::AsClientOptions client_options(const std::string& cert_device = "",
                                                      bool foreign = false) const;
    // GET on the HTTP port (/healthz, /readyz, /metrics): the whole response, "" on failure.
    [[nodiscard]] std::string http_get(const std::string& path) const;
    // The value of one /metrics series (e.g. `cyphonic_as_dropped_total{reason="oversized"}`),
    // 0 when absent.
    [[nodiscard]] double metric(const std::string& series) const;
    // Polls metric() until it reaches `at_least` or `timeout` passes; returns the last value.
    double wait_metric(const std::string& series, double at_least,
                       std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;

private:
    std::vector<std::string> command(const std::vector<std::string>& args) const;
    CommandResult execute(const std::vector<std::string>& argv, const std::string& input);

    std::vector<std::string> overrides_;
    std::string conninfo_;
    std::filesystem::path dir_;
    std::filesystem::path config_;
    std::filesystem::path log_;
    pid_t pid_ = -1;
    Endpoint tls_;
    Endpoint http_;
};

// A Login Request for tests.
[[nodiscard]] wire::LoginRequest basic_login(const std::string& device_id,
                                             const std::string& password,
                                             wire::ExecMode mode = wire::ExecMode::Node);
[[nodiscard]] wire::LoginRequest certificate_login(const std::string& device_id,
                                                   wire::ExecMode mode = wire::ExecMode::Node,
                                                   Bytes certificate = {});
[[nodiscard]] wire::LoginRequest mac_login(const std::string& mac);

// DER of a PEM certificate file.
[[nodiscard]] Bytes certificate_der(const std::filesystem::path& pem);

// Today's date in UTC plus `days`.
[[nodiscard]] wire::Date utc_date_plus(int days);

}  // namespace cyphonic::as::testing
