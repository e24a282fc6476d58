// cyphonic-loadgen: simulates many nodes against the cloud services and prints throughput and
// latency percentiles. Not a test: it reports figures, and a run with failures says so.
//
//   cyphonic-loadgen nms --db CONNINFO --nms 127.0.0.1:4600 --nodes 500 --rate 5000
//                        --duration 10 --mode keepalive|direction
//     Enrols --nodes devices with NMS keys in the database (as AS would after a login),
//     registers each from its own UDP socket, then sends Keep Alives (or Direction Requests
//     between node pairs, the responders confirming) at --rate per second for --duration s.
//
//   cyphonic-loadgen as --as 127.0.0.1:8443 --ca ca.crt --device ID --password-file F
//                       --concurrency 8 --duration 10
//     Logs the device in over and over from --concurrency TLS connections (a new NMS key each
//     time, as AS issues at every login) and reports logins per second.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <vector>

#include <CLI/CLI.hpp>

#include "support/cloud.hpp"

#include "cyphonic/net/as_client.hpp"
#include "cyphonic/net/nms_session.hpp"
#include "cyphonic/signaling/path_id.hpp"

namespace {

using namespace cyphonic;
using Clock = std::chrono::steady_clock;
using std::chrono::duration;
using std::chrono::milliseconds;

struct Stats {
    std::vector<double> latencies_ms;
    std::uint64_t ok = 0;
    std::uint64_t failed = 0;

    void print(const char* what, double seconds) {
        std::sort(latencies_ms.begin(), latencies_ms.end());
        auto pct = [this](double p) {
            if (latencies_ms.empty()) {
                return 0.0;
            }
            const auto i =
                static_cast<std::size_t>(p * static_cast<double>(latencies_ms.size() - 1));
            return latencies_ms[i];
        };
        std::printf(
            "%s: %llu ok, %llu failed in %.1f s = %.0f/s; latency ms p50 %.2f p90 %.2f "
            "p99 %.2f max %.2f\n",
            what, static_cast<unsigned long long>(ok), static_cast<unsigned long long>(failed),
            seconds, static_cast<double>(ok) / seconds, pct(0.5), pct(0.9), pct(0.99),
            latencies_ms.empty() ? 0.0 : latencies_ms.back());
    }
};

struct NmsOptions {
    std::string db;
    std::string nms = "127.0.0.1:4600";
    int nodes = 200;
    double rate = 2000;
    double duration_s = 10;
    std::string mode = "keepalive";
    std::string prefix = "loadgen";
    int concurrency = 256;
};

wire::RegistrationRequest honest(const net::NmsSession& s) {
    const auto local = s.local_endpoint();
    wire::RegistrationRequest r;
    r.application_port = local.port;
    if (local.address.is_v4()) {
        r.node_ipv4 = local.address.v4();
    } else {
        r.node_ipv6 = local.address.v6();
    }
    return r;
}

asio::awaitable<void> register_all(std::vector<std::unique_ptr<net::NmsSession>>& sessions,
                                   int& failures) {
    for (auto& s : sessions) {
        const auto request = honest(*s);
        auto task = s->register_node(request, true);
        const auto r = co_await std::move(task);
        if (!r.has_value()) {
            ++failures;
        }
    }
}

// One worker: sends requests back to back from its share of the nodes, paced by a shared
// schedule so the total rate is `rate`.
asio::awaitable<void> worker(std::vector<net::NmsSession*> mine,
                             std::vector<const testing::TestNode*> peers,
                             std::vector<const testing::TestNode*> selves, bool direction,
                             Clock::time_point start, Clock::time_point end, double per_worker_rate,
                             Stats& stats) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    std::uint64_t sent = 0;
    std::size_t next = 0;
    while (Clock::now() < end) {
        const auto due = start + std::chrono::duration_cast<Clock::duration>(
                                     duration<double>(static_cast<double>(sent) / per_worker_rate));
        if (due > Clock::now()) {
            timer.expires_at(due);
            co_await timer.async_wait(asio::use_awaitable);
        }
        ++sent;
        const std::size_t i = next++ % mine.size();
        const auto t0 = Clock::now();
        bool ok = false;
        if (direction) {
            wire::DirectionRequest d;
            d.path_id = signaling::make_path_id(*Fqdn::parse(selves[i]->fqdn),
                                                *Fqdn::parse(peers[i]->fqdn));
            d.responder_fqdn = peers[i]->fqdn;
            auto task = mine[i]->direction_request(d);
            ok = (co_await std::move(task)).has_value();
        } else {
            auto task = mine[i]->keep_alive(milliseconds(5000));
            ok = (co_await std::move(task)).has_value();
        }
        if (ok) {
            ++stats.ok;
            stats.latencies_ms.push_back(duration<double, std::milli>(Clock::now() - t0).count());
        } else {
            ++stats.failed;
        }
    }
}

int run_nms(const NmsOptions& o) {
    const auto nms = Endpoint::parse(o.nms);
    if (!nms) {
        std::fprintf(stderr, "cyphonic-loadgen: --nms must be address:port\n");
        return 2;
    }
    const bool direction = o.mode == "direction";
    std::printf("enrolling %d nodes in the database...\n", o.nodes);
    std::vector<testing::TestNode> nodes;
    nodes.reserve(static_cast<std::size_t>(o.nodes));
    const auto run_id =
        std::to_string(std::chrono::system_clock::now().time_since_epoch().count() % 1000000);
    for (int i = 0; i < o.nodes; ++i) {
        nodes.push_back(testing::enrol_node(o.db, o.prefix + run_id + "-" + std::to_string(i), i));
    }
    asio::io_context io;
    std::vector<std::unique_ptr<net::NmsSession>> sessions;
    for (const auto& n : nodes) {
        net::NmsSession::Options opts{n.node_id, wire::CipherSuiteId::Aes256Gcm, n.nms_key, *nms,
                                      Endpoint{nms->address, 0}};
        opts.give_up = milliseconds(5000);
        sessions.push_back(std::make_unique<net::NmsSession>(io, opts));
        sessions.back()->start();
    }
    int failures = 0;
    const auto reg_start = Clock::now();
    testing::run_sync(
        io,
        [&]() -> asio::awaitable<int> {
            auto task = register_all(sessions, failures);
            co_await std::move(task);
            co_return 0;
        }(),
        std::chrono::minutes(10));
    const double reg_s = duration<double>(Clock::now() - reg_start).count();
    std::printf("registered %d nodes in %.1f s (%d failed)\n", o.nodes - failures, reg_s, failures);

    // Initiators are the first half when routing, each to its partner in the second half.
    const auto workers = static_cast<std::size_t>(std::max(1, o.concurrency));
    std::vector<Stats> stats(workers);
    const auto start = Clock::now() + milliseconds(100);
    const auto end =
        start + std::chrono::duration_cast<Clock::duration>(duration<double>(o.duration_s));
    const std::size_t active = direction ? sessions.size() / 2 : sessions.size();
    for (std::size_t w = 0; w < workers; ++w) {
        std::vector<net::NmsSession*> mine;
        std::vector<const testing::TestNode*> selves;
        std::vector<const testing::TestNode*> peers;
        for (std::size_t i = w; i < active; i += workers) {
            mine.push_back(sessions[i].get());
            selves.push_back(&nodes[i]);
            peers.push_back(&nodes[direction ? i + active : i]);
        }
        if (mine.empty()) {
            continue;
        }
        auto task = worker(mine, peers, selves, direction, start, end,
                           o.rate / static_cast<double>(std::min(workers, active)), stats[w]);
        asio::co_spawn(io, std::move(task), asio::detached);
    }
    io.restart();
    io.run_until(end + std::chrono::seconds(6));
    Stats total;
    for (auto& s : stats) {
        total.ok += s.ok;
        total.failed += s.failed;
        total.latencies_ms.insert(total.latencies_ms.end(), s.latencies_ms.begin(),
                                  s.latencies_ms.end());
    }
    total.print(direction ? "direction requests" : "keep alives", o.duration_s);
    return total.failed == 0 ? 0 : 1;
}

struct AsOptions {
    std::string as = "127.0.0.1:8443";
    std::string ca;
    std::string device;
    std::string password_file;
    int concurrency = 8;
    double duration_s = 10;
};

asio::awaitable<void> login_worker(net::AsClientOptions options, wire::LoginRequest request,
                                   Clock::time_point end, Stats& stats) {
    net::AsClient client(co_await asio::this_coro::executor, options);
    while (Clock::now() < end) {
        const auto t0 = Clock::now();
        auto task = client.login(request);
        const auto result = co_await std::move(task);
        if (result.has_value()) {
            ++stats.ok;
            stats.latencies_ms.push_back(duration<double, std::milli>(Clock::now() - t0).count());
        } else {
            ++stats.failed;
            if (stats.failed <= 3) {
                std::fprintf(stderr, "login failed: %s\n", result.error().describe().c_str());
            }
        }
    }
}

int run_as(const AsOptions& o) {
    const auto as = Endpoint::parse(o.as);
    if (!as) {
        std::fprintf(stderr, "cyphonic-loadgen: --as must be address:port\n");
        return 2;
    }
    std::ifstream in(o.password_file);
    std::string password;
    if (!std::getline(in, password)) {
        std::fprintf(stderr, "cyphonic-loadgen: cannot read %s\n", o.password_file.c_str());
        return 2;
    }
    net::AsClientOptions options;
    options.host = as->address.to_string();
    options.port = as->port;
    options.ca_file = o.ca;
    wire::LoginRequest request;
    request.auth_type = wire::AuthType::Basic;
    request.exec_mode = wire::ExecMode::Node;
    request.device_id = o.device;
    request.password = password;
    asio::io_context io;
    std::vector<Stats> stats(static_cast<std::size_t>(o.concurrency));
    const auto end =
        Clock::now() + std::chrono::duration_cast<Clock::duration>(duration<double>(o.duration_s));
    for (auto& s : stats) {
        auto task = login_worker(options, request, end, s);
        asio::co_spawn(io, std::move(task), asio::detached);
    }
    const auto start = Clock::now();
    io.run();
    Stats total;
    for (auto& s : stats) {
        total.ok += s.ok;
        total.failed += s.failed;
        total.latencies_ms.insert(total.latencies_ms.end(), s.latencies_ms.begin(),
                                  s.latencies_ms.end());
    }
    total.print("logins", duration<double>(Clock::now() - start).count());
    return total.failed == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App cli{"cyphonic-loadgen: many simulated nodes against the CYPHONIC cloud services"};
    cli.require_subcommand(1);
    NmsOptions nms;
    auto* nms_cmd = cli.add_subcommand("nms", "keep alives or direction requests against NMS");
    nms_cmd->add_option("--db", nms.db, "libpq connection string of the AS/NMS database")
        ->required();
    nms_cmd->add_option("--nms", nms.nms, "NMS address:port")->capture_default_str();
    nms_cmd->add_option("--nodes", nms.nodes, "simulated nodes")->capture_default_str();
    nms_cmd->add_option("--rate", nms.rate, "requests per second, all nodes together")
        ->capture_default_str();
    nms_cmd->add_option("--duration", nms.duration_s, "seconds of load")->capture_default_str();
    nms_cmd
        ->add_option("--concurrency", nms.concurrency,
                     "requests outstanding at once (each worker waits for its answer)")
        ->capture_default_str();
    nms_cmd->add_option("--mode", nms.mode, "keepalive or direction")
        ->check(CLI::IsMember({"keepalive", "direction"}))
        ->capture_default_str();
    AsOptions as;
    auto* as_cmd = cli.add_subcommand("as", "repeated logins against AS (basic auth)");
    as_cmd->add_option("--as", as.as, "AS address:port")->capture_default_str();
    as_cmd->add_option("--ca", as.ca, "root CA of the AS certificate")->required();
    as_cmd->add_option("--device", as.device, "DeviceID to log in")->required();
    as_cmd->add_option("--password-file", as.password_file, "file holding its password")
        ->required();
    as_cmd->add_option("--concurrency", as.concurrency, "parallel TLS connections")
        ->capture_default_str();
    as_cmd->add_option("--duration", as.duration_s, "seconds of load")->capture_default_str();
    CLI11_PARSE(cli, argc, argv);
    try {
        if (nms_cmd->parsed()) {
            return run_nms(nms);
        }
        if (as_cmd->parsed()) {
            return run_as(as);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "cyphonic-loadgen: %s\n", e.what());
        return 1;
    }
    return 0;
}
