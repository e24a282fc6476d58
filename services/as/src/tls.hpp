#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/ssl.hpp>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "config.hpp"
#include "handlers.hpp"

#include "cyphonic/core/bytes.hpp"
#include "cyphonic/core/expected.hpp"
#include "cyphonic/net/asio.hpp"

// TLS of the AS port (docs/DECISIONS.md AS-4): TLS 1.3 only, the server certificate from
// tls.cert/tls.key, client certificates requested (not required) and verified against
// tls.client_ca, ALPN "cyphonic/1" (or none) for the login stream and "http/1.1" for the
// controller API.
namespace cyphonic::as {

inline constexpr std::string_view kAlpnStream = "cyphonic/1";
inline constexpr std::string_view kAlpnHttp = "http/1.1";

// Builds the server context. Throws app::ConfigError naming the tls.* key whose file is bad.
[[nodiscard]] asio::ssl::context make_server_tls_context(const AsConfig& config,
                                                         const ConfigSource& source);

// The protocol the handshake agreed on: true for the controller API (ALPN http/1.1).
[[nodiscard]] bool negotiated_http(SSL* ssl);

// The verified client certificate of a finished handshake, or nullopt when none was presented.
[[nodiscard]] std::optional<PeerCertificate> verified_peer_certificate(SSL* ssl);

// Checks a DER certificate against the client CA outside a handshake (a general node's
// certificate carried by its adapter, Q2). Thread-safe after construction.
class ClientCaVerifier {
public:
    // Throws std::runtime_error if the CA file cannot be loaded.
    explicit ClientCaVerifier(const std::filesystem::path& ca_file);
    ~ClientCaVerifier();
    ClientCaVerifier(const ClientCaVerifier&) = delete;
    ClientCaVerifier& operator=(const ClientCaVerifier&) = delete;

    // The subject CN when `der` is a certificate for client authentication chaining to the CA.
    [[nodiscard]] Expected<std::string, std::string> verify(ByteView der) const;

private:
    X509_STORE* store_ = nullptr;
};

// Subject CN of `cert` ("" when it has none).
[[nodiscard]] std::string common_name(X509* cert);

}  // namespace cyphonic::as
