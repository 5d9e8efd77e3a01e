// HKDF (RFC 5869) and TLS 1.3's HKDF-Expand-Label (RFC 8446 §7.1), the KDF QUIC uses for
// every packet protection key (RFC 9001 §5.1). BoringSSL does the hashing; this file only
// builds the HkdfLabel structure.
#pragma once

#include <openssl/base.h>

#include <cstddef>
#include <string_view>

#include "quic/bytes.h"

namespace quic {

// RFC 8446 §7.1: the label is "tls13 " + label inside an opaque<7..255>, so a label may be at
// most 255 - 6 bytes; the context is an opaque<0..255>.
inline constexpr size_t kMaxHkdfLabelLength = 255 - 6;
inline constexpr size_t kMaxHkdfContextLength = 255;

// HKDF-Extract(salt, IKM) (RFC 5869 §2.2): a pseudorandom key of the hash's output length.
// Returns an empty vector only if BoringSSL fails (it does not for the digests we use).
Bytes hkdf_extract(const EVP_MD* md, ByteSpan salt, ByteSpan ikm);

// HKDF-Expand-Label(secret, label, context, out.size()) (RFC 8446 §7.1) into `out`. Returns
// false (and leaves `out` unspecified) when the label or context is too long for the
// HkdfLabel encoding or out.size() exceeds what HKDF-Expand can produce (255 * hash length).
bool hkdf_expand_label_into(const EVP_MD* md, ByteSpan secret, std::string_view label,
                            ByteSpan context, MutableByteSpan out);

// As above, returning `length` bytes (empty on failure). QUIC always passes an empty context
// (RFC 9001 §5.1), hence the default.
Bytes hkdf_expand_label(const EVP_MD* md, ByteSpan secret, std::string_view label, size_t length,
                        ByteSpan context = {});

}  // namespace quic
