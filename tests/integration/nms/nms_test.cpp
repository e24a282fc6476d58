// cyphonic-nms against a real PostgreSQL, driven over loopback UDP by net::NmsSession, as a node
// would. Devices and NMS keys are written the way AS leaves them (support/cloud.hpp), so this
// test isolates NMS; tests/integration/cloud drives the same through AS.
#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "support/cloud.hpp"

#include "cyphonic/net/nms_session.hpp"
#include "cyphonic/signaling/path_id.hpp"

namespace cyphonic::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TestPostgres& postgres() {
    static TestPostgres instance;
    return instance;
}

const IpAddress kLoopback4 = *IpAddress::parse("127.0.0.1");
const IpAddress kLoopback6 = *IpAddress::parse("::1");

// One cyphonic-nms process with its ports read from its log.
class NmsProcess {
public:
    NmsProcess(const TempDir& dir, const std::string& conninfo, const std::string& name,
               std::vector<std::string> extra = {}) {
        std::vector<std::string> argv = {
            CYPHONIC_NMS_BIN, "serve",
            "--set",          "db.conninfo=" + conninfo,
            "--set",          "nms.node_id=000000000000000000000000000000aa",
            "--set",          "listen.ipv4=127.0.0.1",
            "--set",          "listen.ipv6=::1",
            "--set",          "listen.port=0",
            "--set",          "http.listen=127.0.0.1:0",
            "--set",          "log.level=debug"};
        argv.insert(argv.end(), extra.begin(), extra.end());
        process_ = std::make_unique<ChildProcess>(argv, dir.path() / (name + ".log"));
        port4_ = static_cast<std::uint16_t>(
            std::stoi(process_->wait_for_log(R"(listening udp=127\.0\.0\.1:(\d+))")));
        port6_ = static_cast<std::uint16_t>(
            std::stoi(process_->wait_for_log(R"(listening udp=\[::1\]:(\d+))")));
        http_ = static_cast<std::uint16_t>(
            std::stoi(process_->wait_for_log(R"(listening http=127\.0\.0\.1:(\d+))")));
    }
    [[nodiscard]] Endpoint v4() const { return {kLoopback4, port4_}; }
    [[nodiscard]] Endpoint v6() const { return {kLoopback6, port6_}; }
    [[nodiscard]] Endpoint http() const { return {kLoopback4, http_}; }
    [[nodiscard]] std::string metrics() const { return http_get(http(), "/metrics"); }
    ChildProcess& process() { return *process_; }

private:
    std::unique_ptr<ChildProcess> process_;
    std::uint16_t port4_ = 0;
    std::uint16_t port6_ = 0;
    std::uint16_t http_ = 0;
};

class NmsTest : public ::testing::Test {
protected:
    void SetUp() override {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        conninfo_ = make_cloud_database(postgres(), std::string("nms_") + info->name());
    }

    void TearDown() override {
        if (HasFailure()) {
            // The service logs explain most failures.
            for (const auto& e : std::filesystem::directory_iterator(dir_.path())) {
                if (e.path().extension() == ".log") {
                    std::ifstream in(e.path());
                    std::stringstream text;
                    text << in.rdbuf();
                    std::string tail = text.str();
                    if (tail.size() > 6000) {
                        tail = tail.substr(tail.size() - 6000);
                    }
                    std::fprintf(stderr, "---- %s\n%s\n", e.path().c_str(), tail.c_str());
                }
            }
        }
    }

    std::unique_ptr<net::NmsSession> session(const TestNode& node, const Endpoint& nms,
                                             const IpAddress& local = kLoopback4) {
        net::NmsSession::Options o{node.node_id, wire::CipherSuiteId::Aes256Gcm, node.nms_key, nms,
                                   Endpoint{local, 0}};
        o.give_up = milliseconds(4000);
        auto s = std::make_unique<net::NmsSession>(io_, o);
        s->start();
        return s;
    }

    // A registration that reports the session's own socket: no NAT.
    static wire::RegistrationRequest honest(const net::NmsSession& s) {
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

    wire::RegistrationResponse register_ok(net::NmsSession& s, wire::RegistrationRequest r,
                                           bool first = true) {
        auto result = run_sync(io_, s.register_node(r, first));
        EXPECT_TRUE(result.has_value()) << (result ? "" : result.error().describe());
        return result.has_value() ? *result : wire::RegistrationResponse{};
    }

    Expected<wire::RouteDirection, net::NmsFailure> direction(net::NmsSession& s,
                                                              const TestNode& from,
                                                              const std::string& to_fqdn) {
        wire::DirectionRequest d;
        d.path_id = signaling::make_path_id(*Fqdn::parse(from.fqdn), *Fqdn::parse(to_fqdn));
        d.responder_fqdn = to_fqdn;
        return run_sync(io_, s.direction_request(d));
    }

    TempDir dir_;
    std::string conninfo_;
    asio::io_context io_;
};

TEST_F(NmsTest, RegistrationWithoutNatGetsFlagZero) {
    NmsProcess nms(dir_, conninfo_, "nms");
    const auto a = enrol_node(conninfo_, "alpha", 0);
    auto s = session(a, nms.v4());
    EXPECT_FALSE(register_ok(*s, honest(*s)).behind_nat);
}

TEST_F(NmsTest, RegistrationBehindNatGetsFlagOne) {
    NmsProcess nms(dir_, conninfo_, "nms");
    const auto a = enrol_node(conninfo_, "alpha", 0);
    auto s = session(a, nms.v4());
    // The node reports its private address; NMS sees the loopback source.
    wire::RegistrationRequest r = honest(*s);
    r.node_ipv4 = *Ipv4Address::parse("192.168.1.20");
    EXPECT_TRUE(register_ok(*s, r).behind_nat);
    // Same address but another port (a port-translating NAT) is NAT too.
    r = honest(*s);
    r.application_port = static_cast<std::uint16_t>(r.application_port + 1);
    EXPECT_TRUE(register_ok(*s, r, false).behind_nat);
    // Over IPv6.
    auto s6 = session(a, nms.v6(), kLoopback6);
    EXPECT_FALSE(register_ok(*s6, honest(*s6), false).behind_nat);
}

TEST_F(NmsTest, KeepAliveIsAckedOnlyAfterRegistration) {
    NmsProcess nms(dir_, conninfo_, "nms");
    const auto a = enrol_node(conninfo_, "alpha", 0);
    auto s = session(a, nms.v4());
    auto before = run_sync(io_, s->keep_alive(milliseconds(2000)));
    ASSERT_FALSE(before.has_value());
    EXPECT_EQ(before.error().kind, net::NmsFailure::Kind::Error);
    EXPECT_EQ(before.error().code, wire::ErrorCode::BadRequest);
    register_ok(*s, honest(*s));
    for (int i = 0; i < 5; ++i) {
        auto ka = run_sync(io_, s->keep_alive(milliseconds(2000)));
        EXPECT_TRUE(ka.has_value()) << (ka ? "" : ka.error().describe());
    }
    EXPECT_GE(
        metric(nms.metrics(), R"(cyphonic_nms_requests_total{type="keep_alive",result="ok"})"), 5);
}

TEST_F(NmsTest, DirectRouteSelectionReachesBothEnds) {
    NmsProcess nms(dir_, conninfo_, "nms");
    const auto a = enrol_node(conninfo_, "alpha", 0);
    const auto b = enrol_node(conninfo_, "bravo", 1);
    auto sa = session(a, nms.v4());
    auto sb = session(b, nms.v4());
    int confirmed = 0;
    wire::RouteDirection seen_by_responder;
    sb->on_route_direction([&](const wire::BaseHeader&, const wire::RouteDirection& d) {
        ++confirmed;
        seen_by_responder = d;
    });
    register_ok(*sa, honest(*sa));
    register_ok(*sb, honest(*sb));
    auto route = direction(*sa, a, b.fqdn);
    ASSERT_TRUE(route.has_value()) << route.error().describe();
    EXPECT_EQ(route->process, wire::ProcessCode::Direct);
    EXPECT_GE(confirmed, 1);
    EXPECT_EQ(*route, seen_by_responder);
    EXPECT_EQ(route->responder_virtual_ipv4, b.virtual_ipv4);
    EXPECT_EQ(route->responder_virtual_ipv6, b.virtual_ipv6);
    EXPECT_EQ(route->initiator_virtual_ipv4, a.virtual_ipv4);
    EXPECT_EQ(route->nat_responder_port, sb->local_endpoint().port);
    EXPECT_EQ(route->nat_responder_ipv4, kLoopback4.v4());
    EXPECT_EQ(route->nat_initiator_port, sa->local_endpoint().port);
    EXPECT_EQ(route->responder_fqdn, b.fqdn);
    EXPECT_EQ(route->initiator_fqdn, a.fqdn);
    EXPECT_NE(route->tunnel_key, route->temp_key);
    EXPECT_TRUE(route->trs_ipv4.is_unspecified());
}

TEST_F(NmsTest, MetricsCountActiveNodesAndPaths) {
    NmsProcess nms(dir_, conninfo_, "nms", {"--set", "node.offline_after_s=4"});
    const auto a = enrol_node(conninfo_, "alpha", 0);
    const auto b = enrol_node(conninfo_, "bravo", 1);
    auto sa = session(a, nms.v4());
    auto sb = session(b, nms.v4());
    register_ok(*sa, honest(*sa));
    register_ok(*sb, honest(*sb));
    ASSERT_TRUE(direction(*sa, a, b.fqdn).has_value());
    // The gauges follow the database at each sweep (every offline_after_s / 4).
    const auto deadline = std::chrono::steady_clock::now() + seconds(5);
    std::string text;
    while (std::chrono::steady_clock::now() < deadline) {
        text = nms.metrics();
        if (metric(text, "cyphonic_nms_active_paths") == 1) {
            break;
        }
        std::this_thread::sleep_for(milliseconds(100));
    }
    EXPECT_EQ(metric(text, "cyphonic_nms_active_nodes"), 2) << text;
    EXPECT_EQ(metric(text, "cyphonic_nms_active_paths"), 1) << text;
}

TEST_F(NmsTest, SharedNatGetsProcessCodeTwoWithApplicationPorts) {
    NmsProcess nms(dir_, conninfo_, "nms");
    const auto a = enrol_node(conninfo_, "alpha", 0);
    const auto b = enrol_node(conninfo_, "bravo", 1);
    auto sa = session(a, nms.v4());
    auto sb = session(b, nms.v4());
    auto ra = honest(*sa);
    ra.node_ipv4 = *Ipv4Address::parse("192.168.1.10");
    ra.application_port = 4800;
    auto rb = honest(*sb);
    rb.node_ipv4 = *Ipv4Address::parse("192.168.1.11");
    rb.application_port = 4801;
    ASSERT_TRUE(register_ok(*sa, ra).behind_nat);
    ASSERT_TRUE(register_ok(*sb, rb).behind_nat);
    auto route = direction(*sa, a, b.fqdn);
    ASSERT_TRUE(route.has_value()) << route.error().describe();
    EXPECT_EQ(route->process, wire::ProcessCode::SharedNat);
    EXPECT_EQ(route->nat_responder_port, 4801);  // C16: Application Ports
    EXPECT_EQ(route->responder_real_ipv4, rb.node_ipv4);
}

TEST_F(NmsTest, UnknownFqdnAndOfflinePeerGetErrors) {
    NmsProcess nms(dir_, conninfo_, "nms", {"--set", "node.offline_after_s=2"});
    const auto a = enrol_node(conninfo_, "alpha", 0);
    const auto b = enrol_node(conninfo_, "bravo", 1);
    auto sa = session(a, nms.v4());
    register_ok(*sa, honest(*sa));
    auto unknown = direction(*sa, a, "nobody.cyphonic.test");
    ASSERT_FALSE(unknown.has_value());
    EXPECT_EQ(unknown.error().code, wire::ErrorCode::UnknownPeer);
    // Registered never: offline.
    auto never = direction(*sa, a, b.fqdn);
    ASSERT_FALSE(never.has_value());
    EXPECT_EQ(never.error().code, wire::ErrorCode::PeerUnreachable);
    // Registered, then silent for longer than node.offline_after_s.
    auto sb = session(b, nms.v4());
    register_ok(*sb, honest(*sb));
    sb->close();
    std::this_thread::sleep_for(seconds(3));
    auto silent = direction(*sa, a, b.fqdn);
    ASSERT_FALSE(silent.has_value());
    EXPECT_EQ(silent.error().code, wire::ErrorCode::PeerUnreachable);
    EXPECT_NE(silent.error().reason.find("offline"), std::string::npos) << silent.error().reason;
}

TEST_F(NmsTest, ResponderThatNeverConfirmsGivesPeerUnreachable) {
    NmsProcess nms(dir_, conninfo_, "nms");
    const auto a = enrol_node(conninfo_, "alpha", 0);
    const auto b = enrol_node(conninfo_, "bravo", 1);
    auto sa = session(a, nms.v4());
    auto sb = session(b, nms.v4());
    register_ok(*sa, honest(*sa));
    register_ok(*sb, honest(*sb));
    sb->close();  // registered and online, but gone
    const auto start = std::chrono::steady_clock::now();
    auto route = direction(*sa, a, b.fqdn);
    ASSERT_FALSE(route.has_value());
    EXPECT_EQ(route.error().code, wire::ErrorCode::PeerUnreachable);
    EXPECT_NE(route.error().reason.find("did not confirm the route"), std::string::npos)
        << route.error().reason;
    EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(6));  // D19 short budget
    // NMS once freed the reason twice right after sending this Error (a g++ 12 coroutine
    // miscompilation): it must still be alive and serving, and again for a second request.
    std::this_thread::sleep_for(milliseconds(200));
    ASSERT_TRUE(nms.process().running()) << nms.process().log();
    auto again = direction(*sa, a, b.fqdn);
    ASSERT_FALSE(again.has_value());
    EXPECT_EQ(again.error().code, wire::ErrorCode::PeerUnreachable);
    register_ok(*sa, honest(*sa), false);
    EXPECT_TRUE(nms.process().running());
}

TEST_F(NmsTest, LoginAgainAtOnceIsAnsweredUnderTheNewKeyWithoutLoss) {
    NmsProcess nms(dir_, conninfo_, "nms");
    auto a = enrol_node(conninfo_, "alpha", 0);
    auto first = session(a, nms.v4());
    register_ok(*first, honest(*first));  // NMS now holds the first key
    rotate_key(conninfo_, a);             // logged in again at once: a new NMS key
    auto fresh = session(a, nms.v4());
    const auto start = std::chrono::steady_clock::now();
    register_ok(*fresh, honest(*fresh));
    // Answered on the first send (the session's next retransmission is 0.5 s later).
    EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(400));
    auto ka = run_sync(io_, fresh->keep_alive(milliseconds(400)));
    EXPECT_TRUE(ka.has_value()) << (ka ? "" : ka.error().describe());
    const auto text = nms.metrics();
    EXPECT_EQ(metric(text, R"(cyphonic_nms_dropped_total{reason="bad_mac"})"), 0) << text;
}

TEST_F(NmsTest, ReplayedAndGarbageDatagramsAreDroppedAndCounted) {
    NmsProcess nms(dir_, conninfo_, "nms");
    const auto a = enrol_node(conninfo_, "alpha", 0);
    // A raw socket playing the node, so the exact datagram can be sent twice.
    auto suite = crypto::CipherSuite::create(wire::CipherSuiteId::Aes256Gcm, ByteView(a.nms_key));
    ASSERT_TRUE(suite.has_value());
    signaling::Sealer sealer(std::move(*suite), signaling::Side::Clear);
    asio::ip::udp::socket raw(io_, asio::ip::udp::endpoint(asio::ip::address_v4::loopback(), 0));
    wire::BaseHeader h;
    h.transaction_id = 7;
    h.type = wire::MessageType::RegistrationRequest;
    h.flags = wire::flag::kFirstRegistration;
    h.set_id(a.node_id);
    wire::RegistrationRequest r;
    r.application_port = raw.local_endpoint().port();
    r.node_ipv4 = kLoopback4.v4();
    const auto datagram = sealer.seal(h, r);
    ASSERT_TRUE(datagram.has_value());
    const asio::ip::udp::endpoint to(asio::ip::address_v4::loopback(), nms.v4().port);
    raw.send_to(asio::buffer(*datagram), to);
    std::array<std::byte, 2048> reply{};
    raw.receive(asio::buffer(reply));          // the Registration Response
    raw.send_to(asio::buffer(*datagram), to);  // replay
    Bytes flipped = *datagram;
    flipped[40] ^= std::byte{1};
    raw.send_to(asio::buffer(flipped), to);  // fails authentication
    raw.send_to(asio::buffer(std::string("garbage that is not a header")), to);
    Bytes unknown = *datagram;
    unknown[16] ^= std::byte{0xff};  // an ID nobody has
    raw.send_to(asio::buffer(unknown), to);
    const auto deadline = std::chrono::steady_clock::now() + seconds(5);
    std::string text;
    while (std::chrono::steady_clock::now() < deadline) {
        text = nms.metrics();
        if (metric(text, R"(cyphonic_nms_dropped_total{reason="replayed"})") >= 1 &&
            metric(text, R"(cyphonic_nms_dropped_total{reason="unknown_id"})") >= 1) {
            break;
        }
        std::this_thread::sleep_for(milliseconds(50));
    }
    EXPECT_EQ(metric(text, R"(cyphonic_nms_dropped_total{reason="replayed"})"), 1) << text;
    EXPECT_EQ(metric(text, R"(cyphonic_nms_dropped_total{reason="bad_mac"})"), 1) << text;
    EXPECT_EQ(metric(text, R"(cyphonic_nms_dropped_total{reason="unknown_id"})"), 1) << text;
    EXPECT_GE(metric(text, R"(cyphonic_nms_dropped_total{reason="length_mismatch"})") +
                  metric(text, R"(cyphonic_nms_dropped_total{reason="unknown_version"})") +
                  metric(text, R"(cyphonic_nms_dropped_total{reason="truncated"})"),
              1)
        << text;
    EXPECT_TRUE(nms.process().running());
    // Still serving.
    auto s = session(a, nms.v4());
    register_ok(*s, honest(*s), false);
}

TEST_F(NmsTest, NewLoginKeyIsPickedUpAndOldKeyRejected) {
    NmsProcess nms(dir_, conninfo_, "nms");
    auto a = enrol_node(conninfo_, "alpha", 0);
    auto old_session = session(a, nms.v4());
    register_ok(*old_session, honest(*old_session));
    const auto old_key = a.nms_key;
    rotate_key(conninfo_, a);
    std::this_thread::sleep_for(milliseconds(1100));  // past the key reload interval
    auto fresh = session(a, nms.v4());
    register_ok(*fresh, honest(*fresh));
    // The old key no longer works.
    auto stale = run_sync(io_, old_session->keep_alive(milliseconds(1500)));
    EXPECT_FALSE(stale.has_value());
    (void)old_key;
}

TEST_F(NmsTest, RestartLosesNoRegistration) {
    const auto a = enrol_node(conninfo_, "alpha", 0);
    const auto b = enrol_node(conninfo_, "bravo", 1);
    auto first = std::make_unique<NmsProcess>(dir_, conninfo_, "nms1");
    auto sa = session(a, first->v4());
    auto sb = session(b, first->v4());
    register_ok(*sa, honest(*sa));
    register_ok(*sb, honest(*sb));
    EXPECT_EQ(first->process().stop(SIGTERM), 0);
    // A new process on the same database (another port): the nodes keep alive without
    // registering again and can still be routed to.
    NmsProcess second(dir_, conninfo_, "nms2");
    sa->set_nms(second.v4());
    auto ka = run_sync(io_, sa->keep_alive(milliseconds(2000)));
    EXPECT_TRUE(ka.has_value()) << (ka ? "" : ka.error().describe());
    auto route = direction(*sa, a, b.fqdn);
    EXPECT_TRUE(route.has_value()) << (route ? "" : route.error().describe());
}

TEST_F(NmsTest, TwoProcessesOnOneDatabaseAnswerAnyNode) {
    NmsProcess one(dir_, conninfo_, "nms1");
    NmsProcess two(dir_, conninfo_, "nms2");
    const auto a = enrol_node(conninfo_, "alpha", 0);
    const auto b = enrol_node(conninfo_, "bravo", 1);
    auto sa1 = session(a, one.v4());
    auto sb = session(b, two.v4());
    register_ok(*sa1, honest(*sa1));
    register_ok(*sb, honest(*sb));
    // B registered with the second process; the first routes A to it.
    auto route = direction(*sa1, a, b.fqdn);
    ASSERT_TRUE(route.has_value()) << route.error().describe();
    // A's messages alternate between the two processes from the same socket: both answer,
    // and A accepts the numbers of both (one shared counter, C10).
    for (int round = 0; round < 6; ++round) {
        sa1->set_nms(round % 2 == 0 ? one.v4() : two.v4());
        auto ka = run_sync(io_, sa1->keep_alive(milliseconds(2000)));
        EXPECT_TRUE(ka.has_value())
            << "round " << round << ": " << (ka ? "" : ka.error().describe());
    }
    EXPECT_TRUE(sa1->drops().empty());
}

TEST_F(NmsTest, AdapterIsNotifiedWhenItsGeneralNodesChange) {
    NmsProcess nms(dir_, conninfo_, "nms", {"--set", "notify.poll_s=0.3"});
    const auto adapter = enrol_node(conninfo_, "gateway", 0);
    {
        pqxx::connection c(conninfo_);
        pqxx::work w(c);
        w.exec("UPDATE devices SET kind = 2 WHERE device_id = 'gateway'");
        w.commit();
    }
    auto s = session(adapter, nms.v4());
    int notified = 0;
    s->on_general_node_update([&notified] { ++notified; });
    register_ok(*s, honest(*s));
    // The first poll announces the adapter's (empty) list; wait for that to settle.
    io_.restart();
    io_.run_for(milliseconds(1500));
    const int baseline = notified;
    io_.run_for(milliseconds(1000));
    EXPECT_EQ(notified, baseline) << "notified without a change";
    {
        pqxx::connection c(conninfo_);
        pqxx::work w(c);
        w.exec(
            "INSERT INTO devices (device_id, kind, adapter_id, mac, node_id, fqdn)"
            " VALUES ('sensor1', 3, 'gateway', '02:00:00:00:00:01',"
            " '\\x0000000000000000000000000000abcd', 'sensor1.cyphonic.test')");
        w.commit();
    }
    const auto deadline = std::chrono::steady_clock::now() + seconds(5);
    while (notified == baseline && std::chrono::steady_clock::now() < deadline) {
        io_.run_for(milliseconds(100));
    }
    EXPECT_EQ(notified, baseline + 1);
    // Acknowledged, so not repeated.
    io_.run_for(milliseconds(1500));
    EXPECT_EQ(notified, baseline + 1);
    EXPECT_GE(
        metric(nms.metrics(),
               R"(cyphonic_nms_requests_total{type="general_node_update_notify",result="acked"})"),
        1);
}

TEST_F(NmsTest, SigtermDuringLoadFailsNoRequest) {
    NmsProcess nms(dir_, conninfo_, "nms", {"--set", "shutdown.quiet_s=0.5"});
    constexpr int kNodes = 20;
    std::vector<TestNode> nodes;
    std::vector<std::unique_ptr<net::NmsSession>> sessions;
    for (int i = 0; i < kNodes; ++i) {
        nodes.push_back(enrol_node(conninfo_, "node" + std::to_string(i), i));
        sessions.push_back(session(nodes.back(), nms.v4()));
        register_ok(*sessions.back(), honest(*sessions.back()));
    }
    // Keep alives from every node in a loop; SIGTERM arrives in the middle. Every request
    // sent before the process exits must be answered.
    int ok = 0;
    int failed = 0;
    bool stop = false;
    for (auto& s : sessions) {
        asio::co_spawn(
            io_,
            [&ok, &failed, &stop, sp = s.get()]() -> asio::awaitable<void> {
                while (!stop) {
                    auto r = co_await sp->keep_alive(milliseconds(3000));
                    r.has_value() ? ++ok : ++failed;
                }
            },
            asio::detached);
    }
    io_.restart();
    io_.run_for(milliseconds(700));
    ::kill(nms.process().pid(), SIGTERM);
    // The load stops shortly after, as a load balancer stops sending to an unready replica.
    io_.run_for(milliseconds(200));
    EXPECT_NE(http_get(nms.http(), "/readyz").find("503"), std::string::npos);
    stop = true;
    io_.run_for(seconds(4));
    EXPECT_EQ(nms.process().stop(SIGTERM, seconds(10)), 0);
    EXPECT_GT(ok, 50);
    EXPECT_EQ(failed, 0);
}

}  // namespace
}  // namespace cyphonic::testing
