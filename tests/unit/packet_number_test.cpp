// Packet number length, truncation and recovery: RFC 9000 §17.1, Appendix A.2 and A.3.
#include <doctest/doctest.h>

#include <array>
#include <optional>

#include "quic/bytes.h"
#include "quic/random.h"
#include "wire/packet_number.h"

using namespace quic;

TEST_CASE("packet number length: RFC 9000 Appendix A.2 examples") {
    // "29,519 (0x734f) outstanding packet numbers ... 16 bits are required."
    CHECK(packet_number_length(0xac5c02, 0xabe8b3) == 2);
    // "sending a packet with a number of 0xace8fe uses the 24-bit encoding"
    CHECK(packet_number_length(0xace8fe, 0xabe8b3) == 3);
}

TEST_CASE("packet number length: boundaries") {
    // Nothing acknowledged: every number from 0 counts, so 0..126 fit one byte.
    CHECK(packet_number_length(0, std::nullopt) == 1);
    CHECK(packet_number_length(126, std::nullopt) == 1);
    // 128 outstanding numbers need a range of more than 256 (§17.1 "more than twice").
    CHECK(packet_number_length(127, std::nullopt) == 2);
    CHECK(packet_number_length(1000 + 127, 1000) == 1);
    CHECK(packet_number_length(1000 + 128, 1000) == 2);
    CHECK(packet_number_length(1000 + (1u << 15) - 1, 1000) == 2);
    CHECK(packet_number_length(1000 + (1u << 15), 1000) == 3);
    CHECK(packet_number_length(1000 + (1u << 23) - 1, 1000) == 3);
    CHECK(packet_number_length(1000 + (1u << 23), 1000) == 4);
    CHECK(packet_number_length(1000 + (uint64_t{1} << 31) - 1, 1000) == 4);
    // Beyond what 4 bytes can express safely: capped at 4.
    CHECK(packet_number_length(uint64_t{1} << 40, 0) == 4);
    CHECK(packet_number_length(kMaxPacketNumber, std::nullopt) == 4);
    CHECK(packet_number_length(kMaxPacketNumber, kMaxPacketNumber - 1) == 1);
    // A caller bug (sending at or below the acknowledged number) still yields a valid length.
    CHECK(packet_number_length(5, 10) == 1);
}

TEST_CASE("packet number truncation and writing") {
    CHECK(truncate_packet_number(0xa82f9b32, 2) == 0x9b32);
    CHECK(truncate_packet_number(0xa82f9b32, 1) == 0x32);
    CHECK(truncate_packet_number(0xa82f9b32, 3) == 0x2f9b32);
    CHECK(truncate_packet_number(0x1a82f9b32, 4) == 0xa82f9b32);

    std::array<uint8_t, 8> buf{};
    ByteWriter w(buf);
    CHECK(write_truncated_packet_number(w, 0xa82f9b32, 3));
    CHECK(w.size() == 3);
    CHECK(buf[0] == 0x2f);
    CHECK(buf[1] == 0x9b);
    CHECK(buf[2] == 0x32);
    CHECK_FALSE(write_truncated_packet_number(w, 1, 0));
    CHECK_FALSE(write_truncated_packet_number(w, 1, 5));
    CHECK(w.ok());  // rejected lengths write nothing
    CHECK(write_truncated_packet_number(w, 0x01020304, 4));
    CHECK_FALSE(write_truncated_packet_number(w, 0x01, 2));  // out of space
    CHECK_FALSE(w.ok());
}

TEST_CASE("packet number decoding: RFC 9000 Appendix A.3 example") {
    CHECK(decode_packet_number(0xa82f30ea, 0x9b32, 16) == 0xa82f9b32);
}

TEST_CASE("packet number decoding: no packet received yet") {
    CHECK(decode_packet_number(std::nullopt, 0, 8) == 0);
    CHECK(decode_packet_number(std::nullopt, 5, 8) == 5);
    CHECK(decode_packet_number(std::nullopt, 0x7f, 8) == 0x7f);
    // Full-width numbers sent before any acknowledgment (§17.1) decode as themselves.
    CHECK(decode_packet_number(std::nullopt, 0x1234, 16) == 0x1234);
    CHECK(decode_packet_number(std::nullopt, 0xdeadbeef, 32) == 0xdeadbeef);
}

TEST_CASE("packet number decoding: window edges and wraparound") {
    // Next expected 0x100: 0x00 in 8 bits is 0x100, not 0x000.
    CHECK(decode_packet_number(0xff, 0x00, 8) == 0x100);
    // Delayed packets just below the expected number.
    CHECK(decode_packet_number(0x100, 0xff, 8) == 0xff);
    CHECK(decode_packet_number(0x1fe, 0xff, 8) == 0x1ff);
    // expected = 0x101; window (0x101 - 0x80, 0x101 + 0x80].
    CHECK(decode_packet_number(0x100, 0x81, 8) == 0x181);  // = expected + hwin: still ahead
    CHECK(decode_packet_number(0x100, 0x82, 8) == 0x82);   // beyond: taken as old
    CHECK(decode_packet_number(0x100, 0x01, 8) == 0x101);
    // No underflow near zero: a candidate above the window has nothing below it to fall to.
    CHECK(decode_packet_number(0, 0xff, 8) == 0xff);
    CHECK(decode_packet_number(1, 0xf0, 8) == 0xf0);
}

TEST_CASE("packet number decoding: near 2^62") {
    // Appendix A.3's "candidate_pn < (1 << 62) - pn_win" check keeps results in range.
    CHECK(decode_packet_number(kMaxPacketNumber - 1, 0xff, 8) == kMaxPacketNumber);
    CHECK(decode_packet_number(kMaxPacketNumber - 1, 0x00, 8) == kMaxPacketNumber - 0xff);
    CHECK(decode_packet_number(kMaxPacketNumber - 1, 0xffffffff, 32) == kMaxPacketNumber);
    CHECK(decode_packet_number(kMaxPacketNumber - 0x80, 0x00, 8) == kMaxPacketNumber - 0xff);
    // After the last valid number the result can only be out of range; callers drop it.
    CHECK(decode_packet_number(kMaxPacketNumber, 0x05, 8) > kMaxPacketNumber);
}

TEST_CASE("packet number decoding: invalid widths do not shift out of range") {
    CHECK(decode_packet_number(100, 7, 0) == 7);
    CHECK(decode_packet_number(100, 7, 64) == 7);
}

TEST_CASE("packet number property: decode(encode(pn)) == pn for any receiver state") {
    SeededRandom rng(0x5eed);
    for (int i = 0; i < 20000; ++i) {
        // Mix small and huge spaces, and gaps from 1 to ~2^31.
        const uint64_t base_range = (i % 3 == 0) ? 1000 : (kMaxPacketNumber - (uint64_t{1} << 32));
        const bool acked = i % 5 != 0;
        const uint64_t largest_acked = acked ? rng.uniform(base_range) : 0;
        const int gap_bits = static_cast<int>(rng.uniform(31)) + 1;
        const uint64_t gap = rng.uniform(uint64_t{1} << gap_bits) + 1;
        const uint64_t pn = acked ? largest_acked + gap : gap - 1;
        REQUIRE(pn <= kMaxPacketNumber);
        const std::optional<uint64_t> la =
            acked ? std::optional<uint64_t>(largest_acked) : std::nullopt;
        const size_t len = packet_number_length(pn, la);
        const uint64_t truncated = truncate_packet_number(pn, len);
        // The receiver has processed at least the acknowledged packet and at most pn - 1.
        std::optional<uint64_t> largest_received;
        if (acked) {
            largest_received = largest_acked + rng.uniform(pn - largest_acked);
        } else if (pn > 0 && rng.uniform(2) == 0) {
            largest_received = rng.uniform(pn);
        }
        const uint64_t decoded = decode_packet_number(largest_received, truncated, 8 * len);
        INFO("i=" << i << " pn=" << pn << " largest_acked=" << largest_acked << " len=" << len);
        REQUIRE(decoded == pn);
    }
}
