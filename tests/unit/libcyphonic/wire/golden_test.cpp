// Golden plaintext vectors: tests/golden/plain/<type>.hex holds the exact bytes of
// header ‖ plaintext body for the sample message of each type (tests/support/sample_messages).
// The files were generated once from the samples and checked by hand against the offsets of
// PROTOCOL.md §4 and §6; a difference here is a wire format change.
#include "support/golden.hpp"

#include <cctype>
#include <filesystem>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "support/sample_messages.hpp"

#include "cyphonic/wire/base_header.hpp"
#include "cyphonic/wire/messages.hpp"

namespace cyphonic::wire {
namespace {

std::string file_of(const samples::SampleMessage& s) {
    return "plain/" + s.name + ".hex";
}

class GoldenPlaintext : public ::testing::TestWithParam<samples::SampleMessage> {};

INSTANTIATE_TEST_SUITE_P(
    AllTypes, GoldenPlaintext, ::testing::ValuesIn(samples::sample_messages()),
    [](const ::testing::TestParamInfo<samples::SampleMessage>& p) {
        std::string name;
        bool up = true;
        for (const char c : p.param.name) {
            if (c == '_') {
                up = true;
                continue;
            }
            name.push_back(up ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c);
            up = false;
        }
        return name;
    });

TEST_P(GoldenPlaintext, EncodesToTheGoldenBytes) {
    const auto& s = GetParam();
    EXPECT_EQ(s.name, to_string(s.header.type));
    const Bytes expected = golden::read(file_of(s));
    EXPECT_EQ(to_hex(samples::plaintext(s)), to_hex(expected));

    Bytes encoded(kBaseHeaderSize + encoded_size(s.body));
    encode(s.header, std::span(encoded).first<kBaseHeaderSize>());
    EXPECT_EQ(encode(s.body, std::span(encoded).subspan(kBaseHeaderSize)),
              encoded.size() - kBaseHeaderSize);
    EXPECT_EQ(to_hex(encoded), to_hex(expected));
}

TEST_P(GoldenPlaintext, DecodesTheGoldenBytesToTheSample) {
    const auto& s = GetParam();
    const Bytes bytes = golden::read(file_of(s));
    const auto header = decode_base_header(bytes);
    ASSERT_TRUE(header.has_value()) << to_string(header.error());
    EXPECT_EQ(*header, s.header);
    EXPECT_EQ(header->message_length, bytes.size());
    const auto body = decode_body(header->type, std::span(bytes).subspan(kBaseHeaderSize));
    ASSERT_TRUE(body.has_value()) << to_string(body.error());
    EXPECT_TRUE(body_matches(header->type, *body));
    EXPECT_EQ(*body, s.body);
    if (allowed_on_stream(s.header.type)) {
        const auto message = decode_stream_message(bytes);
        ASSERT_TRUE(message.has_value()) << to_string(message.error());
        EXPECT_EQ(*message, (StreamMessage{s.header, s.body}));
    }
}

TEST(GoldenPlaintextFiles, ExistExactlyForTheSampleMessages) {
    std::set<std::string> expected;
    for (const auto& s : samples::sample_messages()) {
        expected.insert(s.name + ".hex");
    }
    EXPECT_EQ(expected.size(), std::size_t{kLastMessageType});
    std::set<std::string> present;
    for (const auto& entry : std::filesystem::directory_iterator(golden::path("plain"))) {
        present.insert(entry.path().filename().string());
    }
    EXPECT_EQ(present, expected);
}

}  // namespace
}  // namespace cyphonic::wire
