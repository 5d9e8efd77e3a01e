// The TLS contexts the fuzzers that run a real client and server Endpoint in memory share
// (connection_fuzzer, handshake_fuzzer): as tests/sim/file_transfer.cpp make_sim_tls, a
// self-signed Ed25519 "server" offering hq-interop, and a client that verifies nothing. Made
// once per process: a key pair per input would cost more than the input.
#pragma once

#include <cstdlib>
#include <memory>

#include "quic/certificate.h"
#include "quic/tls_context.h"

namespace quic::fuzz {

struct Tls {
    std::shared_ptr<TlsContext> client, server;
};

inline const Tls& tls() {
    static const Tls t = [] {
        auto key = make_self_signed(KeyType::kEd25519, {"server"});
        if (!key) std::abort();
        TlsConfig server_config;
        server_config.is_server = true;
        server_config.alpn = {"hq-interop"};
        server_config.certificate = std::move(key).value();
        TlsConfig client_config;
        client_config.alpn = {"hq-interop"};
        client_config.verification = CertificateVerification::kNone;
        auto server = TlsContext::create(std::move(server_config));
        auto client = TlsContext::create(std::move(client_config));
        if (!server || !client) std::abort();
        return Tls{std::shared_ptr<TlsContext>(std::move(client).value()),
                   std::shared_ptr<TlsContext>(std::move(server).value())};
    }();
    return t;
}

}  // namespace quic::fuzz
