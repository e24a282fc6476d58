// The resolver's DNS server on loopback (port 0), driven by the real `dig`: overlay names
// through a resolver callback, every other name forwarded to upstream stubs run by the test
// (UDP sockets answering a fixed A record, one of them silent, one truncating over UDP and
// answering in full over TCP), and raw datagrams for what dig never sends.
#include "cyphonic/net/dns_server.hpp"

#include <atomic>
#include <chrono>
#include <fstream>
#include <future>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/process.hpp"

#include "cyphonic/dns/message.hpp"

namespace cyphonic::net {
namespace {

using Udp = asio::ip::udp;
using Tcp = asio::ip::tcp;
using std::chrono::milliseconds;

const IpAddress kLoopback = *IpAddress::parse("127.0.0.1");
const IpAddress kUpstreamAnswer = *IpAddress::parse("192.0.2.53");

asio::ip::address loopback() {
    return asio::ip::make_address("127.0.0.1");
}

// An upstream resolver stub on 127.0.0.1. Answers every query with A 192.0.2.53 (TTL 300);
// Silent never answers; Truncating answers over UDP with TC set and no records, and in full
// over TCP on the same port.
class UpstreamStub {
public:
    enum class Mode : std::uint8_t { Answer, Silent, Truncating };

    UpstreamStub(asio::io_context& io, Mode mode)
        : mode_(mode), udp_(io, Udp::endpoint(loopback(), 0)), tcp_(io) {
        const Tcp::endpoint ep(loopback(), udp_.local_endpoint().port());
        tcp_.open(ep.protocol());
        tcp_.bind(ep);
        tcp_.listen();
        asio::co_spawn(io, serve_udp(), asio::detached);
        asio::co_spawn(io, serve_tcp(), asio::detached);
    }
    void close() {
        boost::system::error_code ignored;
        udp_.close(ignored);
        tcp_.close(ignored);
    }
    [[nodiscard]] Endpoint endpoint() const { return {kLoopback, udp_.local_endpoint().port()}; }
    std::atomic<int> udp_queries{0};
    std::atomic<int> tcp_queries{0};
    std::atomic<int> last_id{-1};

private:
    Bytes answer_for(ByteView packet, bool truncate) {
        const auto q = dns::parse_query(packet);
        if (!q.has_value()) {
            return {};
        }
        last_id = q->id;
        if (truncate) {
            Bytes reply = dns::answer_nodata(*q);
            reply[2] |= std::byte{0x02};  // TC
            return reply;
        }
        const std::array<IpAddress, 1> addrs = {kUpstreamAnswer};
        return dns::answer_addresses(*q, addrs, 300);
    }

    asio::awaitable<void> serve_udp() {
        std::vector<std::byte> buffer(65535);
        Udp::endpoint from;
        for (;;) {
            boost::system::error_code ec;
            const std::size_t n = co_await udp_.async_receive_from(
                asio::buffer(buffer), from, asio::redirect_error(asio::use_awaitable, ec));
            if (ec) {
                co_return;
            }
            ++udp_queries;
            if (mode_ == Mode::Silent) {
                continue;
            }
            const Bytes reply = answer_for(ByteView(buffer).first(n), mode_ == Mode::Truncating);
            co_await udp_.async_send_to(asio::buffer(reply), from,
                                        asio::redirect_error(asio::use_awaitable, ec));
        }
    }

    asio::awaitable<void> serve_tcp() {
        for (;;) {
            boost::system::error_code ec;
            Tcp::socket socket(tcp_.get_executor());
            co_await tcp_.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
            if (ec) {
                co_return;
            }
            std::array<std::byte, 2> length{};
            co_await asio::async_read(socket, asio::buffer(length),
                                      asio::redirect_error(asio::use_awaitable, ec));
            Bytes query(ec ? 0 : load_be16<0>(std::span<const std::byte, 2>(length)));
            co_await asio::async_read(socket, asio::buffer(query),
                                      asio::redirect_error(asio::use_awaitable, ec));
            ++tcp_queries;
            const Bytes reply = answer_for(query, false);
            store_be16<0>(std::span(length), static_cast<std::uint16_t>(reply.size()));
            const std::array<asio::const_buffer, 2> out = {asio::buffer(length),
                                                           asio::buffer(reply)};
            co_await asio::async_write(socket, out, asio::redirect_error(asio::use_awaitable, ec));
        }
    }

    Mode mode_;
    Udp::socket udp_;
    Tcp::acceptor tcp_;
};

struct DigResult {
    int exit = -1;
    std::string output;
    std::string status;                // "NOERROR", "NXDOMAIN", ...
    std::vector<std::string> answers;  // the data of each answer record
};

DigResult dig(std::uint16_t port, const std::string& name, const std::string& type,
              bool tcp = false, int time_s = 2) {
    const auto [exit, output] =
        testing::run({"dig", "@127.0.0.1", "-p", std::to_string(port), name, type, "+tries=1",
                      "+time=" + std::to_string(time_s), tcp ? "+tcp" : "+notcp"});
    DigResult r;
    r.exit = exit;
    r.output = output;
    std::smatch m;
    if (std::regex_search(output, m, std::regex("status: ([A-Z]+)"))) {
        r.status = m[1];
    }
    const auto section = output.find(";; ANSWER SECTION:\n");
    if (section != std::string::npos) {
        std::istringstream lines(output.substr(section + 19));
        std::string line;
        while (std::getline(lines, line) && !line.empty()) {
            r.answers.push_back(line.substr(line.find_last_of(" \t") + 1));
        }
    }
    return r;
}

class DnsServerTest : public ::testing::Test {
protected:
    // Runs `f` on the I/O thread and waits for its result.
    template <class F>
    auto on_io(F f) {
        std::packaged_task<decltype(f())()> task(std::move(f));
        auto result = task.get_future();
        asio::post(io_, [&task] { task(); });
        return result.get();
    }

    void SetUp() override {
        thread_ = std::thread([this] { io_.run(); });
    }
    void TearDown() override {
        on_io([this] {
            if (server_) {
                server_->stop();
            }
            for (auto* stub : {&good_, &silent_, &truncating_}) {
                stub->close();
            }
        });
        work_.reset();
        io_.stop();
        thread_.join();
    }

    void start(std::vector<Endpoint> upstream, std::size_t max_in_flight = 256) {
        DnsServerOptions options;
        options.listen = {{kLoopback, 0}};
        options.upstream = std::move(upstream);
        options.domain = "Example.NET.";
        options.upstream_timeout = milliseconds(300);
        options.max_in_flight = max_in_flight;
        on_io([&] {
            server_.emplace(io_.get_executor(), options, [this](std::string fqdn, Endpoint client) {
                return resolve(std::move(fqdn), client);
            });
            const auto started = server_->start();
            ASSERT_TRUE(started.has_value()) << started.error();
            port_ = server_->local_endpoints().at(0).port;
        });
        ASSERT_NE(port_, 0);
    }

    DnsCounters counters() {
        return on_io([this] { return server_->counters(); });
    }

    // The overlay as the test defines it. "gate" answers only once three gate queries wait at
    // the same time (or gives up after 2 s), which proves queries run concurrently.
    asio::awaitable<OverlayAnswer> resolve(std::string fqdn, Endpoint client) {
        resolved_.push_back(fqdn);
        clients_.push_back(client);
        OverlayAnswer a;
        if (fqdn == "peer.example.net") {
            a.status = OverlayAnswer::Status::Ok;
            a.ipv4 = *Ipv4Address::parse("10.10.0.2");
            a.ipv6 = *Ipv6Address::parse("fd00::2");
        } else if (fqdn == "v4only.example.net") {
            a.status = OverlayAnswer::Status::Ok;
            a.ipv4 = *Ipv4Address::parse("10.10.0.3");
        } else if (fqdn == "missing.example.net") {
            a.status = OverlayAnswer::Status::NxDomain;
        } else if (fqdn == "throws.example.net") {
            throw std::runtime_error("resolver bug");
        } else if (fqdn == "gate.example.net" || fqdn == "slow.example.net") {
            const int needed = fqdn == "gate.example.net" ? 3 : 1000;
            ++waiting_;
            asio::steady_timer timer(co_await asio::this_coro::executor);
            for (int i = 0; i < 100 && waiting_ < needed; ++i) {
                timer.expires_after(milliseconds(20));
                co_await timer.async_wait(asio::use_awaitable);
            }
            if (waiting_ >= needed) {
                a.status = OverlayAnswer::Status::Ok;
                a.ipv4 = *Ipv4Address::parse("10.10.0.9");
            }
        }
        co_return a;  // ServFail unless set above ("broken.example.net")
    }

    asio::io_context io_;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_{
        io_.get_executor()};
    UpstreamStub good_{io_, UpstreamStub::Mode::Answer};
    UpstreamStub silent_{io_, UpstreamStub::Mode::Silent};
    UpstreamStub truncating_{io_, UpstreamStub::Mode::Truncating};
    std::optional<DnsServer> server_;
    std::uint16_t port_ = 0;
    std::vector<std::string> resolved_;  // I/O thread
    std::vector<Endpoint> clients_;      // I/O thread
    int waiting_ = 0;                    // I/O thread
    std::thread thread_;
};

// Sends one datagram from a fresh socket and waits up to `wait` for an answer.
std::optional<Bytes> ask(std::uint16_t port, ByteView datagram,
                         milliseconds wait = milliseconds(1000)) {
    asio::io_context io;
    Udp::socket socket(io, Udp::endpoint(loopback(), 0));
    socket.send_to(asio::buffer(datagram.data(), datagram.size()), {loopback(), port});
    std::vector<std::byte> buffer(65535);
    std::optional<Bytes> answer;
    socket.async_receive(asio::buffer(buffer), [&](boost::system::error_code ec, std::size_t n) {
        if (!ec) {
            answer = Bytes(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(n));
        }
    });
    io.run_for(wait);
    return answer;
}

Bytes query_bytes(const std::string& name, std::uint16_t qtype, std::uint16_t id = 0x4242) {
    dns::Query q;
    q.id = id;
    q.flags = dns::flag::kRd;
    q.qname_wire = *dns::encode_name(name);
    q.qtype = qtype;
    q.qclass = dns::kClassIn;
    return dns::encode_query(q);
}

TEST_F(DnsServerTest, AnswersOverlayAAndAaaaOverUdpAndTcp) {
    start({good_.endpoint()});
    for (const bool tcp : {false, true}) {
        SCOPED_TRACE(tcp ? "tcp" : "udp");
        const auto a = dig(port_, "peer.example.net", "A", tcp);
        EXPECT_EQ(a.status, "NOERROR") << a.output;
        EXPECT_EQ(a.answers, std::vector<std::string>{"10.10.0.2"}) << a.output;
        EXPECT_NE(a.output.find("flags: qr aa rd ra"), std::string::npos) << a.output;
        const auto aaaa = dig(port_, "PEER.Example.Net", "AAAA", tcp);
        EXPECT_EQ(aaaa.status, "NOERROR") << aaaa.output;
        EXPECT_EQ(aaaa.answers, std::vector<std::string>{"fd00::2"}) << aaaa.output;
        EXPECT_NE(aaaa.output.find("PEER.Example.Net."), std::string::npos) << "case kept";
    }
    const auto any = dig(port_, "peer.example.net", "ANY");
    EXPECT_EQ(any.answers, (std::vector<std::string>{"10.10.0.2", "fd00::2"})) << any.output;

    const auto c = counters();
    EXPECT_EQ(c.answered_overlay, 5U);
    EXPECT_EQ(c.forwarded, 0U);
    on_io([this] {
        EXPECT_EQ(resolved_.size(), 5U);
        EXPECT_EQ(resolved_.at(1), "peer.example.net");  // lower case for the resolver
        EXPECT_EQ(clients_.at(0).address, kLoopback);
    });
}

TEST_F(DnsServerTest, AnswersNodataNxdomainAndServfail) {
    start({good_.endpoint()});
    // A peer without a virtual IPv6.
    const auto v6 = dig(port_, "v4only.example.net", "AAAA");
    EXPECT_EQ(v6.status, "NOERROR") << v6.output;
    EXPECT_TRUE(v6.answers.empty()) << v6.output;
    // Other types of overlay names and the bare domain: NODATA without asking the resolver.
    for (const auto& [name, type] : std::vector<std::pair<std::string, std::string>>{
             {"peer.example.net", "MX"}, {"peer.example.net", "TXT"}, {"example.net", "A"}}) {
        SCOPED_TRACE(name + " " + type);
        const auto r = dig(port_, name, type);
        EXPECT_EQ(r.status, "NOERROR") << r.output;
        EXPECT_TRUE(r.answers.empty()) << r.output;
    }
    const auto nx = dig(port_, "missing.example.net", "A");
    EXPECT_EQ(nx.status, "NXDOMAIN") << nx.output;
    // Not a valid FQDN: NXDOMAIN without asking the resolver.
    const auto bad = dig(port_, "under_score.example.net", "A");
    EXPECT_EQ(bad.status, "NXDOMAIN") << bad.output;
    const auto fail = dig(port_, "broken.example.net", "A");
    EXPECT_EQ(fail.status, "SERVFAIL") << fail.output;
    const auto thrown = dig(port_, "throws.example.net", "A", true);
    EXPECT_EQ(thrown.status, "SERVFAIL") << thrown.output;

    const auto c = counters();
    EXPECT_EQ(c.answered_local, 4U);
    EXPECT_EQ(c.servfail, 2U);
    EXPECT_EQ(c.internal_errors, 1U);
    on_io([this] {
        EXPECT_EQ(resolved_,
                  (std::vector<std::string>{"v4only.example.net", "missing.example.net",
                                            "broken.example.net", "throws.example.net"}));
    });
}

TEST_F(DnsServerTest, ForwardsOtherNamesWithFreshIds) {
    start({good_.endpoint()});
    for (const bool tcp : {false, true}) {
        SCOPED_TRACE(tcp ? "tcp" : "udp");
        const auto r = dig(port_, "www.example.org", "A", tcp);
        EXPECT_EQ(r.status, "NOERROR") << r.output;
        EXPECT_EQ(r.answers, std::vector<std::string>{"192.0.2.53"}) << r.output;
        EXPECT_NE(r.output.find("www.example.org.\t300\tIN\tA"), std::string::npos) << r.output;
    }
    // "notexample.net" only ends like the domain.
    EXPECT_EQ(dig(port_, "notexample.net", "A").answers, std::vector<std::string>{"192.0.2.53"});
    EXPECT_EQ(good_.udp_queries, 3);

    // The upstream sees another ID than the client's, and the client gets its own back.
    const auto answer = ask(port_, query_bytes("www.example.org", dns::rrtype::kA, 0x4242));
    ASSERT_TRUE(answer.has_value());
    EXPECT_EQ(dns::peek_id(*answer), 0x4242);
    EXPECT_NE(good_.last_id, 0x4242);  // 1 in 65536 to fail by chance

    const auto c = counters();
    EXPECT_EQ(c.forwarded, 4U);
    EXPECT_EQ(c.answered_overlay, 0U);
}

TEST_F(DnsServerTest, UpstreamTimeoutGivesServfail) {
    start({silent_.endpoint()});
    const auto r = dig(port_, "www.example.org", "A");
    EXPECT_EQ(r.status, "SERVFAIL") << r.output;
    EXPECT_EQ(silent_.udp_queries, 1);
    EXPECT_EQ(counters().upstream_timeouts, 1U);
    EXPECT_EQ(counters().servfail, 1U);
}

TEST_F(DnsServerTest, FailsOverToNextUpstream) {
    start({silent_.endpoint(), good_.endpoint()});
    const auto r = dig(port_, "www.example.org", "A");
    EXPECT_EQ(r.answers, std::vector<std::string>{"192.0.2.53"}) << r.output;
    EXPECT_EQ(silent_.udp_queries, 1);
    EXPECT_EQ(good_.udp_queries, 1);
    EXPECT_EQ(counters().upstream_timeouts, 1U);
}

TEST_F(DnsServerTest, NoUpstreamGivesServfail) {
    start({});
    EXPECT_EQ(dig(port_, "www.example.org", "A").status, "SERVFAIL");
}

TEST_F(DnsServerTest, TruncatedUpstreamAnswerIsFetchedOverTcpForTcpClients) {
    start({truncating_.endpoint()});
    // dig over UDP sees TC, retries over TCP by itself; the server then asks over TCP too.
    const auto udp = dig(port_, "big.example.org", "A");
    EXPECT_EQ(udp.answers, std::vector<std::string>{"192.0.2.53"}) << udp.output;
    EXPECT_NE(udp.output.find("Truncated, retrying in TCP mode"), std::string::npos) << udp.output;
    const auto tcp = dig(port_, "big.example.org", "A", true);
    EXPECT_EQ(tcp.answers, std::vector<std::string>{"192.0.2.53"}) << tcp.output;
    EXPECT_EQ(truncating_.tcp_queries, 2);
}

TEST_F(DnsServerTest, RunsQueriesConcurrently) {
    start({good_.endpoint()});
    // Three queries that the resolver answers only while all three wait at once.
    std::vector<std::future<DigResult>> digs;
    for (int i = 0; i < 3; ++i) {
        digs.push_back(std::async(
            std::launch::async, [this] { return dig(port_, "gate.example.net", "A", false, 4); }));
    }
    for (auto& d : digs) {
        const auto r = d.get();
        EXPECT_EQ(r.answers, std::vector<std::string>{"10.10.0.9"}) << r.output;
    }
}

TEST_F(DnsServerTest, AnswersServfailBeyondMaxInFlight) {
    start({good_.endpoint()}, 1);
    // The first query holds the only slot for about 2 s (the resolver waits in vain).
    auto first = std::async(std::launch::async,
                            [this] { return dig(port_, "slow.example.net", "A", false, 5); });
    std::this_thread::sleep_for(milliseconds(300));
    const auto second = dig(port_, "peer.example.net", "A");
    EXPECT_EQ(second.status, "SERVFAIL") << second.output;
    EXPECT_EQ(first.get().status, "SERVFAIL");  // slow.example.net gives up
    EXPECT_EQ(counters().overloaded, 1U);
    // The slot is free again.
    EXPECT_EQ(dig(port_, "peer.example.net", "A").answers, std::vector<std::string>{"10.10.0.2"});
}

TEST_F(DnsServerTest, CountsGarbageAndKeepsServing) {
    start({good_.endpoint()});
    const auto bytes = [](std::initializer_list<int> v) {
        Bytes out;
        for (const int b : v) {
            out.push_back(static_cast<std::byte>(b));
        }
        return out;
    };
    // Too short for a header: dropped.
    EXPECT_FALSE(ask(port_, bytes({1, 2, 3}), milliseconds(300)).has_value());
    // A response: never answered.
    Bytes response = query_bytes("peer.example.net", dns::rrtype::kA);
    response[2] |= std::byte{0x80};
    EXPECT_FALSE(ask(port_, response, milliseconds(300)).has_value());
    // A readable header with a broken question: FORMERR with the ID echoed.
    Bytes broken = query_bytes("peer.example.net", dns::rrtype::kA, 0x1717);
    broken.push_back(std::byte{0});  // trailing byte
    const auto formerr = ask(port_, broken);
    ASSERT_TRUE(formerr.has_value());
    EXPECT_EQ(dns::peek_id(*formerr), 0x1717);
    EXPECT_EQ(dns::parse_header(*formerr)->rcode(), 1);
    // An opcode we do not serve: NOTIMP.
    Bytes update = query_bytes("peer.example.net", dns::rrtype::kA);
    update[2] = std::byte{0x28};
    const auto notimp = ask(port_, update);
    ASSERT_TRUE(notimp.has_value());
    EXPECT_EQ(dns::parse_header(*notimp)->rcode(), 4);

    // Garbage over TCP: a frame of junk, then the connection still answers a real query.
    {
        asio::io_context io;
        Tcp::socket socket(io);
        socket.connect({loopback(), port_});
        const Bytes junk = bytes({0, 2, 0xff, 0xff});
        asio::write(socket, asio::buffer(junk));
        const Bytes q = query_bytes("peer.example.net", dns::rrtype::kA, 0x2323);
        const Bytes frame_length = bytes({0, static_cast<int>(q.size())});
        asio::write(socket, asio::buffer(frame_length));
        asio::write(socket, asio::buffer(q));
        std::array<std::byte, 2> length{};
        asio::read(socket, asio::buffer(length));
        Bytes reply(load_be16<0>(std::span<const std::byte, 2>(length)));
        asio::read(socket, asio::buffer(reply));
        EXPECT_EQ(dns::peek_id(reply), 0x2323);
        EXPECT_EQ(dns::parse_header(reply)->ancount, 1);
    }

    const auto c = counters();
    EXPECT_EQ(c.dropped.at("truncated"), 2U);  // the short datagram and the 2-byte TCP frame
    EXPECT_EQ(c.dropped.at("not_a_query"), 1U);
    EXPECT_EQ(c.answered_formerr, 2U);
    EXPECT_EQ(c.queries, 6U);
    // And the server still answers dig.
    EXPECT_EQ(dig(port_, "peer.example.net", "A").answers, std::vector<std::string>{"10.10.0.2"});
}

TEST_F(DnsServerTest, StartErrorsNameTheAddress) {
    start({good_.endpoint()});
    // The same UDP port again.
    DnsServerOptions options;
    options.listen = {{kLoopback, port_}};
    options.domain = "example.net";
    on_io([&] {
        DnsServer second(io_.get_executor(), options, {});
        const auto started = second.start();
        ASSERT_FALSE(started.has_value());
        EXPECT_EQ(started.error().rfind("bind udp 127.0.0.1:" + std::to_string(port_) + ": ", 0),
                  0U)
            << started.error();
    });
    options.listen = {{kLoopback, 0}};
    options.domain = "bad_domain.net";
    on_io([&] {
        DnsServer third(io_.get_executor(), options, {});
        const auto started = third.start();
        ASSERT_FALSE(started.has_value());
        EXPECT_NE(started.error().find("bad_domain.net"), std::string::npos);
    });
    // The first server is unharmed.
    EXPECT_EQ(dig(port_, "peer.example.net", "A").answers, std::vector<std::string>{"10.10.0.2"});
}

TEST_F(DnsServerTest, StopClosesListeners) {
    start({good_.endpoint()});
    on_io([this] { server_->stop(); });
    const auto r = dig(port_, "peer.example.net", "A", true);
    EXPECT_NE(r.exit, 0) << r.output;  // connection refused
}

TEST(SystemUpstreams, ReadsNameserverLines) {
    const testing::TempDir dir;
    const auto path = dir.path() / "resolv.conf";
    std::ofstream(path) << "# generated\n"
                           "search example.org\n"
                           "nameserver 192.0.2.1\n"
                           "  nameserver   2001:db8::53  # with a comment\n"
                           ";nameserver 192.0.2.9\n"
                           "nameserver fe80::1%eth0\n"
                           "nameserver\n"
                           "options edns0 trust-ad\n"
                           "nameserver 127.0.0.53\n";
    const auto upstreams = system_upstreams(path);
    EXPECT_EQ(upstreams, (std::vector<Endpoint>{{*IpAddress::parse("192.0.2.1"), 53},
                                                {*IpAddress::parse("2001:db8::53"), 53},
                                                {*IpAddress::parse("127.0.0.53"), 53}}));
    EXPECT_TRUE(system_upstreams(dir.path() / "missing").empty());
}

}  // namespace
}  // namespace cyphonic::net
