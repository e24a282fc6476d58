// Certificate logins (Auth Type 2, D6, D20) and the TLS rules of the AS port.
#include <gtest/gtest.h>

#include "as_harness.hpp"
#include "raw_tls.hpp"

namespace cyphonic::as::testing {
namespace {

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

TEST(AsCertificateLogin, NeedsAVerifiedClientCertificateMatchingTheDeviceId) {
    AsHarness h;
    h.add_device({"node-cert", "--cert-login"});
    h.add_device({"node-other", "--cert-login"});
    h.add_device({"node-pw"}, "pw");
    h.start();
    const auto certs = AsEnvironment::get().certs();

    net::BlockingAsClient with_cert(h.client_options("node-cert"));
    auto ok = with_cert.login(certificate_login("node-cert"));
    ASSERT_TRUE(ok.has_value()) << ok.error().describe();
    EXPECT_EQ(ok->response.fqdn, "node-cert.cyphonic.test");
    // The Certificate field may carry the same certificate (D6) ...
    auto same = with_cert.login(certificate_login("node-cert", wire::ExecMode::Node,
                                                  certificate_der(certs / "client-node-cert.crt")));
    ASSERT_TRUE(same.has_value()) << same.error().describe();
    EXPECT_EQ(same->node_id, ok->node_id);
    // ... but not another one.
    auto different = with_cert.login(certificate_login(
        "node-cert", wire::ExecMode::Node, certificate_der(certs / "client-node-other.crt")));
    ASSERT_FALSE(different.has_value());
    EXPECT_TRUE(contains(different.error().reason, "differs from the TLS client certificate"))
        << different.error().reason;

    // A good certificate for another DeviceID.
    auto mismatch = with_cert.login(certificate_login("node-other"));
    ASSERT_FALSE(mismatch.has_value());
    EXPECT_EQ(mismatch.error().code, wire::ErrorCode::AuthFailed);
    EXPECT_EQ(mismatch.error().reason,
              "client certificate CN 'node-cert' does not match DeviceID 'node-other'");

    // No certificate at all.
    net::BlockingAsClient without(h.client_options());
    auto none = without.login(certificate_login("node-cert"));
    ASSERT_FALSE(none.has_value());
    EXPECT_EQ(none.error().reason,
              "certificate login needs a TLS client certificate, and none was presented");

    // A device enrolled without --cert-login.
    net::BlockingAsClient other(h.client_options("node-other"));
    EXPECT_TRUE(other.login(certificate_login("node-other")).has_value());
    auto pw_only = other.login(basic_login("node-pw", "pw"));
    EXPECT_TRUE(pw_only.has_value());  // basic login works with any certificate presented
}

TEST(AsCertificateLogin, CertificateFromAnotherCaFailsTheHandshake) {
    AsHarness h;
    h.add_device({"node-cert", "--cert-login"});
    h.start();
    net::BlockingAsClient foreign(h.client_options("node-cert", /*foreign=*/true));
    // TLS 1.3: the client finishes its side before the server has checked its certificate, so
    // the failure shows on the first read; either way there is no answer.
    auto r = foreign.login(certificate_login("node-cert"));
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().kind, net::LoginFailure::Kind::Transport) << r.error().describe();
    EXPECT_GE(h.wait_metric(R"(cyphonic_as_dropped_total{reason="tls_handshake"})", 1), 1);
    EXPECT_TRUE(contains(h.log(), "reason=tls_handshake")) << h.log();
    // The service keeps serving.
    net::BlockingAsClient good(h.client_options("node-cert"));
    EXPECT_TRUE(good.login(certificate_login("node-cert")).has_value());
}

TEST(AsTls, Tls12ClientIsRejected) {
    AsHarness h;
    h.start();
    RawTls::Options o = raw_options(h.tls(), AsEnvironment::get().certs() / "ca.crt");
    o.max_version = TLS1_2_VERSION;
    RawTls old(o);
    const auto failed = old.connect();
    ASSERT_TRUE(failed.has_value());
    EXPECT_GE(h.wait_metric(R"(cyphonic_as_dropped_total{reason="tls_handshake"})", 1), 1);

    RawTls::Options modern = raw_options(h.tls(), AsEnvironment::get().certs() / "ca.crt");
    modern.alpn = "";  // no ALPN: the login stream
    RawTls current(modern);
    EXPECT_EQ(current.connect(), std::nullopt);
}

}  // namespace
}  // namespace cyphonic::as::testing
