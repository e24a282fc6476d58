// `cyphonicd status`: the JSON the scripts parse and the text people read.
#include "status.hpp"

#include <gtest/gtest.h>

namespace cyphonic::noded {
namespace {

DaemonStatus sample() {
    DaemonStatus s;
    s.state = "registered";
    s.fqdn = "alice.cyphonic.test";
    s.virtual_v4 = *Ipv4Address::parse("10.99.0.1");
    s.behind_nat = true;
    s.last_error = "quote \" and \\ and \x01";
    s.drops = {{"replayed", 3}, {"bad_mac", 1}};
    PeerStatus p;
    p.fqdn = "bob.cyphonic.test";
    p.v4 = *Ipv4Address::parse("10.99.0.2");
    p.relayed = true;
    p.endpoint = *Endpoint::parse("10.77.0.10:4700");
    p.tx_packets = 5;
    p.last_handshake_s = 2;
    s.peers.push_back(p);
    return s;
}

TEST(Status, JsonCarriesEveryFieldEscaped) {
    const auto json = to_json(sample());
    EXPECT_NE(json.find(R"("state":"registered")"), std::string::npos);
    EXPECT_NE(json.find(R"("virtual_ipv4":"10.99.0.1","virtual_ipv6":null)"), std::string::npos);
    EXPECT_NE(json.find(R"("nat":true)"), std::string::npos);
    EXPECT_NE(json.find(R"("last_error":"quote \" and \\ and \u0001")"), std::string::npos);
    EXPECT_NE(json.find(R"("drops":{"bad_mac":1,"replayed":3})"), std::string::npos);
    EXPECT_NE(json.find(R"("path":"relayed","endpoint":"10.77.0.10:4700","tx_packets":5)"),
              std::string::npos);
    EXPECT_NE(json.find(R"("last_handshake_s":2)"), std::string::npos);
}

TEST(Status, TextNamesPeersAndDrops) {
    const auto text = to_text(sample());
    EXPECT_NE(text.find("bob.cyphonic.test  10.99.0.2 -  relayed via 10.77.0.10:4700"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("dropped:      4 bad_mac=1 replayed=3"), std::string::npos) << text;
    EXPECT_NE(text.find("behind NAT:   yes"), std::string::npos) << text;
}

}  // namespace
}  // namespace cyphonic::noded
