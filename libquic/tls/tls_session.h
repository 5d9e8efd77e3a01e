// One connection's TLS 1.3 handshake through BoringSSL's QUIC API (SSL_QUIC_METHOD,
// RFC 9001 §4). The connection feeds it CRYPTO data per encryption level and receives
// secrets and handshake bytes through a Handler; no record layer, no I/O.
#pragma once

#include <openssl/base.h>

#include <cstdint>
#include <string>
#include <utility>

#include "quic/bytes.h"
#include "quic/packet_type.h"
#include "quic/result.h"
#include "quic/tls_context.h"

namespace quic {

// RFC 9001 §4.8: a TLS alert as a QUIC connection error, CRYPTO_ERROR 0x100 + the alert.
inline constexpr uint8_t kTlsAlertUnexpectedMessage = 10;  // RFC 8446 §6.2
inline constexpr uint8_t kTlsAlertInternalError = 80;
inline Error tls_alert_error(uint8_t alert, std::string reason) {
    return Error::transport(
        TransportErrorCode(static_cast<uint64_t>(TransportErrorCode::kCryptoErrorBase) + alert),
        std::move(reason));
}

class TlsSession {
  public:
    class Handler {
      public:
        virtual ~Handler() = default;
        // A traffic secret is ready (RFC 9001 §4.1.4). cipher_suite is the TLS id (0x1301..3).
        virtual bool on_secret(EncryptionLevel level, bool for_writing, uint16_t cipher_suite,
                               ByteSpan secret) = 0;
        // Handshake bytes to send in CRYPTO frames at `level`.
        virtual void on_handshake_data(EncryptionLevel level, ByteSpan data) = 0;
        // A session ticket arrived (client): an opaque resumption blob.
        virtual void on_session_ticket(Bytes /*session*/) {}
        // The server rejected our 0-RTT (client): 0-RTT data must be sent again in 1-RTT.
        virtual void on_early_data_rejected() {}
        // Server: a ClientHello arrived, with the client's quic_transport_parameters (empty if
        // absent), before anything of ours is written: the moment a server picks the
        // negotiated version and sets its own transport parameters (RFC 9368 §2.3). False
        // aborts the handshake.
        virtual bool on_client_hello(ByteSpan /*peer_transport_parameters*/) { return true; }
    };

    // server_name: the client's SNI and the name its certificate check uses (ignored by servers).
    static Result<std::unique_ptr<TlsSession>> create(const TlsContext& ctx, Handler& handler,
                                                      const std::string& server_name = {});
    ~TlsSession();
    TlsSession(const TlsSession&) = delete;
    TlsSession& operator=(const TlsSession&) = delete;

    // Our transport parameters (RFC 9001 §8.2), before the handshake starts.
    Status set_transport_parameters(ByteSpan encoded);
    // Server: what 0-RTT acceptance is bound to (our transport parameters and application
    // settings); a ticket minted under another context has its early data rejected.
    Status set_early_data_context(ByteSpan context);
    // Offer (client) or accept (server) 0-RTT on this connection (RFC 9001 §4.6), whatever the
    // context's default.
    void set_early_data_enabled(bool enabled);
    // Client: resume with a blob from Handler::on_session_ticket. Returns false (and does a full
    // handshake) when the blob does not parse.
    bool set_resumption_session(ByteSpan session);
    // Whether a resumption blob allows 0-RTT.
    static bool session_allows_early_data(const TlsContext& ctx, ByteSpan session);

    // CRYPTO frame data received at `level`, in order (the connection reassembles).
    Status provide_data(EncryptionLevel level, ByteSpan data);
    // Advances the handshake (or processes post-handshake messages). Errors are CRYPTO_ERROR
    // (0x100 + TLS alert, RFC 9001 §4.8) with BoringSSL's reason.
    Status advance();

    bool handshake_complete() const;
    bool is_server() const;
    bool early_data_accepted() const;  // meaningful once the handshake is complete
    bool session_resumed() const;
    ByteSpan peer_transport_parameters() const;
    std::string alpn() const;
    std::string cipher_name() const;
    uint16_t cipher_suite() const;
    std::string server_name() const;  // the SNI the client sent (server) or asked for (client)

    SSL* native() const { return ssl_; }

    // Called once by TlsContext::create: callbacks that live on the SSL_CTX.
    static void install_context_callbacks(SSL_CTX* ctx);
    static void install_server_context_callbacks(SSL_CTX* ctx);

  private:
    TlsSession(const TlsContext& ctx, Handler& handler) : ctx_(ctx), handler_(handler) {}
    friend struct TlsSessionCallbacks;

    const TlsContext& ctx_;
    Handler& handler_;
    SSL* ssl_ = nullptr;
    int alert_ = -1;  // the fatal alert we sent, if any
};

}  // namespace quic
