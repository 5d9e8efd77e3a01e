#include "crypto/hkdf.h"

#include <openssl/digest.h>
#include <openssl/hkdf.h>

#include <array>

namespace quic {

namespace {
constexpr std::string_view kTls13LabelPrefix = "tls13 ";
}  // namespace

Bytes hkdf_extract(const EVP_MD* md, ByteSpan salt, ByteSpan ikm) {
    Bytes prk(EVP_MAX_MD_SIZE);
    size_t prk_len = 0;
    // BoringSSL's HKDF_extract takes the IKM ("secret") before the salt.
    if (!HKDF_extract(prk.data(), &prk_len, md, ikm.data(), ikm.size(), salt.data(), salt.size()))
        return {};
    prk.resize(prk_len);
    return prk;
}

bool hkdf_expand_label_into(const EVP_MD* md, ByteSpan secret, std::string_view label,
                            ByteSpan context, MutableByteSpan out) {
    if (label.size() > kMaxHkdfLabelLength || context.size() > kMaxHkdfContextLength ||
        out.size() > 0xffff)
        return false;
    // RFC 8446 §7.1:
    //   struct {
    //       uint16 length = Length;
    //       opaque label<7..255> = "tls13 " + Label;
    //       opaque context<0..255> = Context;
    //   } HkdfLabel;
    // At most 2 + 1 + 255 + 1 + 255 bytes, so it is built on the stack.
    std::array<uint8_t, 2 + 1 + 255 + 1 + 255> info;
    ByteWriter w(info);
    w.write_u16(static_cast<uint16_t>(out.size()));
    w.write_u8(static_cast<uint8_t>(kTls13LabelPrefix.size() + label.size()));
    w.write_bytes(
        {reinterpret_cast<const uint8_t*>(kTls13LabelPrefix.data()), kTls13LabelPrefix.size()});
    w.write_bytes({reinterpret_cast<const uint8_t*>(label.data()), label.size()});
    w.write_u8(static_cast<uint8_t>(context.size()));
    w.write_bytes(context);
    if (!w.ok()) return false;
    return HKDF_expand(out.data(), out.size(), md, secret.data(), secret.size(), info.data(),
                       w.size()) == 1;
}

Bytes hkdf_expand_label(const EVP_MD* md, ByteSpan secret, std::string_view label, size_t length,
                        ByteSpan context) {
    Bytes out(length);
    if (!hkdf_expand_label_into(md, secret, label, context, out)) return {};
    return out;
}

}  // namespace quic
