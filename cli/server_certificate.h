// What the server commands (quiver server, quiver perf server) present: --cert/--key, or a
// self-signed certificate for this host, made in memory at start.
#pragma once

#include <string>

#include "quic/certificate.h"
#include "quic/result.h"

namespace quiver {

// Loads cert/key when given; else makes a self-signed ECDSA P-256 certificate for localhost,
// 127.0.0.1, ::1 and the host name, and prints its SHA-256 fingerprint on stderr after
// `who` ("quiver server") so that a client can pin it.
quic::Result<quic::CertifiedKey> server_certificate(const std::string& cert, const std::string& key,
                                                    const char* who);

// Raises the open-file limit to the hard limit (a server may hold many descriptors).
void raise_fd_limit();

}  // namespace quiver
