#include "crypto/initial_secrets.h"

#include <openssl/mem.h>

#include "crypto/hkdf.h"

namespace quic {

ByteSpan initial_salt(Version version) {
    return version == kVersion2 ? ByteSpan(kInitialSaltV2) : ByteSpan(kInitialSaltV1);
}

InitialSecrets derive_initial_secrets(Version version, const ConnectionId& client_dcid) {
    const EVP_MD* md = cipher_suite_hash(kInitialCipherSuite);
    const size_t len = secret_length(kInitialCipherSuite);
    Bytes initial_secret = hkdf_extract(md, initial_salt(version), client_dcid.bytes());
    InitialSecrets s{hkdf_expand_label(md, initial_secret, "client in", len),
                     hkdf_expand_label(md, initial_secret, "server in", len)};
    OPENSSL_cleanse(initial_secret.data(), initial_secret.size());
    return s;
}

InitialKeys make_initial_keys(Version version, const ConnectionId& client_dcid) {
    InitialSecrets s = derive_initial_secrets(version, client_dcid);
    InitialKeys keys{make_keys(kInitialCipherSuite, s.client, version),
                     make_keys(kInitialCipherSuite, s.server, version)};
    OPENSSL_cleanse(s.client.data(), s.client.size());
    OPENSSL_cleanse(s.server.data(), s.server.size());
    return keys;
}

}  // namespace quic
