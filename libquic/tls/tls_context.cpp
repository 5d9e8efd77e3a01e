#include "quic/tls_context.h"

#include <openssl/ssl.h>

#include <cstring>

#include "tls/tls_session.h"

namespace quic {
namespace {

Error config_error(std::string what) {
    return Error::transport(TransportErrorCode::kInternalError, "TLS configuration: " + what);
}

// RFC 9001 §8.1: a server that finds no common application protocol fails the handshake with
// the no_application_protocol alert.
int select_alpn(SSL*, const uint8_t** out, uint8_t* out_len, const uint8_t* in, unsigned in_len,
                void* arg) {
    const auto* cfg = static_cast<const TlsConfig*>(arg);
    for (const std::string& ours : cfg->alpn) {
        for (unsigned i = 0; i < in_len;) {
            unsigned len = in[i];
            if (i + 1 + len > in_len) break;
            if (len == ours.size() && std::memcmp(in + i + 1, ours.data(), len) == 0) {
                *out = in + i + 1;
                *out_len = static_cast<uint8_t>(len);
                return SSL_TLSEXT_ERR_OK;
            }
            i += 1 + len;
        }
    }
    return SSL_TLSEXT_ERR_ALERT_FATAL;
}

void keylog_line(const SSL* ssl, const char* line) {
    SSL_CTX* ctx = SSL_get_SSL_CTX(ssl);
    auto* cfg = static_cast<const TlsConfig*>(SSL_CTX_get_app_data(ctx));
    if (cfg && cfg->keylog) cfg->keylog(line);
}

}  // namespace

Result<std::unique_ptr<TlsContext>> TlsContext::create(TlsConfig config) {
    std::unique_ptr<TlsContext> t(new TlsContext(std::move(config)));
    const TlsConfig& cfg = t->config_;
    t->ctx_ = SSL_CTX_new(TLS_method());
    SSL_CTX* ctx = t->ctx_;
    if (!ctx) return config_error("SSL_CTX_new failed");
    // QUIC requires TLS 1.3 (RFC 9001 §4.2).
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_app_data(ctx, const_cast<TlsConfig*>(&cfg));
    if (cfg.keylog) SSL_CTX_set_keylog_callback(ctx, keylog_line);
    if (cfg.enable_early_data) SSL_CTX_set_early_data_enabled(ctx, 1);

    if (cfg.is_server) {
        if (!cfg.certificate || !cfg.certificate->key || cfg.certificate->chain.empty())
            return config_error("a server needs a certificate and a key");
        if (!SSL_CTX_use_certificate(ctx, cfg.certificate->chain[0].get()) ||
            !SSL_CTX_use_PrivateKey(ctx, cfg.certificate->key.get()))
            return config_error("the certificate or key was refused");
        for (size_t i = 1; i < cfg.certificate->chain.size(); ++i)
            if (!SSL_CTX_add1_chain_cert(ctx, cfg.certificate->chain[i].get()))
                return config_error("the certificate chain was refused");
        SSL_CTX_set_alpn_select_cb(ctx, select_alpn, const_cast<TlsConfig*>(&cfg));
        TlsSession::install_server_context_callbacks(ctx);
    } else {
        // Accept Ed25519 certificates too (the simulator uses them for fixed-size signatures).
        static constexpr uint16_t kVerifyPrefs[] = {
            SSL_SIGN_ECDSA_SECP256R1_SHA256,
            SSL_SIGN_RSA_PSS_RSAE_SHA256,
            SSL_SIGN_RSA_PKCS1_SHA256,
            SSL_SIGN_ECDSA_SECP384R1_SHA384,
            SSL_SIGN_RSA_PSS_RSAE_SHA384,
            SSL_SIGN_RSA_PKCS1_SHA384,
            SSL_SIGN_RSA_PSS_RSAE_SHA512,
            SSL_SIGN_RSA_PKCS1_SHA512,
            SSL_SIGN_ED25519,
        };
        SSL_CTX_set_verify_algorithm_prefs(ctx, kVerifyPrefs, std::size(kVerifyPrefs));
        switch (cfg.verification) {
            case CertificateVerification::kNone:
                SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
                break;
            case CertificateVerification::kSystem:
                SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
                if (!SSL_CTX_load_verify_locations(ctx, "/etc/ssl/certs/ca-certificates.crt",
                                                   "/etc/ssl/certs"))
                    ERR_clear_error();  // no system bundle: every server then fails to verify
                break;
            case CertificateVerification::kCaFile:
                SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
                if (!SSL_CTX_load_verify_locations(ctx, cfg.ca_file.c_str(), nullptr))
                    return config_error("cannot load CA file " + cfg.ca_file);
                break;
        }
        // Session tickets for resumption are delivered through the new-session callback.
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL);
        TlsSession::install_context_callbacks(ctx);
    }
    return t;
}

TlsContext::~TlsContext() {
    if (ctx_) SSL_CTX_free(ctx_);
}

}  // namespace quic
