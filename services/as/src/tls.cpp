#include "tls.hpp"

#include <array>
#include <stdexcept>

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

namespace cyphonic::as {

namespace {

std::string openssl_error() {
    const unsigned long e = ERR_get_error();
    ERR_clear_error();
    if (e == 0) {
        return "unknown OpenSSL error";
    }
    std::array<char, 256> buf{};
    ERR_error_string_n(e, buf.data(), buf.size());
    return buf.data();
}

// Picks "cyphonic/1", else "http/1.1", from the client's ALPN list; a client offering neither
// gets no ALPN and is served the login stream (a client without ALPN is the common case).
int select_alpn(SSL* /*ssl*/, const unsigned char** out, unsigned char* outlen,
                const unsigned char* in, unsigned int inlen, void* /*arg*/) {
    const auto find = [&](std::string_view wanted) -> bool {
        for (unsigned int i = 0; i < inlen;) {
            const unsigned int len = in[i];
            if (i + 1 + len > inlen) {
                return false;
            }
            if (std::string_view(reinterpret_cast<const char*>(in + i + 1), len) == wanted) {
                *out = in + i + 1;
                *outlen = static_cast<unsigned char>(len);
                return true;
            }
            i += 1 + len;
        }
        return false;
    };
    if (find(kAlpnStream) || find(kAlpnHttp)) {
        return SSL_TLSEXT_ERR_OK;
    }
    return SSL_TLSEXT_ERR_NOACK;
}

}  // namespace

asio::ssl::context make_server_tls_context(const AsConfig& config, const ConfigSource& source) {
    asio::ssl::context ctx(asio::ssl::context::tls_server);
    SSL_CTX* native = ctx.native_handle();
    SSL_CTX_set_min_proto_version(native, TLS1_3_VERSION);
    SSL_CTX_set_max_proto_version(native, TLS1_3_VERSION);
    // Logins are rare per client: no session tickets, so every connection proves its
    // certificate afresh.
    SSL_CTX_set_num_tickets(native, 0);
    SSL_CTX_set_options(native, SSL_OP_NO_TICKET);

    if (SSL_CTX_use_certificate_chain_file(native, config.tls_cert.c_str()) != 1) {
        throw app::ConfigError(
            source.where("tls.cert"), "tls.cert",
            fmt::format("cannot load '{}': {}", config.tls_cert.string(), openssl_error()));
    }
    if (SSL_CTX_use_PrivateKey_file(native, config.tls_key.c_str(), SSL_FILETYPE_PEM) != 1) {
        throw app::ConfigError(
            source.where("tls.key"), "tls.key",
            fmt::format("cannot load '{}': {}", config.tls_key.string(), openssl_error()));
    }
    if (SSL_CTX_check_private_key(native) != 1) {
        throw app::ConfigError(source.where("tls.key"), "tls.key",
                               fmt::format("'{}' is not the key of '{}'", config.tls_key.string(),
                                           config.tls_cert.string()));
    }
    if (!config.tls_client_ca.empty()) {
        if (SSL_CTX_load_verify_locations(native, config.tls_client_ca.c_str(), nullptr) != 1) {
            throw app::ConfigError(source.where("tls.client_ca"), "tls.client_ca",
                                   fmt::format("cannot load '{}': {}",
                                               config.tls_client_ca.string(), openssl_error()));
        }
        STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(config.tls_client_ca.c_str());
        if (names != nullptr) {
            SSL_CTX_set_client_CA_list(native, names);
        }
        // Request a certificate but do not require one: basic logins and adapters using HTTP
        // Basic authentication come without. A certificate that is presented must chain to
        // the CA, or the handshake fails.
        SSL_CTX_set_verify(native, SSL_VERIFY_PEER, nullptr);
        static constexpr unsigned char kContext[] = "cyphonic-as";
        SSL_CTX_set_session_id_context(native, kContext, sizeof kContext - 1);
    } else {
        SSL_CTX_set_verify(native, SSL_VERIFY_NONE, nullptr);
    }
    SSL_CTX_set_alpn_select_cb(native, select_alpn, nullptr);
    return ctx;
}

bool negotiated_http(SSL* ssl) {
    const unsigned char* data = nullptr;
    unsigned int len = 0;
    SSL_get0_alpn_selected(ssl, &data, &len);
    return data != nullptr &&
           std::string_view(reinterpret_cast<const char*>(data), len) == kAlpnHttp;
}

std::string common_name(X509* cert) {
    X509_NAME* subject = X509_get_subject_name(cert);
    if (subject == nullptr) {
        return {};
    }
    const int index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
    if (index < 0) {
        return {};
    }
    const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
    unsigned char* utf8 = nullptr;
    const int len = ASN1_STRING_to_UTF8(&utf8, data);
    if (len < 0) {
        return {};
    }
    std::string out(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(len));
    OPENSSL_free(utf8);
    return out;
}

std::optional<PeerCertificate> verified_peer_certificate(SSL* ssl) {
    X509* cert = SSL_get0_peer_certificate(ssl);
    if (cert == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) {
        return std::nullopt;
    }
    PeerCertificate peer;
    peer.common_name = common_name(cert);
    unsigned char* der = nullptr;
    const int len = i2d_X509(cert, &der);
    if (len > 0) {
        const auto* bytes = reinterpret_cast<const std::byte*>(der);
        peer.der.assign(bytes, bytes + len);
        OPENSSL_free(der);
    }
    return peer;
}

ClientCaVerifier::ClientCaVerifier(const std::filesystem::path& ca_file)
    : store_(X509_STORE_new()) {
    if (store_ == nullptr || X509_STORE_load_file(store_, ca_file.c_str()) != 1) {
        X509_STORE_free(store_);
        throw std::runtime_error(
            fmt::format("cannot load client CA '{}': {}", ca_file.string(), openssl_error()));
    }
}

ClientCaVerifier::~ClientCaVerifier() {
    X509_STORE_free(store_);
}

Expected<std::string, std::string> ClientCaVerifier::verify(ByteView der) const {
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    X509* cert = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
    if (cert == nullptr || p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
        X509_free(cert);
        ERR_clear_error();
        return fail(std::string("the Certificate field is not one DER-encoded X.509 certificate"));
    }
    X509_STORE_CTX* ctx = X509_STORE_CTX_new();
    std::string error;
    if (ctx == nullptr || X509_STORE_CTX_init(ctx, store_, cert, nullptr) != 1) {
        error = "cannot verify: " + openssl_error();
    } else {
        X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
        if (X509_verify_cert(ctx) != 1) {
            error = fmt::format("it does not chain to the client CA ({})",
                                X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
        }
    }
    std::string cn = common_name(cert);
    X509_STORE_CTX_free(ctx);
    X509_free(cert);
    ERR_clear_error();
    if (!error.empty()) {
        return fail(std::move(error));
    }
    return cn;
}

}  // namespace cyphonic::as
