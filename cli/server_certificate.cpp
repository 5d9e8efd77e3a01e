#include "server_certificate.h"

#include <limits.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <vector>

namespace quiver {

quic::Result<quic::CertifiedKey> server_certificate(const std::string& cert, const std::string& key,
                                                    const char* who) {
    if (!cert.empty()) return quic::load_certified_key(cert, key);
    std::vector<std::string> names = {"localhost", "127.0.0.1", "::1"};
    char host[HOST_NAME_MAX + 1] = "";
    if (gethostname(host, sizeof host) == 0 && *host && std::string(host) != "localhost")
        names.push_back(host);
    auto ck = quic::make_self_signed(quic::KeyType::kEcdsaP256, names);
    if (ck.ok())
        std::fprintf(stderr, "%s: self-signed certificate, SHA-256 %s\n", who,
                     quic::certificate_fingerprint(*ck->chain[0]).c_str());
    return ck;
}

void raise_fd_limit() {
    rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &r);
    }
}

}  // namespace quiver
