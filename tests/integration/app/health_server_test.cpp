#include "cyphonic/app/health_server.hpp"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

namespace cyphonic::app {
namespace {

// Sends one raw HTTP request to the server and returns the whole response.
std::string fetch(const Endpoint& server, const std::string& request) {
    asio::io_context io;
    asio::ip::tcp::socket socket(io);
    socket.connect({to_asio(server.address), server.port});
    asio::write(socket, asio::buffer(request));
    std::string response;
    boost::system::error_code ec;
    std::array<char, 4096> chunk{};
    for (;;) {
        const std::size_t n = socket.read_some(asio::buffer(chunk), ec);
        response.append(chunk.data(), n);
        if (ec) {
            break;
        }
    }
    return response;
}

std::string get(const Endpoint& server, const std::string& path) {
    return fetch(server, "GET " + path + " HTTP/1.1\r\nHost: test\r\n\r\n");
}

class HealthServerTest : public ::testing::Test {
protected:
    void SetUp() override {
        requests_ = &metrics_.counter("cyphonic_test_requests_total", "requests", {"type"});
        latency_ = &metrics_.histogram("cyphonic_test_latency_seconds", "latency");
        server_.start({*IpAddress::parse("127.0.0.1"), 0});
        thread_ = std::thread([this] { io_.run(); });
    }
    void TearDown() override {
        asio::post(io_, [this] { server_.stop(); });
        thread_.join();
    }

    asio::io_context io_;
    MetricsRegistry metrics_;
    Family<Counter>* requests_ = nullptr;
    Family<Histogram>* latency_ = nullptr;
    std::atomic<bool> ready_{true};
    HealthServer server_{io_, metrics_, [this] { return ready_.load(); }};
    std::thread thread_;
};

TEST_F(HealthServerTest, AnswersHealthzAndReadyz) {
    EXPECT_NE(get(server_.local_endpoint(), "/healthz").find("200 OK"), std::string::npos);
    EXPECT_NE(get(server_.local_endpoint(), "/readyz").find("200 OK"), std::string::npos);
    ready_ = false;
    const auto unready = get(server_.local_endpoint(), "/readyz");
    EXPECT_NE(unready.find("503"), std::string::npos) << unready;
}

TEST_F(HealthServerTest, ServesPrometheusText) {
    requests_->with({"keep_alive"}).inc(3);
    requests_->with({"say \"hi\""}).inc();
    latency_->with({}).observe(0.0007);
    const auto body = get(server_.local_endpoint(), "/metrics");
    EXPECT_NE(body.find("# TYPE cyphonic_test_requests_total counter"), std::string::npos);
    EXPECT_NE(body.find("cyphonic_test_requests_total{type=\"keep_alive\"} 3"), std::string::npos)
        << body;
    EXPECT_NE(body.find("cyphonic_test_requests_total{type=\"say \\\"hi\\\"\"} 1"),
              std::string::npos)
        << body;
    EXPECT_NE(body.find("cyphonic_test_latency_seconds_bucket{le=\"0.001\"} 1"), std::string::npos);
    EXPECT_NE(body.find("cyphonic_test_latency_seconds_bucket{le=\"0.0005\"} 0"),
              std::string::npos);
    EXPECT_NE(body.find("cyphonic_test_latency_seconds_count 1"), std::string::npos);
}

TEST_F(HealthServerTest, RejectsUnknownPathsMethodsAndGarbage) {
    EXPECT_NE(get(server_.local_endpoint(), "/nope").find("404"), std::string::npos);
    EXPECT_NE(
        fetch(server_.local_endpoint(), "POST /healthz HTTP/1.1\r\nHost: x\r\n\r\n").find("405"),
        std::string::npos);
    // Garbage gets the connection closed without an answer, and the server keeps serving.
    EXPECT_EQ(fetch(server_.local_endpoint(), "\x01\x02 garbage\r\n\r\n"), "");
    EXPECT_NE(get(server_.local_endpoint(), "/healthz").find("200 OK"), std::string::npos);
}

}  // namespace
}  // namespace cyphonic::app
