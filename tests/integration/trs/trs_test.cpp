// The real cyphonic-trs binary on loopback (PROTOCOL.md §7.4–§7.6):
//
//     NMS  127.0.0.1 ──Relay Request──▶ ┌──────────────┐
//                    ◀─Relay Response── │ cyphonic-trs │ 127.0.0.1:P4 and [::1]:P6 (port 0)
//     end I 127.0.0.1 (IPv4-only) ────▶ │              │ ◀──── end R [::1] (IPv6-only)
//                                       └──────────────┘
//
// The test starts the binary with a generated configuration in a temporary folder, reads the
// ports it logs, and stops only the PID it started.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/process.hpp"

#include "cyphonic/app/health_server.hpp"
#include "cyphonic/crypto/cipher_suite.hpp"
#include "cyphonic/crypto/random.hpp"
#include "cyphonic/signaling/sealed_message.hpp"

namespace cyphonic::trs {
namespace {

using namespace std::chrono_literals;
using signaling::Opener;
using signaling::Sealer;
using signaling::Side;
using wire::CipherSuiteId;
using wire::MessageType;
using Clock = std::chrono::steady_clock;

constexpr CipherSuiteId kSuite = CipherSuiteId::Aes256Gcm;

crypto::CipherSuite suite(CipherSuiteId id, const crypto::Key& key) {
    auto s = crypto::CipherSuite::create(id, key);
    if (!s.has_value()) {
        throw std::runtime_error(s.error());
    }
    return std::move(*s);
}

// A UDP socket of one family on loopback, port 0, with a receive timeout.
class UdpSocket {
public:
    explicit UdpSocket(bool v6) : fd_(::socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0)) {
        if (fd_ < 0) {
            throw std::runtime_error("socket failed");
        }
        sockaddr_storage ss{};
        socklen_t len = 0;
        if (v6) {
            const int on = 1;
            ::setsockopt(fd_, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
            auto& a = reinterpret_cast<sockaddr_in6&>(ss);
            a.sin6_family = AF_INET6;
            a.sin6_addr = in6addr_loopback;
            len = sizeof a;
        } else {
            auto& a = reinterpret_cast<sockaddr_in&>(ss);
            a.sin_family = AF_INET;
            a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            len = sizeof a;
        }
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
            throw std::runtime_error("bind failed");
        }
    }
    ~UdpSocket() { ::close(fd_); }
    UdpSocket(const UdpSocket&) = delete;
    UdpSocket& operator=(const UdpSocket&) = delete;

    void send_to(ByteView bytes, const Endpoint& to) const {
        sockaddr_storage ss{};
        socklen_t len = 0;
        if (to.address.is_v4()) {
            auto& a = reinterpret_cast<sockaddr_in&>(ss);
            a.sin_family = AF_INET;
            a.sin_port = htons(to.port);
            std::memcpy(&a.sin_addr, to.address.v4().bytes.data(), 4);
            len = sizeof a;
        } else {
            auto& a = reinterpret_cast<sockaddr_in6&>(ss);
            a.sin6_family = AF_INET6;
            a.sin6_port = htons(to.port);
            std::memcpy(&a.sin6_addr, to.address.v6().bytes.data(), 16);
            len = sizeof a;
        }
        const auto n =
            ::sendto(fd_, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&ss), len);
        ASSERT_EQ(n, static_cast<ssize_t>(bytes.size())) << std::strerror(errno);
    }

    struct Datagram {
        Bytes bytes;
        Endpoint from;
    };
    // The next datagram, or nullopt after `timeout`.
    std::optional<Datagram> receive(std::chrono::milliseconds timeout = 2000ms) const {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) {
            return std::nullopt;
        }
        Bytes buffer(65535);
        sockaddr_storage ss{};
        socklen_t len = sizeof ss;
        const auto n = ::recvfrom(fd_, buffer.data(), buffer.size(), 0,
                                  reinterpret_cast<sockaddr*>(&ss), &len);
        if (n < 0) {
            return std::nullopt;
        }
        buffer.resize(static_cast<std::size_t>(n));
        return Datagram{std::move(buffer), endpoint(ss)};
    }

    [[nodiscard]] Endpoint local() const {
        sockaddr_storage ss{};
        socklen_t len = sizeof ss;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len);
        return endpoint(ss);
    }

private:
    static Endpoint endpoint(const sockaddr_storage& ss) {
        if (ss.ss_family == AF_INET) {
            const auto& a = reinterpret_cast<const sockaddr_in&>(ss);
            Ipv4Address v4;
            std::memcpy(v4.bytes.data(), &a.sin_addr, 4);
            return {v4, ntohs(a.sin_port)};
        }
        const auto& a = reinterpret_cast<const sockaddr_in6&>(ss);
        Ipv6Address v6;
        std::memcpy(v6.bytes.data(), &a.sin6_addr, 16);
        return {v6, ntohs(a.sin6_port)};
    }

    int fd_;
};

// GET over HTTP/1.1 on 127.0.0.1; "" when nothing listens.
std::string http_get(std::uint16_t port, const std::string& path) {
    asio::io_context io;
    asio::ip::tcp::socket socket(io);
    boost::system::error_code ec;
    socket.connect({asio::ip::address_v4::loopback(), port}, ec);
    if (ec) {
        return "";
    }
    asio::write(socket, asio::buffer("GET " + path + " HTTP/1.1\r\nHost: test\r\n\r\n"), ec);
    std::string response;
    std::array<char, 8192> chunk{};
    for (;;) {
        const std::size_t n = socket.read_some(asio::buffer(chunk), ec);
        response.append(chunk.data(), n);
        if (ec) {
            break;
        }
    }
    return response;
}

// The value of the sample `name{labels}` in Prometheus text, 0 if absent.
double metric(const std::string& text, const std::string& sample) {
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        if (line.starts_with(sample + " ")) {
            return std::stod(line.substr(sample.size() + 1));
        }
    }
    return 0;
}

// One end of the path: seals under the Tunnel Key with its side (initiator clear, responder
// set) and opens what reaches it through the TRS.
struct End {
    End(bool v6, Side own_side, const crypto::Key& tunnel_key)
        : socket(v6),
          side(own_side),
          tunnel(suite(kSuite, tunnel_key), own_side),
          tunnel_in(suite(kSuite, tunnel_key), own_side) {}

    Bytes seal(MessageType type, const wire::Body& body, std::uint8_t flags = 0) {
        wire::BaseHeader h;
        h.transaction_id = 0x5eed0001;
        h.type = type;
        h.flags = static_cast<std::uint8_t>(flags | wire::flag::kRelayed);
        h.set_id(path);
        auto sealed = tunnel.seal(h, body);
        EXPECT_TRUE(sealed.has_value());
        return sealed.has_value() ? std::move(*sealed) : Bytes{};
    }

    // Receives one datagram; expects it to be `expected` byte for byte, to come from
    // `trs_at`, and to open under `opener`. Returns the opened body.
    wire::Body expect(const Bytes& expected, const Endpoint& trs_at, Opener& opener) {
        const auto got = socket.receive();
        if (!got) {
            ADD_FAILURE() << "nothing arrived";
            return wire::EmptyBody{};
        }
        EXPECT_EQ(got->from, trs_at);
        EXPECT_EQ(got->bytes, expected);
        auto split = wire::split_datagram(got->bytes);
        EXPECT_TRUE(split.has_value());
        if (!split.has_value()) {
            return wire::EmptyBody{};
        }
        plain.resize(got->bytes.size());
        auto opened = opener.open(split->front(), plain);
        EXPECT_TRUE(opened.has_value()) << (opened ? "" : opened.error().reason());
        if (!opened.has_value()) {
            return wire::EmptyBody{};
        }
        // A Capsule's payload points into `plain`, which lives as long as this End.
        return std::move(opened->body);
    }

    UdpSocket socket;
    Side side;
    PathId path;
    Sealer tunnel;
    Opener tunnel_in;
    Bytes plain;
};

class TrsBinaryTest : public ::testing::Test {
protected:
    void SetUp() override { start(); }

    void start(const std::vector<std::string>& extra = {}) {
        const auto key_file = dir_.path() / "nms.key";
        std::ofstream(key_file) << to_hex(service_key_.view()) << "\n";
        std::filesystem::permissions(
            key_file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
        const auto config = dir_.path() / "trs.yaml";
        std::ofstream(config) << "listen:\n"
                                 "  ipv4: 127.0.0.1\n"
                                 "  ipv6: \"::1\"\n"
                                 "  port: 4700\n"
                                 "http:\n"
                                 "  listen: 127.0.0.1:0\n"
                                 "trs:\n"
                                 "  node_id: "
                              << trs_id_.to_hex()
                              << "\n"
                                 "nms_peers:\n"
                                 "  - \""
                              << nms_id_.to_hex()
                              << ":2:nms.key\"\n"
                                 "shutdown:\n"
                                 "  grace_s: 3\n"
                                 "  quiet_s: 1\n";
        std::vector<std::string> argv = {CYPHONIC_TRS_BINARY, "serve", "-c",
                                         config.string(),     "--set", "listen.port=0"};
        argv.insert(argv.end(), extra.begin(), extra.end());
        trs_.emplace(argv, dir_.path() / "trs.log");
        const auto port = [&](const std::string& pattern) {
            return static_cast<std::uint16_t>(std::stoi(trs_->wait_for_log(pattern)));
        };
        trs_v4_ = {*IpAddress::parse("127.0.0.1"), port(R"(listening ipv4=127\.0\.0\.1:(\d+))")};
        trs_v6_ = {*IpAddress::parse("::1"), port(R"(listening .*ipv6=\[::1\]:(\d+))")};
        http_port_ = port(R"(listening .*http=127\.0\.0\.1:(\d+))");
    }

    void TearDown() override {
        if (trs_ && trs_->running()) {
            EXPECT_EQ(trs_->stop(SIGTERM, 10s), 0) << trs_->log();
        }
        if (HasFailure() && trs_) {
            std::cerr << "--- cyphonic-trs log ---\n" << trs_->log();
        }
    }

    [[nodiscard]] std::string metrics() const { return http_get(http_port_, "/metrics"); }

    // NMS → TRS: Relay Request; checks the Relay Response.
    void relay_request(const PathId& path, const crypto::Key& tunnel_key, std::uint32_t txid) {
        wire::BaseHeader h;
        h.transaction_id = txid;
        h.type = MessageType::RelayRequest;
        h.set_id(nms_id_);
        wire::Relay body;
        body.path_id = path;
        body.cipher = kSuite;
        std::copy(tunnel_key.view().begin(), tunnel_key.view().end(), body.tunnel_key.begin());
        auto sealed = nms_sealer_.seal(h, body);
        ASSERT_TRUE(sealed.has_value());
        nms_socket_.send_to(*sealed, trs_v4_);
        const auto answer = nms_socket_.receive();
        ASSERT_TRUE(answer.has_value());
        EXPECT_EQ(answer->from, trs_v4_);
        auto split = wire::split_datagram(answer->bytes);
        ASSERT_TRUE(split.has_value());
        Bytes plain(answer->bytes.size());
        auto opened = nms_opener_.open(split->front(), plain);
        ASSERT_TRUE(opened.has_value()) << opened.error().reason();
        EXPECT_EQ(opened->header.type, MessageType::RelayResponse);
        EXPECT_EQ(opened->header.transaction_id, txid);
        EXPECT_EQ(opened->header.node_id(), trs_id_);
        EXPECT_TRUE(opened->header.has(wire::flag::kSuccess | wire::flag::kResponse));
        EXPECT_EQ(std::get<wire::Relay>(opened->body), body);
    }

    // Relay Request, then R and I bind their slots with Hole Punching; I's punch reaches R
    // and R's ACK reaches I, all verbatim.
    void establish() {
        relay_request(path_, tunnel_key_, 0x0b0b0001);
        i_.path = path_;
        r_.path = path_;
        r_.socket.send_to(r_.seal(MessageType::HolePunching, wire::EmptyBody{}), trs_v6_);
        EXPECT_FALSE(i_.socket.receive(200ms)) << "I's slot was empty: nothing to forward";
        i_punch_ = i_.seal(MessageType::HolePunching, wire::EmptyBody{});
        i_.socket.send_to(i_punch_, trs_v4_);
        r_.expect(i_punch_, trs_v6_, r_.tunnel_in);
        const auto ack = r_.seal(MessageType::Ack, wire::EmptyBody{},
                                 wire::flag::kSuccess | wire::flag::kResponse);
        r_.socket.send_to(ack, trs_v6_);
        i_.expect(ack, trs_v4_, i_.tunnel_in);
    }

    // One Capsule from `from` to `to` under `sealer`, checked at `to` with `opener`.
    static void capsule(End& from, const Endpoint& via, End& to, const Endpoint& back_from,
                        Sealer& sealer, Opener& opener, std::size_t size) {
        Bytes payload(size);
        crypto::random_bytes(payload);
        wire::BaseHeader h;
        h.type = MessageType::Capsule;
        h.flags = wire::flag::kRelayed;
        h.set_id(from.path);
        const auto sealed = sealer.seal(h, wire::Capsule{payload});
        ASSERT_TRUE(sealed.has_value());
        from.socket.send_to(*sealed, via);
        const auto body = to.expect(*sealed, back_from, opener);
        const auto* c = std::get_if<wire::Capsule>(&body);
        ASSERT_NE(c, nullptr);
        EXPECT_TRUE(
            std::equal(c->payload.begin(), c->payload.end(), payload.begin(), payload.end()));
    }

    testing::TempDir dir_;
    NodeId trs_id_ = crypto::random_id<NodeIdTag>();
    NodeId nms_id_ = crypto::random_id<NodeIdTag>();
    crypto::Key service_key_ = crypto::random_key();
    crypto::Key tunnel_key_ = crypto::random_key();
    crypto::Key temp_key_ = crypto::random_key();
    crypto::Key end_key_ = crypto::random_key();  // one End Key both ways (D14: no K_R)
    PathId path_ = crypto::random_id<PathIdTag>();
    std::optional<testing::ChildProcess> trs_;
    Endpoint trs_v4_;
    Endpoint trs_v6_;
    std::uint16_t http_port_ = 0;
    UdpSocket nms_socket_{false};
    Sealer nms_sealer_{suite(CipherSuiteId::Aes256Gcm, service_key_), Side::Set};
    Opener nms_opener_{suite(CipherSuiteId::Aes256Gcm, service_key_), Side::Set};
    End i_{false, Side::Clear, tunnel_key_};  // initiator, IPv4 only
    End r_{true, Side::Set, tunnel_key_};     // responder, IPv6 only
    Bytes i_punch_;
};

TEST_F(TrsBinaryTest, Ipv4EndAndIpv6EndEstablishATunnelAndExchangeCapsules) {
    ASSERT_NO_FATAL_FAILURE(establish());

    // Tunnel Request/Response with End Keys wrapped under the Temp Key (§5.3), which the TRS
    // never has; it checks both under the Tunnel Key and forwards them verbatim.
    auto temp_i = suite(kSuite, temp_key_);
    auto temp_r = suite(kSuite, temp_key_);
    const auto end_key_i = crypto::random_key();
    const auto request = i_.seal(
        MessageType::TunnelRequest,
        wire::TunnelRequest{*temp_i.wrap_key(end_key_i, path_, crypto::WrapRole::Initiator)});
    i_.socket.send_to(request, trs_v4_);
    const auto got_request = r_.expect(request, trs_v6_, r_.tunnel_in);
    const auto unwrapped_i = temp_r.unwrap_key(std::get<wire::TunnelRequest>(got_request).end_key,
                                               path_, crypto::WrapRole::Initiator);
    ASSERT_TRUE(unwrapped_i.has_value());
    ASSERT_TRUE(std::equal(unwrapped_i->view().begin(), unwrapped_i->view().end(),
                           end_key_i.view().begin()));

    const auto end_key_r = crypto::random_key();
    const auto response = r_.seal(
        MessageType::TunnelResponse,
        wire::TunnelResponse{*temp_r.wrap_key(end_key_r, path_, crypto::WrapRole::Responder)},
        wire::flag::kSuccess | wire::flag::kResponse);
    r_.socket.send_to(response, trs_v6_);
    const auto got_response = i_.expect(response, trs_v4_, i_.tunnel_in);
    const auto unwrapped_r = temp_i.unwrap_key(
        *std::get<wire::TunnelResponse>(got_response).end_key, path_, crypto::WrapRole::Responder);
    ASSERT_TRUE(unwrapped_r.has_value());

    // Data: I → R under K_I, R → I under K_R, a few hundred each, every byte checked.
    Sealer i_out(suite(kSuite, end_key_i), Side::Clear);
    Opener r_in(suite(kSuite, *unwrapped_i), Side::Set);
    Sealer r_out(suite(kSuite, end_key_r), Side::Set);
    Opener i_in(suite(kSuite, *unwrapped_r), Side::Clear);
    constexpr int kCapsules = 300;
    for (int n = 0; n < kCapsules; ++n) {
        const std::size_t size = 1 + static_cast<std::size_t>(n * 37) % 1360;
        ASSERT_NO_FATAL_FAILURE(capsule(i_, trs_v4_, r_, trs_v6_, i_out, r_in, size));
        ASSERT_NO_FATAL_FAILURE(capsule(r_, trs_v6_, i_, trs_v4_, r_out, i_in, 1361 - size));
    }

    const auto text = metrics();
    EXPECT_EQ(metric(text, R"(cyphonic_trs_forwarded_total{type="capsule"})"), 2 * kCapsules);
    EXPECT_EQ(metric(text, R"(cyphonic_trs_forwarded_total{type="tunnel_request"})"), 1);
    EXPECT_EQ(metric(text, R"(cyphonic_trs_forwarded_total{type="tunnel_response"})"), 1);
    EXPECT_EQ(metric(text, R"(cyphonic_trs_forwarded_total{type="hole_punching"})"), 1);
    EXPECT_EQ(metric(text, R"(cyphonic_trs_forwarded_total{type="ack"})"), 1);
    EXPECT_EQ(
        metric(text, R"(cyphonic_trs_requests_total{type="relay_request",result="answered"})"), 1);
    EXPECT_EQ(metric(text, "cyphonic_trs_active_paths"), 1);
    EXPECT_GE(metric(text, "cyphonic_trs_request_seconds_count"), 2 * kCapsules + 5);
    EXPECT_GT(metric(text, "cyphonic_trs_forwarded_bytes_total"), 0);
}

TEST_F(TrsBinaryTest, GarbageReplaysAndWrongKeysAreDroppedAndCounted) {
    ASSERT_NO_FATAL_FAILURE(establish());
    // Garbage: a bad version, a truncated header, random bytes into both sockets.
    i_.socket.send_to(Bytes(100, std::byte{0xff}), trs_v4_);
    i_.socket.send_to(Bytes(20, std::byte{0x01}), trs_v4_);
    Bytes random(1400);
    crypto::random_bytes(random);
    r_.socket.send_to(random, trs_v6_);
    // A replay of I's Hole Punching, from I and from a stranger.
    i_.socket.send_to(i_punch_, trs_v4_);
    UdpSocket stranger(false);
    stranger.send_to(i_punch_, trs_v4_);
    // A Hole Punching under a wrong Tunnel Key.
    End impostor(false, Side::Clear, crypto::random_key());
    impostor.path = path_;
    impostor.socket.send_to(impostor.seal(MessageType::HolePunching, wire::EmptyBody{}), trs_v4_);
    // A Capsule from an endpoint that holds no slot, and a Relay Request under a wrong key.
    Sealer end_key_sealer(suite(kSuite, crypto::random_key()), Side::Clear);
    wire::BaseHeader h;
    h.type = MessageType::Capsule;
    h.flags = wire::flag::kRelayed;
    h.set_id(path_);
    const Bytes payload(64, std::byte{0x45});
    stranger.send_to(*end_key_sealer.seal(h, wire::Capsule{payload}), trs_v4_);
    Sealer wrong_nms(suite(kSuite, crypto::random_key()), Side::Set);
    wire::BaseHeader rh;
    rh.type = MessageType::RelayRequest;
    rh.set_id(nms_id_);
    wire::Relay relay;
    relay.path_id = crypto::random_id<PathIdTag>();
    nms_socket_.send_to(*wrong_nms.seal(rh, relay), trs_v4_);

    // Nothing of it reaches anyone.
    EXPECT_FALSE(r_.socket.receive(300ms));
    EXPECT_FALSE(i_.socket.receive(10ms));
    EXPECT_FALSE(stranger.receive(10ms));
    EXPECT_FALSE(nms_socket_.receive(10ms));

    const auto text = metrics();
    // The random datagram most likely fails on its version too, but may fail elsewhere.
    EXPECT_GE(metric(text, R"(cyphonic_trs_dropped_total{reason="unknown_version"})"), 1);
    EXPECT_EQ(metric(text, R"(cyphonic_trs_dropped_total{reason="truncated"})"), 1) << text;
    EXPECT_EQ(metric(text, R"(cyphonic_trs_dropped_total{reason="replayed"})"), 2);
    EXPECT_EQ(metric(text, R"(cyphonic_trs_dropped_total{reason="bad_mac"})"), 2);
    EXPECT_EQ(metric(text, R"(cyphonic_trs_dropped_total{reason="unbound_source"})"), 1);
    EXPECT_EQ(metric(text, "cyphonic_trs_active_paths"), 1);

    // The path is unharmed: the slots did not move and Capsules still flow both ways.
    Sealer i_out(suite(kSuite, end_key_), Side::Clear);
    Opener r_in(suite(kSuite, end_key_), Side::Set);
    Sealer r_out(suite(kSuite, end_key_), Side::Set);
    Opener i_in(suite(kSuite, end_key_), Side::Clear);
    ASSERT_NO_FATAL_FAILURE(capsule(i_, trs_v4_, r_, trs_v6_, i_out, r_in, 500));
    ASSERT_NO_FATAL_FAILURE(capsule(r_, trs_v6_, i_, trs_v4_, r_out, i_in, 500));
}

TEST_F(TrsBinaryTest, SigtermTurnsUnreadyRelaysExistingPathsThenExitsZero) {
    ASSERT_NO_FATAL_FAILURE(establish());
    EXPECT_NE(http_get(http_port_, "/readyz").find(" 200 "), std::string::npos);
    const auto signalled = Clock::now();
    ASSERT_EQ(::kill(trs_->pid(), SIGTERM), 0);  // the PID this test started, nothing else
    std::string readyz;
    for (int i = 0; i < 50 && readyz.find(" 503 ") == std::string::npos; ++i) {
        readyz = http_get(http_port_, "/readyz");
        std::this_thread::sleep_for(5ms);
    }
    EXPECT_NE(readyz.find(" 503 "), std::string::npos) << readyz;
    EXPECT_LT(Clock::now() - signalled, 1s);

    // Existing paths are still relayed during the grace period; new Relay Requests are
    // refused with RELAY_UNAVAILABLE so the NMS asks another TRS.
    Sealer i_out(suite(kSuite, end_key_), Side::Clear);
    Opener r_in(suite(kSuite, end_key_), Side::Set);
    ASSERT_NO_FATAL_FAILURE(capsule(i_, trs_v4_, r_, trs_v6_, i_out, r_in, 200));
    wire::BaseHeader h;
    h.transaction_id = 0x0b0b0002;
    h.type = MessageType::RelayRequest;
    h.set_id(nms_id_);
    wire::Relay relay;
    relay.path_id = crypto::random_id<PathIdTag>();
    nms_socket_.send_to(*nms_sealer_.seal(h, relay), trs_v4_);
    const auto answer = nms_socket_.receive();
    ASSERT_TRUE(answer.has_value());
    auto split = wire::split_datagram(answer->bytes);
    ASSERT_TRUE(split.has_value());
    Bytes plain(answer->bytes.size());
    auto opened = nms_opener_.open(split->front(), plain);
    ASSERT_TRUE(opened.has_value());
    EXPECT_EQ(std::get<wire::Error>(opened->body).error_code(), wire::ErrorCode::RelayUnavailable);

    // Quiet for shutdown.quiet_s (1 s) → exit 0, well inside shutdown.grace_s (3 s).
    while (trs_->running() && Clock::now() - signalled < 5s) {
        std::this_thread::sleep_for(10ms);
    }
    EXPECT_FALSE(trs_->running());
    EXPECT_LT(Clock::now() - signalled, 3s);
    EXPECT_EQ(trs_->stop(SIGTERM, 1s), 0);
    EXPECT_NE(trs_->log().find("relay stopped active=1"), std::string::npos);
}

TEST(TrsBinary, ConfigErrorsExit78WithFileLineAndKey) {
    testing::TempDir dir;
    const auto config = dir.path() / "bad.yaml";
    std::ofstream(config) << "trs:\n  node_id: nothex\n";
    const auto [status, output] =
        testing::run({CYPHONIC_TRS_BINARY, "serve", "-c", config.string()});
    EXPECT_EQ(status, 78);
    EXPECT_NE(output.find(config.string() + ":2: trs.node_id: expected 32 hex digits"),
              std::string::npos)
        << output;
    const auto [status2, output2] =
        testing::run({CYPHONIC_TRS_BINARY, "serve", "-c", config.string(), "--set", "bogus=1"});
    EXPECT_EQ(status2, 78);
    EXPECT_NE(output2.find("--set: bogus: unknown key"), std::string::npos) << output2;
}

TEST(TrsBinary, VersionAndHelpListEveryKey) {
    const auto [status, output] = testing::run({CYPHONIC_TRS_BINARY, "--version"});
    EXPECT_EQ(status, 0);
    EXPECT_TRUE(std::regex_search(output, std::regex(R"(^cyphonic-trs \d+\.\d+\.\d+)"))) << output;
    const auto [help_status, help] = testing::run({CYPHONIC_TRS_BINARY, "serve", "--help"});
    EXPECT_EQ(help_status, 0);
    for (const char* key : {"listen.port (default: 4700)", "relay.idle_timeout_s (default: 120)",
                            "shutdown.grace_s (default: 5)", "nms_peers", "trs.node_id"}) {
        EXPECT_NE(help.find(key), std::string::npos) << key << "\n" << help;
    }
}

}  // namespace
}  // namespace cyphonic::trs
