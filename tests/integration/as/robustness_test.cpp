// Bad input on the AS stream is answered with BAD_REQUEST where a header arrived, counted by
// reason, and never changes stored state; the service keeps serving (ARCHITECTURE.md
// "Cross-cutting conventions", D11, D20).
#include <gtest/gtest.h>

#include "as_harness.hpp"
#include "raw_tls.hpp"

namespace cyphonic::as::testing {
namespace {

using namespace std::chrono_literals;

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

std::string dropped(const std::string& reason) {
    return R"(cyphonic_as_dropped_total{reason=")" + reason + R"("})";
}

// Everything the AS stores, as text, to compare before and after.
std::string snapshot(const AsHarness& h) {
    pqxx::connection c(h.conninfo());
    pqxx::read_transaction t(c);
    std::string out;
    for (const auto& row : t.exec("SELECT d::text FROM devices d ORDER BY device_id")) {
        out += row[0].as<std::string>() + "\n";
    }
    for (const auto& row : t.exec("SELECT k::text FROM nms_keys k ORDER BY node_id")) {
        out += row[0].as<std::string>() + "\n";
    }
    return out;
}

class AsBadInput : public ::testing::Test {
protected:
    void SetUp() override {
        h_.add_device({"node1"}, "secret-1");
        h_.start();
    }
    RawTls connect() {
        RawTls tls(raw_options(h_.tls(), AsEnvironment::get().certs() / "ca.crt"));
        const auto failed = tls.connect();
        EXPECT_EQ(failed, std::nullopt);
        return tls;
    }
    // Sends `bytes`; expects an Error BAD_REQUEST with that Transaction ID, then a close.
    std::string expect_bad_request(ByteView bytes, std::uint32_t transaction_id) {
        RawTls tls = connect();
        EXPECT_TRUE(tls.write(bytes));
        const auto answer = tls.read_message();
        EXPECT_TRUE(answer.has_value());
        if (!answer) {
            return {};
        }
        EXPECT_EQ(answer->header.type, wire::MessageType::Error);
        EXPECT_EQ(answer->header.transaction_id, transaction_id);
        const auto& error = std::get<wire::Error>(answer->body);
        EXPECT_EQ(error.error_code(), wire::ErrorCode::BadRequest);
        EXPECT_TRUE(tls.closed_by_peer());
        return error.reason;
    }

    AsHarness h_;
};

TEST_F(AsBadInput, IsCountedAnsweredAndDroppedWhileServiceKeepsServing) {
    const std::string before = snapshot(h_);
    const Bytes valid = stream_bytes(basic_login("node1", "secret-1"), 0x01020304);

    // Garbage: 32 bytes that are no header.
    Bytes garbage(64, std::byte{0xEE});
    auto reason = expect_bad_request(garbage, 0xEEEEEEEE);
    EXPECT_TRUE(contains(reason, "(unknown_version)")) << reason;
    EXPECT_EQ(h_.wait_metric(dropped("decode_unknown_version"), 1), 1);

    // Oversized: a header announcing 60000 bytes.
    Bytes big = valid;
    big[12] = std::byte{0xEA};
    big[13] = std::byte{0x60};
    reason = expect_bad_request(big, 0x01020304);
    EXPECT_EQ(reason, "message length 60000 exceeds the limit of 16384 bytes");
    EXPECT_EQ(h_.wait_metric(dropped("oversized"), 1), 1);

    // A body that does not decode: Auth Type 9.
    Bytes bad_body = valid;
    bad_body[48] = std::byte{9};
    reason = expect_bad_request(bad_body, 0x01020304);
    EXPECT_TRUE(contains(reason, "malformed login_request (bad_auth_type)")) << reason;
    EXPECT_EQ(h_.wait_metric(dropped("decode_bad_auth_type"), 1), 1);

    // A well-formed message the AS never accepts from a client.
    wire::BaseHeader error_header;
    error_header.transaction_id = 0x0A0B0C0D;
    error_header.type = wire::MessageType::Error;
    error_header.flags = wire::flag::kResponse;
    wire::Error error_body;
    error_body.code = 1;
    error_body.reason = "hello";
    reason = expect_bad_request(wire::encode_stream_message(error_header, error_body), 0x0A0B0C0D);
    EXPECT_EQ(reason, "expected a Login Request (type 0x02), got error");
    EXPECT_EQ(h_.wait_metric(dropped("unexpected_type"), 1), 1);

    // Truncated at every interesting length, then the client hangs up.
    const std::size_t cuts[] = {1, 31, 32, 33, 56, valid.size() - 1};
    for (const std::size_t n : cuts) {
        SCOPED_TRACE(n);
        RawTls tls = connect();
        ASSERT_TRUE(tls.write(ByteView(valid).first(n)));
        tls.abort();
    }
    EXPECT_EQ(h_.wait_metric(dropped("truncated"), std::size(cuts)), std::size(cuts));

    // Nothing stored changed, and a proper login still works.
    EXPECT_EQ(snapshot(h_), before);
    EXPECT_TRUE(contains(h_.log(), "input dropped reason=oversized")) << h_.log();
    net::BlockingAsClient client(h_.client_options());
    auto ok = client.login(basic_login("node1", "secret-1"));
    ASSERT_TRUE(ok.has_value()) << ok.error().describe();
    EXPECT_EQ(h_.metric(R"(cyphonic_as_requests_total{type="login_request",result="ok"})"), 1);
}

TEST_F(AsBadInput, EveryBodyTruncationIsRejectedAsMalformed) {
    // A consistent header whose Message Length covers only part of the body: the decoder
    // rejects each one (Truncated), the AS answers BAD_REQUEST.
    const Bytes valid = stream_bytes(basic_login("node1", "secret-1"), 7);
    for (std::size_t n = 33; n < valid.size(); n += 3) {
        SCOPED_TRACE(n);
        Bytes cut(valid.begin(), valid.begin() + static_cast<std::ptrdiff_t>(n));
        cut[12] = static_cast<std::byte>(n >> 8U);
        cut[13] = static_cast<std::byte>(n & 0xFFU);
        const auto reason = expect_bad_request(cut, 7);
        EXPECT_TRUE(contains(reason, "malformed login_request")) << reason;
    }
    net::BlockingAsClient client(h_.client_options());
    EXPECT_TRUE(client.login(basic_login("node1", "secret-1")).has_value());
}

}  // namespace
}  // namespace cyphonic::as::testing
