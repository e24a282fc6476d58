// The three cloud services together, each a real binary on loopback, on one real PostgreSQL:
// devices enrolled with `cyphonic-as device add`, logins over TLS through net::AsClient,
// registration and route selection with net::NmsSession, and a relayed tunnel between an
// IPv4-only and an IPv6-only end through cyphonic-trs (PROTOCOL.md §7.1–§7.6).
#include "support/cloud.hpp"

#include <sys/socket.h>

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "cyphonic/crypto/random.hpp"
#include "cyphonic/net/as_client.hpp"
#include "cyphonic/net/nms_session.hpp"
#include "cyphonic/signaling/path_id.hpp"

namespace cyphonic::testing {
namespace {

using std::chrono::milliseconds;
using Udp = asio::ip::udp;

const IpAddress kLoopback4 = *IpAddress::parse("127.0.0.1");
const IpAddress kLoopback6 = *IpAddress::parse("::1");
const std::string kNmsId = "4e4d5300000000000000000000000003";
const std::string kTrsId = "54525300000000000000000000000004";

// A UDP port free on both 127.0.0.1 and ::1 (the TRS binds one port for both families).
std::uint16_t free_dual_port() {
    asio::io_context io;
    for (int attempt = 0; attempt < 50; ++attempt) {
        Udp::socket v4(io, Udp::endpoint(asio::ip::address_v4::loopback(), 0));
        const auto port = v4.local_endpoint().port();
        boost::system::error_code ec;
        Udp::socket v6(io);
        v6.open(Udp::v6());
        v6.bind(Udp::endpoint(asio::ip::address_v6::loopback(), port), ec);
        if (!ec) {
            return port;
        }
    }
    throw std::runtime_error("no free dual-stack UDP port");
}

class Cloud : public ::testing::Test {
protected:
    static void SetUpTestSuite() { pg_ = new TestPostgres(); }
    static void TearDownTestSuite() {
        delete pg_;
        pg_ = nullptr;
    }

    void SetUp() override {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        conninfo_ = pg_->create_database(std::string("cloud_") + info->name());
        const auto certs = dir_.path() / "certs";
        const auto [cert_status, cert_out] =
            run({std::string(CYPHONIC_SOURCE_DIR) + "/scripts/make-certs.sh", certs.string()});
        ASSERT_EQ(cert_status, 0) << cert_out;
        ca_ = certs / "ca.crt";
        as({"migrate"});
        const auto [nms_status, nms_out] =
            run({CYPHONIC_NMS_BIN, "migrate", "--set", "db.conninfo=" + conninfo_, "--set",
                 "nms.node_id=" + kNmsId});
        ASSERT_EQ(nms_status, 0) << nms_out;

        // TRS first: NMS needs its port and the service key.
        const auto key_file = dir_.path() / "service.key";
        Bytes key(32);
        crypto::random_bytes(key);
        std::ofstream(key_file) << to_hex(key) << "\n";
        trs_port_ = free_dual_port();
        trs_ = std::make_unique<ChildProcess>(
            std::vector<std::string>{CYPHONIC_TRS_BIN, "serve", "--set", "trs.node_id=" + kTrsId,
                                     "--set",
                                     "nms_peers=[\"" + kNmsId + ":2:" + key_file.string() + "\"]",
                                     "--set", "listen.ipv4=127.0.0.1", "--set", "listen.ipv6=::1",
                                     "--set", "listen.port=" + std::to_string(trs_port_), "--set",
                                     "http.listen=127.0.0.1:0", "--set", "log.level=debug"},
            dir_.path() / "trs.log");
        trs_->wait_for_log("listening ipv4=");
        nms_ = std::make_unique<ChildProcess>(
            std::vector<std::string>{
                CYPHONIC_NMS_BIN, "serve", "--set", "db.conninfo=" + conninfo_, "--set",
                "nms.node_id=" + kNmsId, "--set", "listen.ipv4=127.0.0.1", "--set",
                "listen.ipv6=::1", "--set", "listen.port=0", "--set", "http.listen=127.0.0.1:0",
                "--set",
                "trs.servers=[\"node_id=" + kTrsId + ",ipv4=127.0.0.1,ipv6=::1,port=" +
                    std::to_string(trs_port_) + ",cipher=2,key_file=" + key_file.string() + "\"]",
                "--set", "log.level=debug"},
            dir_.path() / "nms.log");
        nms4_ = Endpoint{kLoopback4, static_cast<std::uint16_t>(std::stoi(nms_->wait_for_log(
                                         R"(listening udp=127\.0\.0\.1:(\d+))")))};
        nms6_ = Endpoint{kLoopback6, static_cast<std::uint16_t>(std::stoi(
                                         nms_->wait_for_log(R"(listening udp=\[::1\]:(\d+))")))};
        as_ = std::make_unique<ChildProcess>(
            std::vector<std::string>{CYPHONIC_AS_BIN, "serve",
                                     "--set",         "db.conninfo=" + conninfo_,
                                     "--set",         "listen.address=127.0.0.1",
                                     "--set",         "listen.port=0",
                                     "--set",         "tls.cert=" + (certs / "server.crt").string(),
                                     "--set",         "tls.key=" + (certs / "server.key").string(),
                                     "--set",         "domain=cyphonic.test",
                                     "--set",         "nms.ipv4=127.0.0.1",
                                     "--set",         "nms.ipv6=::1",
                                     "--set",         "http.listen=127.0.0.1:0"},
            dir_.path() / "as.log");
        as_port_ = static_cast<std::uint16_t>(
            std::stoi(as_->wait_for_log(R"(listening tls=127\.0\.0\.1:(\d+))")));
    }

    void TearDown() override {
        if (HasFailure()) {
            for (const char* name : {"as.log", "nms.log", "trs.log"}) {
                std::ifstream in(dir_.path() / name);
                std::stringstream text;
                text << in.rdbuf();
                std::string tail = text.str();
                if (tail.size() > 5000) {
                    tail = tail.substr(tail.size() - 5000);
                }
                std::fprintf(stderr, "---- %s\n%s\n", name, tail.c_str());
            }
        }
    }

    void as(std::vector<std::string> args, const std::string& input = {}) {
        args.insert(args.begin(), CYPHONIC_AS_BIN);
        args.insert(args.end(),
                    {"--set", "db.conninfo=" + conninfo_, "--set", "domain=cyphonic.test"});
        const auto [status, out] = run(args, input);
        ASSERT_EQ(status, 0) << out;
    }

    net::LoginResult login(const std::string& device, const std::string& password) {
        net::AsClientOptions o;
        o.host = "127.0.0.1";
        o.port = as_port_;
        o.ca_file = ca_;
        net::BlockingAsClient client(o);
        wire::LoginRequest r;
        r.auth_type = wire::AuthType::Basic;
        r.exec_mode = wire::ExecMode::Node;
        r.device_id = device;
        r.password = password;
        auto result = client.login(r);
        if (!result.has_value()) {
            throw std::runtime_error("login " + device + ": " + result.error().describe());
        }
        return *result;
    }

    std::unique_ptr<net::NmsSession> session(const net::LoginResult& l, const Endpoint& nms,
                                             const IpAddress& local) {
        net::NmsSession::Options o{l.node_id, l.response.cipher, l.response.common_key, nms,
                                   Endpoint{local, 0}};
        o.give_up = milliseconds(6000);
        auto s = std::make_unique<net::NmsSession>(io_, o);
        s->start();
        return s;
    }

    static inline TestPostgres* pg_ = nullptr;
    TempDir dir_;
    std::string conninfo_;
    std::filesystem::path ca_;
    std::unique_ptr<ChildProcess> trs_;
    std::unique_ptr<ChildProcess> nms_;
    std::unique_ptr<ChildProcess> as_;
    std::uint16_t trs_port_ = 0;
    std::uint16_t as_port_ = 0;
    Endpoint nms4_;
    Endpoint nms6_;
    asio::io_context io_;
};

// A blocking UDP socket with a receive timeout, playing one end's data plane.
class DataSocket {
public:
    DataSocket(asio::io_context& io, const IpAddress& local)
        : socket_(io,
                  Udp::endpoint(local.is_v4() ? asio::ip::address(asio::ip::address_v4::loopback())
                                              : asio::ip::address(asio::ip::address_v6::loopback()),
                                0)) {
        timeval tv{2, 0};
        ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    void send(const Bytes& datagram, const Endpoint& to) {
        const auto address = to.address.is_v4()
                                 ? asio::ip::address(asio::ip::address_v4::loopback())
                                 : asio::ip::address(asio::ip::address_v6::loopback());
        socket_.send_to(asio::buffer(datagram), Udp::endpoint(address, to.port));
    }
    // The next datagram, or empty after the timeout.
    Bytes receive() {
        Bytes buffer(65535);
        boost::system::error_code ec;
        const std::size_t n = socket_.receive(asio::buffer(buffer), 0, ec);
        buffer.resize(ec ? 0 : n);
        return buffer;
    }

private:
    Udp::socket socket_;
};

crypto::CipherSuite suite(wire::CipherSuiteId id, ByteView key) {
    auto s = crypto::CipherSuite::create(id, key);
    if (!s.has_value()) {
        throw std::runtime_error(s.error());
    }
    return std::move(*s);
}

// Opens the single message of a datagram with `opener`.
signaling::OpenedMessage open_one(signaling::Opener& opener, const Bytes& datagram,
                                  Bytes& plaintext) {
    const auto split = wire::split_datagram(datagram);
    if (!split.has_value() || split->size() != 1) {
        throw std::runtime_error("not one message");
    }
    plaintext.assign(crypto::CipherSuite::max_plaintext_size(datagram.size()), std::byte{0});
    auto opened = opener.open(split->front(), plaintext);
    if (!opened.has_value()) {
        throw std::runtime_error("open: " + std::string(opened.error().reason()));
    }
    return std::move(*opened);
}

TEST_F(Cloud, LoginRegisterAndRelayedTunnelBetweenIpv4AndIpv6Ends) {
    as({"device", "add", "alpha", "--kind", "node", "--password-stdin"}, "alpha-secret\n");
    as({"device", "add", "bravo", "--kind", "node", "--password-stdin"}, "bravo-secret\n");
    const auto alpha = login("alpha", "alpha-secret");
    const auto bravo = login("bravo", "bravo-secret");
    EXPECT_EQ(alpha.response.fqdn, "alpha.cyphonic.test");
    EXPECT_EQ(alpha.response.nms_ipv4, kLoopback4.v4());

    // alpha has only IPv4, bravo only IPv6: no common family, so NMS must relay.
    auto sa = session(alpha, nms4_, kLoopback4);
    auto sb = session(bravo, nms6_, kLoopback6);
    for (auto* s : {sa.get(), sb.get()}) {
        const auto local = s->local_endpoint();
        wire::RegistrationRequest r;
        r.application_port = local.port;
        if (local.address.is_v4()) {
            r.node_ipv4 = local.address.v4();
        } else {
            r.node_ipv6 = local.address.v6();
        }
        auto reg = run_sync(io_, s->register_node(r, true));
        ASSERT_TRUE(reg.has_value()) << reg.error().describe();
        EXPECT_FALSE(reg->behind_nat);
    }
    std::optional<wire::RouteDirection> responder_view;
    sb->on_route_direction(
        [&](const wire::BaseHeader&, const wire::RouteDirection& d) { responder_view = d; });
    const PathId path = signaling::make_path_id(*Fqdn::parse(alpha.response.fqdn),
                                                *Fqdn::parse(bravo.response.fqdn));
    wire::DirectionRequest request;
    request.path_id = path;
    request.responder_fqdn = bravo.response.fqdn;
    auto route = run_sync(io_, sa->direction_request(request));
    ASSERT_TRUE(route.has_value()) << route.error().describe();
    ASSERT_TRUE(responder_view.has_value());
    EXPECT_EQ(route->process, wire::ProcessCode::Relayed);
    EXPECT_EQ(route->trs_ipv4, kLoopback4.v4());
    EXPECT_EQ(route->trs_ipv6, kLoopback6.v6());
    EXPECT_EQ(route->responder_virtual_ipv4, bravo.response.virtual_ipv4);
    EXPECT_EQ(*responder_view, *route);

    // §7.4 step 6 and §7.5 via TRS: bravo binds its slot with a Hole Punching; alpha sends the
    // Tunnel Request with its End Key wrapped under the Temp Key; bravo answers with its own.
    const Endpoint trs4{kLoopback4, trs_port_};
    const Endpoint trs6{kLoopback6, trs_port_};
    const auto cipher = route->cipher;
    DataSocket alpha_data(io_, kLoopback4);
    DataSocket bravo_data(io_, kLoopback6);
    signaling::Sealer alpha_tunnel(suite(cipher, route->tunnel_key), signaling::Side::Clear);
    signaling::Sealer bravo_tunnel(suite(cipher, route->tunnel_key), signaling::Side::Set);
    signaling::Opener alpha_tunnel_in(suite(cipher, route->tunnel_key), signaling::Side::Clear);
    signaling::Opener bravo_tunnel_in(suite(cipher, route->tunnel_key), signaling::Side::Set);
    auto temp = suite(cipher, route->temp_key);

    wire::BaseHeader h;
    h.type = wire::MessageType::HolePunching;
    h.flags = wire::flag::kRelayed;
    h.set_id(path);
    bravo_data.send(*bravo_tunnel.seal(h, wire::EmptyBody{}), trs6);

    const crypto::Key alpha_end = crypto::random_key();
    auto wrapped = temp.wrap_key(alpha_end, path, crypto::WrapRole::Initiator);
    ASSERT_TRUE(wrapped.has_value());
    h.type = wire::MessageType::TunnelRequest;
    h.transaction_id = crypto::random_u32();
    const wire::Body tunnel_request = wire::TunnelRequest{*wrapped};
    // The TRS drops what arrives before the other slot is bound; resend like a real end would.
    Bytes plaintext;
    std::optional<signaling::OpenedMessage> at_bravo;
    for (int attempt = 0; attempt < 5 && !at_bravo; ++attempt) {
        alpha_data.send(*alpha_tunnel.seal(h, tunnel_request), trs4);
        const Bytes got = bravo_data.receive();
        if (!got.empty()) {
            at_bravo = open_one(bravo_tunnel_in, got, plaintext);
        }
    }
    ASSERT_TRUE(at_bravo.has_value()) << "the Tunnel Request never came through the TRS";
    ASSERT_EQ(at_bravo->header.type, wire::MessageType::TunnelRequest);
    const auto& received_wrap = std::get<wire::TunnelRequest>(at_bravo->body).end_key;
    auto unwrapped = temp.unwrap_key(received_wrap, path, crypto::WrapRole::Initiator);
    ASSERT_TRUE(unwrapped.has_value());
    EXPECT_EQ(to_hex(unwrapped->view()), to_hex(alpha_end.view()));

    const crypto::Key bravo_end = crypto::random_key();
    auto bravo_wrapped = temp.wrap_key(bravo_end, path, crypto::WrapRole::Responder);
    h.type = wire::MessageType::TunnelResponse;
    h.flags = wire::flag::kRelayed | wire::flag::kSuccess | wire::flag::kResponse;
    const wire::Body tunnel_response = wire::TunnelResponse{*bravo_wrapped};
    bravo_data.send(*bravo_tunnel.seal(h, tunnel_response), trs6);
    const auto at_alpha = open_one(alpha_tunnel_in, alpha_data.receive(), plaintext);
    ASSERT_EQ(at_alpha.header.type, wire::MessageType::TunnelResponse);
    auto alpha_learned = temp.unwrap_key(*std::get<wire::TunnelResponse>(at_alpha.body).end_key,
                                         path, crypto::WrapRole::Responder);
    ASSERT_TRUE(alpha_learned.has_value());

    // §7.6: Capsules both ways through the TRS, each sealed with its sender's End Key.
    signaling::Sealer alpha_out(suite(cipher, alpha_end.view()), signaling::Side::Clear);
    signaling::Opener bravo_in(suite(cipher, unwrapped->view()), signaling::Side::Set);
    signaling::Sealer bravo_out(suite(cipher, bravo_end.view()), signaling::Side::Set);
    signaling::Opener alpha_in(suite(cipher, alpha_learned->view()), signaling::Side::Clear);
    h.type = wire::MessageType::Capsule;
    h.flags = wire::flag::kRelayed;
    for (int i = 0; i < 200; ++i) {
        Bytes payload(static_cast<std::size_t>(20 + i * 6));
        crypto::random_bytes(payload);
        const wire::Body capsule = wire::Capsule{payload};
        alpha_data.send(*alpha_out.seal(h, capsule), trs4);
        const auto a2b = open_one(bravo_in, bravo_data.receive(), plaintext);
        ASSERT_EQ(std::get<wire::Capsule>(a2b.body), wire::Capsule{payload}) << i;
        bravo_data.send(*bravo_out.seal(h, capsule), trs6);
        const auto b2a = open_one(alpha_in, alpha_data.receive(), plaintext);
        ASSERT_EQ(std::get<wire::Capsule>(b2a.body), wire::Capsule{payload}) << i;
    }
}

TEST_F(Cloud, LoginFailuresAreErrorsNotSilence) {
    as({"device", "add", "alpha", "--kind", "node", "--password-stdin"}, "alpha-secret\n");
    try {
        (void)login("alpha", "wrong");
        FAIL() << "a wrong password logged in";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("auth_failed"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace cyphonic::testing
