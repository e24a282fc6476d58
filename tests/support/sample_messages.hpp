#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "cyphonic/core/bytes.hpp"
#include "cyphonic/core/ids.hpp"
#include "cyphonic/wire/base_header.hpp"
#include "cyphonic/wire/messages.hpp"
#include "cyphonic/wire/types.hpp"

// One fixed, fully specified message per Message Type (PROTOCOL.md §4.1), used for the golden
// plaintext vectors (tests/golden/plain/<name>.hex), the fuzz seed corpora and the sealed golden
// vectors. Changing a value here changes those files: regenerate and re-inspect them.
//
// Every header has Transaction ID kTransactionId, Sequence Number kSequence, Count 0, Next Opt 0,
// the flags and ID that §4.1–§4.3 give that message in the scenario below, and Message Length
// 32 + plaintext body size (no trailer: the plaintext layout of §0). Scenario: alice
// (initiator) reaches bob (responder, behind an adapter) via a TRS; PathID is the C1 value for
// alice.example.net → bob.example.net.
namespace cyphonic::samples {

inline constexpr std::uint32_t kTransactionId = 0x01020304;
inline constexpr std::uint32_t kSequence = 1;

[[nodiscard]] NodeId alice_node_id();    // a11ce000…01
[[nodiscard]] NodeId bob_node_id();      // b0b00000…02
[[nodiscard]] NodeId nms_node_id();      // 4e4d5300…03
[[nodiscard]] NodeId trs_node_id();      // 54525300…04
[[nodiscard]] NodeId adapter_node_id();  // ada97e00…05
[[nodiscard]] PathId path_id();          // dd5fcb64b9089d1d47787370c4c08b02 (§11)
[[nodiscard]] ApplicationId application_id();

struct SampleMessage {
    wire::BaseHeader header;
    wire::Body body;   // the Capsule payload points at static storage
    std::string name;  // == wire::to_string(header.type), e.g. "route_direction_to_responder"
};

// GoogleTest prints a sample by name (parameterised tests).
inline void PrintTo(const SampleMessage& m, std::ostream* os) {
    *os << m.name;
}

// All 18 types, in type order 0x01..0x12.
[[nodiscard]] std::vector<SampleMessage> sample_messages();

// The sample of one type.
[[nodiscard]] SampleMessage sample_message(wire::MessageType type);

// header ‖ plaintext body, exactly header.message_length bytes.
[[nodiscard]] Bytes plaintext(const SampleMessage& m);

}  // namespace cyphonic::samples

namespace cyphonic::wire {
// GoogleTest prints a DecodeError by name in failure messages (found by ADL).
inline void PrintTo(DecodeError e, std::ostream* os) {
    *os << to_string(e);
}
}  // namespace cyphonic::wire
