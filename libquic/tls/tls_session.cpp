#include "tls/tls_session.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace quic {

// The SSL_QUIC_METHOD callbacks, routed to the TlsSession stored as the SSL's app data.
struct TlsSessionCallbacks {
    static TlsSession& of(SSL* ssl) { return *static_cast<TlsSession*>(SSL_get_app_data(ssl)); }
    static EncryptionLevel level(ssl_encryption_level_t l) {
        return static_cast<EncryptionLevel>(l);
    }

    static int set_read_secret(SSL* ssl, ssl_encryption_level_t l, const SSL_CIPHER* cipher,
                               const uint8_t* secret, size_t len) {
        return of(ssl).handler_.on_secret(level(l), false, SSL_CIPHER_get_protocol_id(cipher),
                                          ByteSpan(secret, len));
    }
    static int set_write_secret(SSL* ssl, ssl_encryption_level_t l, const SSL_CIPHER* cipher,
                                const uint8_t* secret, size_t len) {
        return of(ssl).handler_.on_secret(level(l), true, SSL_CIPHER_get_protocol_id(cipher),
                                          ByteSpan(secret, len));
    }
    static int add_handshake_data(SSL* ssl, ssl_encryption_level_t l, const uint8_t* data,
                                  size_t len) {
        of(ssl).handler_.on_handshake_data(level(l), ByteSpan(data, len));
        return 1;
    }
    static int flush_flight(SSL*) { return 1; }
    // RFC 9001 §4.8: the alert becomes a CONNECTION_CLOSE with CRYPTO_ERROR; remember it.
    static int send_alert(SSL* ssl, ssl_encryption_level_t, uint8_t alert) {
        of(ssl).alert_ = alert;
        return 1;
    }
    static int new_session(SSL* ssl, SSL_SESSION* session) {
        uint8_t* buf = nullptr;
        size_t len = 0;
        if (SSL_SESSION_to_bytes(session, &buf, &len)) {
            of(ssl).handler_.on_session_ticket(Bytes(buf, buf + len));
            OPENSSL_free(buf);
        }
        return 0;  // we did not take ownership of `session`
    }
    static ssl_select_cert_result_t select_certificate(const SSL_CLIENT_HELLO* hello) {
        const uint8_t* data = nullptr;
        size_t len = 0;
        if (!SSL_early_callback_ctx_extension_get(hello, TLSEXT_TYPE_quic_transport_parameters,
                                                  &data, &len)) {
            data = nullptr;
            len = 0;
        }
        return of(hello->ssl).handler_.on_client_hello(ByteSpan(data, len))
                   ? ssl_select_cert_success
                   : ssl_select_cert_error;
    }
};

namespace {

constexpr SSL_QUIC_METHOD kQuicMethod = {
    TlsSessionCallbacks::set_read_secret,    TlsSessionCallbacks::set_write_secret,
    TlsSessionCallbacks::add_handshake_data, TlsSessionCallbacks::flush_flight,
    TlsSessionCallbacks::send_alert,
};

bool is_ip_literal(const std::string& host) {
    uint8_t buf[16];
    return inet_pton(AF_INET, host.c_str(), buf) == 1 ||
           inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

std::string last_ssl_error() {
    uint32_t e = ERR_get_error();
    ERR_clear_error();
    if (e == 0) return "handshake failed";
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    return buf;
}

}  // namespace

Result<std::unique_ptr<TlsSession>> TlsSession::create(const TlsContext& ctx, Handler& handler,
                                                       const std::string& server_name) {
    std::unique_ptr<TlsSession> s(new TlsSession(ctx, handler));
    s->ssl_ = SSL_new(ctx.native());
    if (!s->ssl_) return Error::transport(TransportErrorCode::kInternalError, "SSL_new failed");
    SSL* ssl = s->ssl_;
    SSL_set_app_data(ssl, s.get());
    if (!SSL_set_quic_method(ssl, &kQuicMethod))
        return Error::transport(TransportErrorCode::kInternalError, "SSL_set_quic_method failed");
    const TlsConfig& cfg = ctx.config();
    if (cfg.is_server) {
        SSL_set_accept_state(ssl);
    } else {
        SSL_set_connect_state(ssl);
        if (!cfg.alpn.empty()) {
            Bytes wire;
            for (const std::string& p : cfg.alpn) {
                if (p.empty() || p.size() > 255) continue;
                wire.push_back(static_cast<uint8_t>(p.size()));
                wire.insert(wire.end(), p.begin(), p.end());
            }
            if (SSL_set_alpn_protos(ssl, wire.data(), wire.size()) != 0)
                return Error::transport(TransportErrorCode::kInternalError, "ALPN list refused");
        }
        if (!server_name.empty()) {
            if (!is_ip_literal(server_name)) SSL_set_tlsext_host_name(ssl, server_name.c_str());
            if (cfg.verification != CertificateVerification::kNone) {
                X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
                int ok = is_ip_literal(server_name)
                             ? X509_VERIFY_PARAM_set1_ip_asc(param, server_name.c_str())
                             : X509_VERIFY_PARAM_set1_host(param, server_name.c_str(),
                                                           server_name.size());
                if (!ok)
                    return Error::transport(TransportErrorCode::kInternalError,
                                            "cannot verify against the name " + server_name);
            }
        }
        if (cfg.enable_early_data) SSL_set_early_data_enabled(ssl, 1);
    }
    return s;
}

void TlsSession::install_context_callbacks(SSL_CTX* ctx) {
    SSL_CTX_sess_set_new_cb(ctx, TlsSessionCallbacks::new_session);
}

void TlsSession::install_server_context_callbacks(SSL_CTX* ctx) {
    SSL_CTX_set_select_certificate_cb(ctx, TlsSessionCallbacks::select_certificate);
}

TlsSession::~TlsSession() {
    if (ssl_) SSL_free(ssl_);
}

Status TlsSession::set_transport_parameters(ByteSpan encoded) {
    if (!SSL_set_quic_transport_params(ssl_, encoded.data(), encoded.size()))
        return Error::transport(TransportErrorCode::kInternalError, "transport parameters refused");
    return {};
}

void TlsSession::set_early_data_enabled(bool enabled) {
    SSL_set_early_data_enabled(ssl_, enabled ? 1 : 0);
}

Status TlsSession::set_early_data_context(ByteSpan context) {
    if (!SSL_set_quic_early_data_context(ssl_, context.data(), context.size()))
        return Error::transport(TransportErrorCode::kInternalError, "early data context refused");
    return {};
}

bool TlsSession::set_resumption_session(ByteSpan session) {
    bssl::UniquePtr<SSL_SESSION> s(
        SSL_SESSION_from_bytes(session.data(), session.size(), ctx_.native()));
    if (!s) {
        ERR_clear_error();
        return false;
    }
    return SSL_set_session(ssl_, s.get()) == 1;
}

bool TlsSession::session_allows_early_data(const TlsContext& ctx, ByteSpan session) {
    bssl::UniquePtr<SSL_SESSION> s(
        SSL_SESSION_from_bytes(session.data(), session.size(), ctx.native()));
    if (!s) {
        ERR_clear_error();
        return false;
    }
    return SSL_SESSION_early_data_capable(s.get()) == 1;
}

Status TlsSession::provide_data(EncryptionLevel level, ByteSpan data) {
    if (!SSL_provide_quic_data(ssl_, static_cast<ssl_encryption_level_t>(level), data.data(),
                               data.size())) {
        // Data at a level TLS does not expect: RFC 9001 §4.1.3 makes this a connection error;
        // unexpected_message (10) is the alert TLS itself would raise.
        return tls_alert_error(kTlsAlertUnexpectedMessage,
                               "unexpected handshake data: " + last_ssl_error());
    }
    return {};
}

Status TlsSession::advance() {
    for (;;) {
        int rc = SSL_in_init(ssl_) ? SSL_do_handshake(ssl_) : SSL_process_quic_post_handshake(ssl_);
        if (rc == 1) {
            if (SSL_in_init(ssl_)) continue;  // early return for 0-RTT / half-RTT: keep going
            return {};
        }
        int err = SSL_get_error(ssl_, rc);
        switch (err) {
            case SSL_ERROR_WANT_READ:
            case SSL_ERROR_WANT_WRITE:
                return {};
            case SSL_ERROR_EARLY_DATA_REJECTED:
                // RFC 9001 §4.6.2: the client forgets 0-RTT state and continues the handshake.
                SSL_reset_early_data_reject(ssl_);
                handler_.on_early_data_rejected();
                continue;
            default: {
                std::string why = last_ssl_error();
                // RFC 9001 §4.8: TLS alerts map to CRYPTO_ERROR 0x100 + alert; internal_error (80)
                // when BoringSSL failed without sending one.
                const uint8_t alert =
                    alert_ >= 0 ? static_cast<uint8_t>(alert_) : kTlsAlertInternalError;
                const char* desc = SSL_alert_desc_string_long(alert);
                return tls_alert_error(alert, std::string("TLS alert ") + desc + ": " + why);
            }
        }
    }
}

bool TlsSession::handshake_complete() const {
    return !SSL_in_init(ssl_);
}
bool TlsSession::is_server() const {
    return SSL_is_server(ssl_) == 1;
}
bool TlsSession::early_data_accepted() const {
    return SSL_early_data_accepted(ssl_) == 1;
}
bool TlsSession::session_resumed() const {
    return SSL_session_reused(ssl_) == 1;
}

ByteSpan TlsSession::peer_transport_parameters() const {
    const uint8_t* p = nullptr;
    size_t len = 0;
    SSL_get_peer_quic_transport_params(ssl_, &p, &len);
    return ByteSpan(p, len);
}

std::string TlsSession::alpn() const {
    const uint8_t* p = nullptr;
    unsigned len = 0;
    SSL_get0_alpn_selected(ssl_, &p, &len);
    return std::string(reinterpret_cast<const char*>(p), len);
}

std::string TlsSession::cipher_name() const {
    const SSL_CIPHER* c = SSL_get_current_cipher(ssl_);
    return c ? SSL_CIPHER_standard_name(c) : "";
}

uint16_t TlsSession::cipher_suite() const {
    const SSL_CIPHER* c = SSL_get_current_cipher(ssl_);
    return c ? SSL_CIPHER_get_protocol_id(c) : 0;
}

std::string TlsSession::server_name() const {
    const char* n = SSL_get_servername(ssl_, TLSEXT_NAMETYPE_host_name);
    return n ? n : "";
}

}  // namespace quic
