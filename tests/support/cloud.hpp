#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "support/postgres.hpp"
#include "support/process.hpp"

#include "cyphonic/core/address.hpp"
#include "cyphonic/core/ids.hpp"
#include "cyphonic/net/asio.hpp"

// Helpers shared by the cloud-service integration tests.
namespace cyphonic::testing {

// Runs `task` on `io` until it completes and returns its value; fails the test (throws) after
// `timeout`.
template <class T>
T run_sync(asio::io_context& io, asio::awaitable<T> task,
           std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    std::optional<T> result;
    std::exception_ptr error;
    asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, T value) {
        error = e;
        if (!e) {
            result.emplace(std::move(value));
        }
    });
    io.restart();
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!result && !error) {
        if (io.run_one_for(std::chrono::milliseconds(100)) == 0 &&
            std::chrono::steady_clock::now() > deadline) {
            throw std::runtime_error("run_sync: timeout");
        }
    }
    if (error) {
        std::rethrow_exception(error);
    }
    return std::move(*result);
}

// A device enrolled straight into the AS tables, as `cyphonic-as device add` plus a login
// would leave it: NodeID, FQDN, virtual addresses and a current NMS key.
struct TestNode {
    std::string device_id;
    NodeId node_id;
    std::string fqdn;
    Ipv4Address virtual_ipv4;
    Ipv6Address virtual_ipv6;
    std::array<std::byte, 32> nms_key{};
    int generation = 1;
};

// Creates the AS and NMS schema in a fresh database of `pg` by running the migrations of the
// real binaries (`cyphonic-as migrate` needs the AS binary; when `as_sql_dir` is given the AS
// schema is applied from its SQL files instead). Returns the connection string.
std::string make_cloud_database(const TestPostgres& pg, const std::string& name);

// Inserts a device (kind 1) with a fresh NodeID and NMS key into the database.
TestNode enrol_node(const std::string& conninfo, const std::string& device_id, int index);
// Replaces the node's NMS key (as a new login would), bumping the generation.
void rotate_key(const std::string& conninfo, TestNode& node);

// Fetches http://127.0.0.1:<port><path>; returns the body ("" if the server is down).
std::string http_get(const Endpoint& server, const std::string& path);
// The value of one Prometheus sample line `name{labels} value` (0 if absent).
double metric(const std::string& metrics_text, const std::string& sample);

}  // namespace cyphonic::testing
