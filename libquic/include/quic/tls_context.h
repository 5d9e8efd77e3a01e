// The TLS 1.3 configuration shared by a process's connections (one BoringSSL SSL_CTX):
// role, ALPN, certificate, verification, early data, session tickets, key log (RFC 9001 §4).
#pragma once

#include <openssl/base.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "quic/certificate.h"
#include "quic/result.h"

namespace quic {

enum class CertificateVerification {
    kSystem,  // the system CA bundle (/etc/ssl/certs), and the host name
    kCaFile,  // the CAs in TlsConfig::ca_file, and the host name
    kNone,    // -k/--insecure: no verification at all
};

struct TlsConfig {
    bool is_server = false;
    std::vector<std::string> alpn;  // preference order; a server takes the client's first match
    // Server: the certificate chain and key (required).
    std::optional<CertifiedKey> certificate;
    // Client: how to verify the server.
    CertificateVerification verification = CertificateVerification::kSystem;
    std::string ca_file;
    // Offer (client) or accept (server) 0-RTT on resumption (RFC 9001 §4.6).
    bool enable_early_data = false;
    // NSS key log lines ("CLIENT_HANDSHAKE_TRAFFIC_SECRET <random> <secret>"), for SSLKEYLOGFILE.
    std::function<void(std::string_view line)> keylog;
};

class TlsContext {
  public:
    static Result<std::unique_ptr<TlsContext>> create(TlsConfig config);
    ~TlsContext();
    TlsContext(const TlsContext&) = delete;
    TlsContext& operator=(const TlsContext&) = delete;

    SSL_CTX* native() const { return ctx_; }
    const TlsConfig& config() const { return config_; }

  private:
    explicit TlsContext(TlsConfig config) : config_(std::move(config)) {}
    TlsConfig config_;
    SSL_CTX* ctx_ = nullptr;
};

}  // namespace quic
