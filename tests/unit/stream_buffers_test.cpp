#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "quic/random.h"
#include "stream/limits.h"
#include "stream/receive_buffer.h"
#include "stream/send_buffer.h"
#include "util/interval_set.h"

using namespace quic;

namespace {

Bytes pattern(size_t n, uint8_t seed = 0) {
    Bytes b(n);
    for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed + i * 7 + (i >> 8));
    return b;
}

// Sends the next chunk of at most max_len bytes; returns what was sent.
SendChunk send(SendBuffer& sb, size_t max_len, uint64_t flow_limit = SendBuffer::kNoFlowLimit) {
    auto c = sb.next_chunk(max_len, flow_limit);
    REQUIRE(c.has_value());
    sb.on_sent(c->offset, c->data.size(), c->fin);
    return *c;
}

Bytes read_all(ReceiveBuffer& rb) {
    Bytes out(rb.readable_bytes());
    size_t n = rb.read(out);
    out.resize(n);
    return out;
}

ReceiveBuffer::InsertOutcome insert_ok(ReceiveBuffer& rb, uint64_t offset, ByteSpan data,
                                       bool fin = false) {
    auto r = rb.insert(offset, data, fin);
    REQUIRE(r.ok());
    return *r;
}

bool is_error(const Result<ReceiveBuffer::InsertOutcome>& r, TransportErrorCode code) {
    return !r.ok() && r.error().is_transport(code);
}

}  // namespace

TEST_CASE("SendBuffer: new data in order, then nothing") {
    SendBuffer sb;
    CHECK_FALSE(sb.has_pending());
    CHECK_FALSE(sb.next_chunk(100).has_value());
    Bytes data = pattern(250);
    sb.write(data);
    CHECK(sb.buffered_bytes() == 250);
    CHECK(sb.unsent_bytes() == 250);

    auto c1 = send(sb, 100);
    CHECK(c1.offset == 0);
    CHECK(c1.data.size() == 100);
    CHECK_FALSE(c1.fin);
    CHECK(std::equal(c1.data.begin(), c1.data.end(), data.begin()));
    auto c2 = sb.next_chunk(1000);
    REQUIRE(c2);
    CHECK(c2->offset == 100);
    CHECK(c2->data.size() == 150);
    CHECK(sb.on_sent(100, 150, false) == 150);
    CHECK_FALSE(sb.has_pending());
    CHECK(sb.bytes_unacked() == 250);
    CHECK(sb.sent_offset() == 250);
}

TEST_CASE("SendBuffer: flow limit bounds new data, not retransmissions") {
    SendBuffer sb;
    sb.write(pattern(300));
    send(sb, 1000, 200);
    CHECK(sb.sent_offset() == 200);
    CHECK_FALSE(sb.next_chunk(1000, 200).has_value());  // blocked
    sb.on_lost(0, 200, false);
    auto c = sb.next_chunk(1000, 200);
    REQUIRE(c);
    CHECK(c->offset == 0);
    CHECK(c->data.size() == 200);
    CHECK(sb.on_sent(0, 200, false) == 0);  // no new credit used
}

TEST_CASE("SendBuffer: lost ranges are retransmitted first, lowest first") {
    SendBuffer sb;
    sb.write(pattern(1000));
    for (int i = 0; i < 5; ++i) send(sb, 100);  // [0,500) sent
    sb.on_lost(300, 100, false);
    sb.on_lost(100, 100, false);
    auto c = send(sb, 1000);
    CHECK(c.offset == 100);
    CHECK(c.data.size() == 100);
    c = send(sb, 50);
    CHECK(c.offset == 300);
    CHECK(c.data.size() == 50);
    c = send(sb, 1000);
    CHECK(c.offset == 350);
    CHECK(c.data.size() == 50);
    c = send(sb, 1000);  // then new data
    CHECK(c.offset == 500);
    CHECK(c.data.size() == 500);
}

TEST_CASE("SendBuffer: lost ranges partly acknowledged are not resent") {
    SendBuffer sb;
    sb.write(pattern(1000));
    send(sb, 1000);
    SUBCASE("ack after loss") {
        sb.on_lost(0, 1000, false);
        sb.on_acked(200, 300, false);  // [200,500) arrived via another packet
        auto c = send(sb, 1000);
        CHECK(c.offset == 0);
        CHECK(c.data.size() == 200);
        c = send(sb, 1000);
        CHECK(c.offset == 500);
        CHECK(c.data.size() == 500);
        CHECK_FALSE(sb.has_pending());
    }
    SUBCASE("ack before loss") {
        sb.on_acked(0, 100, false);
        sb.on_acked(400, 100, false);
        sb.on_lost(0, 1000, false);  // the original packet declared lost late
        auto c = send(sb, 1000);
        CHECK(c.offset == 100);
        CHECK(c.data.size() == 300);
        c = send(sb, 1000);
        CHECK(c.offset == 500);
        CHECK(c.data.size() == 500);
    }
    SUBCASE("fully acknowledged before the retransmission") {
        sb.on_lost(0, 1000, false);
        sb.on_acked(0, 1000, false);
        CHECK_FALSE(sb.has_pending());
        CHECK(sb.bytes_unacked() == 0);
    }
}

TEST_CASE("SendBuffer: FIN with data, FIN alone, lost FIN") {
    SUBCASE("FIN on the last data chunk") {
        SendBuffer sb;
        sb.write(pattern(10));
        sb.finish();
        CHECK(sb.final_size() == 10u);
        auto c = send(sb, 100);
        CHECK(c.fin);
        CHECK(c.data.size() == 10);
        CHECK_FALSE(sb.has_pending());
        sb.on_acked(0, 10, true);
        CHECK(sb.all_acked());
    }
    SUBCASE("empty stream: a zero-length FIN") {
        SendBuffer sb;
        sb.finish();
        auto c = send(sb, 100);
        CHECK(c.offset == 0);
        CHECK(c.data.empty());
        CHECK(c.fin);
        CHECK_FALSE(sb.all_acked());
        sb.on_lost(0, 0, true);
        c = send(sb, 100);
        CHECK(c.fin);
        sb.on_acked(0, 0, true);
        CHECK(sb.all_acked());
        CHECK_FALSE(sb.has_pending());
    }
    SUBCASE("finish after the data was sent") {
        SendBuffer sb;
        sb.write(pattern(10));
        send(sb, 100);
        sb.finish();
        auto c = send(sb, 100);
        CHECK(c.offset == 10);
        CHECK(c.data.empty());
        CHECK(c.fin);
        sb.on_acked(10, 0, true);
        CHECK_FALSE(sb.all_acked());  // data not yet acked
        sb.on_acked(0, 10, false);
        CHECK(sb.all_acked());
    }
    SUBCASE("lost FIN with acked data resends the FIN alone") {
        SendBuffer sb;
        sb.write(pattern(10));
        sb.finish();
        send(sb, 100);
        sb.on_acked(0, 10, false);
        sb.on_lost(0, 10, true);
        auto c = send(sb, 100);
        CHECK(c.offset == 10);
        CHECK(c.data.empty());
        CHECK(c.fin);
    }
    SUBCASE("lost data and FIN come back together") {
        SendBuffer sb;
        sb.write(pattern(10));
        sb.finish();
        send(sb, 100);
        sb.on_lost(0, 10, true);
        auto c = send(sb, 100);
        CHECK(c.offset == 0);
        CHECK(c.data.size() == 10);
        CHECK(c.fin);
    }
}

TEST_CASE("SendBuffer: acknowledged prefix frees memory") {
    SendBuffer sb;
    const size_t total = 4 * kSendBufferChunkSize + 123;
    Bytes data = pattern(total);
    sb.write(data);
    CHECK(sb.buffered_bytes() == total);
    while (sb.has_pending()) send(sb, 1200);
    // Out-of-order acks do not free anything until the prefix is contiguous.
    sb.on_acked(kSendBufferChunkSize, kSendBufferChunkSize, false);
    CHECK(sb.buffered_bytes() == total);
    sb.on_acked(0, kSendBufferChunkSize, false);
    CHECK(sb.buffered_bytes() == total - 2 * kSendBufferChunkSize);
    // Retransmission still reads the right bytes after chunks were freed.
    sb.on_lost(3 * kSendBufferChunkSize - 5, 10, false);
    auto c = sb.next_chunk(100);
    REQUIRE(c);
    CHECK(c->offset == 3 * kSendBufferChunkSize - 5);
    CHECK(c->data.size() == 5);  // stops at the chunk boundary
    CHECK(std::equal(c->data.begin(), c->data.end(), data.begin() + c->offset));
    sb.on_acked(0, total, false);
    CHECK(sb.buffered_bytes() == 0);
    CHECK(sb.bytes_unacked() == 0);
    CHECK_FALSE(sb.has_pending());
}

// Everything acknowledged frees the last partial chunk too (an idle stream or a crypto stream
// after the handshake keeps no storage); later writes start a chunk where the data left off,
// and their offsets, retransmissions and chunk boundaries stay right.
TEST_CASE("SendBuffer: fully acknowledged, then written again") {
    SendBuffer sb;
    const size_t first = kSendBufferChunkSize + 700;  // a full chunk and a partial one
    Bytes data = pattern(first + 2 * kSendBufferChunkSize, 3);
    sb.write(ByteSpan(data).first(first));
    while (sb.has_pending()) send(sb, 1200);
    sb.on_acked(0, first, false);
    CHECK(sb.buffered_bytes() == 0);
    sb.write(ByteSpan(data).subspan(first));
    CHECK(sb.buffered_bytes() == 2 * kSendBufferChunkSize);
    auto c = send(sb, 1200);
    CHECK(c.offset == first);
    CHECK(std::equal(c.data.begin(), c.data.end(), data.begin() + first));
    while (sb.has_pending()) send(sb, 1200);
    // A chunk boundary now falls kSendBufferChunkSize after `first`, not at a multiple of it.
    sb.on_lost(first + kSendBufferChunkSize - 5, 10, false);
    auto r = sb.next_chunk(100);
    REQUIRE(r);
    CHECK(r->offset == first + kSendBufferChunkSize - 5);
    CHECK(r->data.size() == 5);
    CHECK(std::equal(r->data.begin(), r->data.end(), data.begin() + r->offset));
    sb.on_acked(first, kSendBufferChunkSize, false);
    CHECK(sb.buffered_bytes() == kSendBufferChunkSize);
    r = sb.next_chunk(100);
    REQUIRE(r);
    CHECK(r->offset == first + kSendBufferChunkSize);
    CHECK(std::equal(r->data.begin(), r->data.end(), data.begin() + r->offset));
    sb.on_acked(0, data.size(), false);
    CHECK(sb.buffered_bytes() == 0);
    CHECK_FALSE(sb.has_pending());
}

TEST_CASE("SendBuffer: many small writes coalesce") {
    SendBuffer sb;
    Bytes data = pattern(5000);
    for (size_t i = 0; i < data.size(); i += 7)
        sb.write(ByteSpan(data).subspan(i, std::min<size_t>(7, data.size() - i)));
    auto c = send(sb, 5000);
    CHECK(c.data.size() == 5000);
    CHECK(std::equal(c.data.begin(), c.data.end(), data.begin()));
}

TEST_CASE("SendBuffer + ReceiveBuffer: random loss, reordering and acks") {
    for (uint64_t seed = 1; seed <= 20; ++seed) {
        CAPTURE(seed);
        SeededRandom rng(seed);
        const size_t total = 20000 + rng.uniform(60000);
        Bytes data = pattern(total, static_cast<uint8_t>(seed));
        SendBuffer sb;
        ReceiveBuffer rb;
        Bytes received;

        struct InFlight {
            uint64_t offset, len;
            bool fin, delivered;
        };
        std::vector<InFlight> in_flight;
        IntervalSet acked;  // what the test has acknowledged
        size_t written = 0;
        int rounds = 0;
        while (!sb.all_acked()) {
            REQUIRE(++rounds < 100000);
            // The application writes in random pieces, and finishes at the end.
            if (written < total && rng.uniform(3) == 0) {
                size_t n = std::min<size_t>(total - written, 1 + rng.uniform(3000));
                sb.write(ByteSpan(data).subspan(written, n));
                written += n;
                if (written == total) sb.finish();
            }
            // Send a few chunks.
            for (int k = 0, n = static_cast<int>(rng.uniform(4)); k < n; ++k) {
                auto c = sb.next_chunk(1 + rng.uniform(1500));
                if (!c) break;
                // Bytes some packet already acknowledged are never sent again.
                if (!c->data.empty()) {
                    REQUIRE_FALSE(acked.contains(c->offset));
                    REQUIRE_FALSE(acked.contains(c->offset + c->data.size() - 1));
                }
                sb.on_sent(c->offset, c->data.size(), c->fin);
                // A quarter of the packets are lost; the others arrive now (the data span is
                // only valid until the next mutation), in send order, but are acknowledged
                // in random order below.
                bool delivered = rng.uniform(4) != 0;
                if (delivered) {
                    auto r = rb.insert(c->offset, c->data, c->fin);
                    REQUIRE(r.ok());
                    REQUIRE(*r != ReceiveBuffer::InsertOutcome::kDroppedTooFragmented);
                }
                in_flight.push_back({c->offset, c->data.size(), c->fin, delivered});
            }
            // Resolve a random in-flight packet: delivered ones are acked (sometimes also
            // spuriously declared lost first), undelivered ones are lost.
            if (!in_flight.empty() && rng.uniform(2) == 0) {
                size_t i = rng.uniform(in_flight.size());
                InFlight p = in_flight[i];
                in_flight.erase(in_flight.begin() + static_cast<long>(i));
                if (p.delivered) {
                    if (rng.uniform(5) == 0) sb.on_lost(p.offset, p.len, p.fin);  // spurious
                    sb.on_acked(p.offset, p.len, p.fin);
                    acked.insert(p.offset, p.offset + p.len);
                } else {
                    sb.on_lost(p.offset, p.len, p.fin);
                }
            }
            // The application reads sometimes.
            if (rng.uniform(2) == 0) {
                Bytes chunk = read_all(rb);
                received.insert(received.end(), chunk.begin(), chunk.end());
            }
        }
        Bytes rest = read_all(rb);
        received.insert(received.end(), rest.begin(), rest.end());
        CHECK(rb.is_finished());
        CHECK(rb.final_size() == total);
        CHECK(received == data);
        CHECK(sb.buffered_bytes() == 0);
    }
}

TEST_CASE("SendBuffer: a prefix then a source: chunks stop at the boundary, bytes come from it") {
    Bytes data = pattern(100'000);
    auto reads = std::make_shared<uint64_t>(0);
    auto alive = std::make_shared<int>(0);
    SendBuffer sb;
    sb.write(ByteSpan(data).first(3));  // e.g. an HTTP/3 DATA frame header
    sb.write_source(data.size() - 3, [&data, reads, alive](uint64_t offset, MutableByteSpan out) {
        std::copy_n(data.begin() + 3 + static_cast<std::ptrdiff_t>(offset), out.size(),
                    out.begin());
        *reads += out.size();
        return true;
    });
    CHECK(sb.finished());
    CHECK(sb.buffered_bytes() == 3);  // the source's bytes are not held
    CHECK(alive.use_count() == 2);

    auto c = sb.next_chunk(60'000);
    REQUIRE(c);
    CHECK(c->offset == 0);
    CHECK(c->length == 3);  // stored bytes stop where the source starts
    CHECK_FALSE(c->from_source());
    sb.on_sent(0, 3, false);
    c = sb.next_chunk(60'000);
    REQUIRE(c);
    CHECK(c->from_source());
    CHECK(c->length == 60'000);  // one run, not cut at storage chunks
    CHECK_FALSE(c->fin);
    Bytes out(c->length);
    REQUIRE(sb.copy_out(c->offset, out));
    CHECK(std::equal(out.begin(), out.end(), data.begin() + 3));
    sb.on_sent(c->offset, c->length, false);
    c = sb.next_chunk(60'000);
    REQUIRE(c);
    CHECK(c->length == data.size() - 60'003);
    CHECK(c->fin);
    sb.on_sent(c->offset, c->length, true);

    // A lost range across the boundary is resent in two runs: stored, then from the source.
    sb.on_lost(0, 60'003, false);
    c = sb.next_chunk(100'000);
    REQUIRE(c);
    CHECK(c->length == 3);
    sb.on_sent(0, 3, false);
    c = sb.next_chunk(100'000);
    REQUIRE(c);
    CHECK(c->offset == 3);
    CHECK(c->length == 60'000);
    out.assign(c->length, 0);
    const uint64_t before = *reads;
    REQUIRE(sb.copy_out(c->offset, out));
    CHECK(*reads == before + 60'000);  // read again
    CHECK(std::equal(out.begin(), out.end(), data.begin() + 3));
    sb.on_sent(c->offset, c->length, false);

    // Once everything and the FIN are acknowledged, the source is let go (a file closed).
    sb.on_acked(0, data.size(), true);
    CHECK(sb.all_acked());
    CHECK(alive.use_count() == 1);
}

TEST_CASE("SendBuffer: a source that fails says so, and one of length 0 is a lone FIN") {
    SendBuffer sb;
    sb.write_source(1000, [](uint64_t, MutableByteSpan) { return false; });
    auto c = sb.next_chunk(500);
    REQUIRE(c);
    Bytes out(c->length);
    CHECK_FALSE(sb.copy_out(c->offset, out));

    SendBuffer empty;
    empty.write_source(0, [](uint64_t, MutableByteSpan) { return false; });
    c = empty.next_chunk(500);
    REQUIRE(c);
    CHECK(c->length == 0);
    CHECK(c->fin);
}

TEST_CASE("ReceiveBuffer: in order, out of order, overlaps, duplicates") {
    Bytes data = pattern(100);
    ByteSpan d(data);
    ReceiveBuffer rb;
    CHECK(insert_ok(rb, 10, d.subspan(10, 10)) == ReceiveBuffer::InsertOutcome::kAccepted);
    CHECK(rb.readable_bytes() == 0);
    CHECK(rb.highest_offset_received() == 20);
    CHECK(rb.fragment_count() == 1);
    CHECK(insert_ok(rb, 30, d.subspan(30, 10)) == ReceiveBuffer::InsertOutcome::kAccepted);
    CHECK(rb.fragment_count() == 2);
    CHECK(insert_ok(rb, 12, d.subspan(12, 5)) == ReceiveBuffer::InsertOutcome::kDuplicate);
    CHECK(insert_ok(rb, 0, d.subspan(0, 15)) == ReceiveBuffer::InsertOutcome::kAccepted);
    CHECK(rb.readable_bytes() == 20);
    CHECK(rb.fragment_count() == 2);

    Bytes out(8);
    CHECK(rb.read(out) == 8);
    CHECK(out == Bytes(data.begin(), data.begin() + 8));
    CHECK(rb.read_offset() == 8);
    // Overlapping the read offset and both fragments, filling the gap.
    CHECK(insert_ok(rb, 5, d.subspan(5, 40)) == ReceiveBuffer::InsertOutcome::kAccepted);
    CHECK(rb.fragment_count() == 1);
    CHECK(insert_ok(rb, 0, d.subspan(0, 8)) == ReceiveBuffer::InsertOutcome::kDuplicate);
    CHECK(insert_ok(rb, 45, d.subspan(45, 55), true) == ReceiveBuffer::InsertOutcome::kAccepted);
    CHECK(rb.all_received());
    CHECK_FALSE(rb.is_finished());
    Bytes rest = read_all(rb);
    CHECK(rest == Bytes(data.begin() + 8, data.end()));
    CHECK(rb.is_finished());
    CHECK(rb.buffered_bytes() == 0);
    // A retransmission after everything was read is a duplicate.
    CHECK(insert_ok(rb, 90, d.subspan(90, 10), true) == ReceiveBuffer::InsertOutcome::kDuplicate);
}

TEST_CASE("ReceiveBuffer: FIN alone and zero-length frames") {
    ReceiveBuffer rb;
    Bytes data = pattern(10);
    CHECK(insert_ok(rb, 10, {}, true) == ReceiveBuffer::InsertOutcome::kAccepted);
    CHECK(rb.final_size() == 10u);
    CHECK(rb.highest_offset_received() == 10);
    CHECK_FALSE(rb.all_received());
    CHECK(insert_ok(rb, 3, {}) == ReceiveBuffer::InsertOutcome::kDuplicate);
    insert_ok(rb, 0, data);
    CHECK(read_all(rb) == data);
    CHECK(rb.is_finished());

    ReceiveBuffer empty;
    CHECK(insert_ok(empty, 0, {}, true) == ReceiveBuffer::InsertOutcome::kAccepted);
    CHECK(empty.is_finished());
}

TEST_CASE("ReceiveBuffer: FINAL_SIZE_ERROR cases of RFC 9000 §4.5") {
    Bytes data = pattern(100);
    ByteSpan d(data);
    ReceiveBuffer rb;
    insert_ok(rb, 0, d.subspan(0, 50), true);
    SUBCASE("data beyond the final size") {
        CHECK(
            is_error(rb.insert(40, d.subspan(40, 20), false), TransportErrorCode::kFinalSizeError));
        CHECK(
            is_error(rb.insert(50, d.subspan(50, 1), false), TransportErrorCode::kFinalSizeError));
    }
    SUBCASE("a different final size, larger or smaller") {
        CHECK(
            is_error(rb.insert(50, d.subspan(50, 10), true), TransportErrorCode::kFinalSizeError));
        CHECK(is_error(rb.insert(40, d.subspan(40, 5), true), TransportErrorCode::kFinalSizeError));
        CHECK(is_error(rb.insert(60, {}, true), TransportErrorCode::kFinalSizeError));
    }
    SUBCASE("the same final size again is fine") {
        CHECK(insert_ok(rb, 40, d.subspan(40, 10), true) ==
              ReceiveBuffer::InsertOutcome::kDuplicate);
    }
    SUBCASE("still checked after everything was read") {
        read_all(rb);
        CHECK(rb.is_finished());
        CHECK(
            is_error(rb.insert(50, d.subspan(50, 1), false), TransportErrorCode::kFinalSizeError));
    }
    SUBCASE("a final size below data already received") {
        ReceiveBuffer rb2;
        insert_ok(rb2, 60, d.subspan(60, 20));
        CHECK(is_error(rb2.insert(0, d.subspan(0, 70), true), TransportErrorCode::kFinalSizeError));
        CHECK(is_error(rb2.insert(79, {}, true), TransportErrorCode::kFinalSizeError));
        CHECK(insert_ok(rb2, 80, {}, true) == ReceiveBuffer::InsertOutcome::kAccepted);
    }
}

TEST_CASE("ReceiveBuffer: data past 2^62-1 is a FRAME_ENCODING_ERROR") {
    ReceiveBuffer rb;
    Bytes one(1);
    CHECK(
        is_error(rb.insert(kMaxStreamOffset, one, false), TransportErrorCode::kFrameEncodingError));
}

TEST_CASE("ReceiveBuffer: fragment cap drops new gaps without changing state") {
    ReceiveBuffer rb;
    Bytes one = {0xab};
    // Every other byte: each insert is a new fragment until the cap.
    for (size_t i = 0; i < kMaxReassemblyFragments; ++i)
        CHECK(insert_ok(rb, 2 * i + 1, one) == ReceiveBuffer::InsertOutcome::kAccepted);
    CHECK(rb.fragment_count() == kMaxReassemblyFragments);
    uint64_t highest = rb.highest_offset_received();
    uint64_t far = 2 * kMaxReassemblyFragments + 10;
    CHECK(insert_ok(rb, far, one, true) == ReceiveBuffer::InsertOutcome::kDroppedTooFragmented);
    CHECK(rb.highest_offset_received() == highest);
    CHECK_FALSE(rb.final_size().has_value());
    CHECK(rb.fragment_count() == kMaxReassemblyFragments);
    // Data that extends or merges existing fragments is still accepted at the cap.
    CHECK(insert_ok(rb, 2 * kMaxReassemblyFragments, one) ==
          ReceiveBuffer::InsertOutcome::kAccepted);
    CHECK(insert_ok(rb, 0, one) == ReceiveBuffer::InsertOutcome::kAccepted);
    CHECK(rb.readable_bytes() == 2);
    // Filling gaps makes room again.
    Bytes fill(2 * kMaxReassemblyFragments + 1, 0xab);
    insert_ok(rb, 0, fill);
    CHECK(rb.fragment_count() == 1);
    CHECK(insert_ok(rb, far, one, true) == ReceiveBuffer::InsertOutcome::kAccepted);
}

TEST_CASE(
    "ReceiveBuffer: at the fragment cap, data at the read offset is still accepted (it is "
    "readable at once; refusing it would stall the stream)") {
    ReceiveBuffer rb;
    Bytes one = {0xab};
    // Gaps from offset 1 on: [2,3), [4,5), ... so that [0,1) touches none of them.
    for (size_t i = 0; i < kMaxReassemblyFragments; ++i)
        CHECK(insert_ok(rb, 2 * i + 2, one) == ReceiveBuffer::InsertOutcome::kAccepted);
    CHECK(insert_ok(rb, 2 * kMaxReassemblyFragments + 10, one) ==
          ReceiveBuffer::InsertOutcome::kDroppedTooFragmented);
    CHECK(insert_ok(rb, 0, one) == ReceiveBuffer::InsertOutcome::kAccepted);
    CHECK(rb.readable_bytes() == 1);
    CHECK(read_all(rb).size() == 1);
}

TEST_CASE("ReceiveBuffer: without the connection's leave, a new gap is dropped") {
    ReceiveBuffer rb;
    Bytes one = {0xab};
    CHECK(rb.insert(5, one, false, false).value() ==
          ReceiveBuffer::InsertOutcome::kDroppedTooFragmented);
    CHECK(rb.highest_offset_received() == 0);
    // In-order data, and data extending a fragment, are still taken.
    CHECK(rb.insert(0, one, false, false).value() == ReceiveBuffer::InsertOutcome::kAccepted);
    CHECK(rb.insert(2, one, false, true).value() == ReceiveBuffer::InsertOutcome::kAccepted);
    CHECK(rb.insert(3, one, false, false).value() == ReceiveBuffer::InsertOutcome::kAccepted);
    CHECK(rb.fragment_count() == 2);
}

TEST_CASE("ReceiveBuffer: CRYPTO_BUFFER_EXCEEDED past the cap beyond the read offset") {
    ReceiveBuffer rb = ReceiveBuffer::for_crypto();
    Bytes one(1);
    CHECK(insert_ok(rb, kMaxCryptoBufferBeyondRead - 1, one) ==
          ReceiveBuffer::InsertOutcome::kAccepted);
    CHECK(is_error(rb.insert(kMaxCryptoBufferBeyondRead, one, false),
                   TransportErrorCode::kCryptoBufferExceeded));
    // Reading moves the window.
    Bytes first(1000, 1);
    insert_ok(rb, 0, first);
    CHECK(read_all(rb).size() == 1000);
    CHECK(insert_ok(rb, kMaxCryptoBufferBeyondRead + 999, one) ==
          ReceiveBuffer::InsertOutcome::kAccepted);
    CHECK(is_error(rb.insert(kMaxCryptoBufferBeyondRead + 1000, one, false),
                   TransportErrorCode::kCryptoBufferExceeded));

    ReceiveBuffer custom(10, TransportErrorCode::kFlowControlError);
    CHECK(is_error(custom.insert(5, Bytes(6), false), TransportErrorCode::kFlowControlError));
}

TEST_CASE("ReceiveBuffer: discard keeps final-size checks and flow-control accounting") {
    ReceiveBuffer rb;
    Bytes data = pattern(100);
    insert_ok(rb, 0, ByteSpan(data).subspan(0, 50));
    rb.discard();
    CHECK(rb.buffered_bytes() == 0);
    CHECK(rb.readable_bytes() == 0);
    CHECK(insert_ok(rb, 50, ByteSpan(data).subspan(50, 30), true) ==
          ReceiveBuffer::InsertOutcome::kAccepted);
    CHECK(rb.highest_offset_received() == 80);
    CHECK(rb.buffered_bytes() == 0);
    CHECK(is_error(rb.insert(80, ByteSpan(data).subspan(80, 5), false),
                   TransportErrorCode::kFinalSizeError));
}
