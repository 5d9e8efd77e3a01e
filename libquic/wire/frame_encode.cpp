// Frame encoding, RFC 9000 §19 and RFC 9221 §4, with shortest varints (§16).
//
// One set of templated writers serves two sinks: ByteWriter, and SizeCounter, which only
// counts. encoded_size() therefore equals the bytes encode_frame() writes by construction.
#include "quic/frame.h"
#include "quic/overloaded.h"
#include "quic/varint.h"

namespace quic {

namespace {

// The subset of ByteWriter's interface the frame writers use, counting instead of writing.
class SizeCounter {
  public:
    bool ok() const { return ok_; }
    size_t size() const { return size_; }

    SizeCounter& write_u8(uint8_t) { return add(1); }
    SizeCounter& write_varint(uint64_t v) {
        if (varint_size(v) == 0) ok_ = false;  // above 2^62-1: not encodable
        return add(varint_size(v));
    }
    SizeCounter& write_bytes(ByteSpan bytes) { return add(bytes.size()); }
    SizeCounter& write_zeros(size_t n) { return add(n); }

  private:
    SizeCounter& add(size_t n) {
        size_ += n;
        return *this;
    }

    size_t size_ = 0;
    bool ok_ = true;
};

template <class W>
void write_body(W&, const PaddingFrame&) {}  // written whole by write_frame
template <class W>
void write_body(W&, const PingFrame&) {}
template <class W>
void write_body(W&, const HandshakeDoneFrame&) {}

// §19.3.1: Gap = previous smallest - largest - 2; ACK Range Length = largest - smallest.
template <class W>
void write_body(W& w, const AckFrame& f) {
    w.write_varint(f.largest_acknowledged).write_varint(f.ack_delay);
    if (f.ranges.empty()) {  // not encodable; keep encoded_size() well-defined
        w.write_varint(0).write_varint(0);
    } else {
        w.write_varint(f.ranges.size() - 1)
            .write_varint(f.largest_acknowledged - f.ranges[0].smallest);
        for (size_t i = 1; i < f.ranges.size(); ++i) {
            const AckRange& prev = f.ranges[i - 1];
            const AckRange& cur = f.ranges[i];
            w.write_varint(prev.smallest - cur.largest - 2)
                .write_varint(cur.largest - cur.smallest);
        }
    }
    if (f.ecn) w.write_varint(f.ecn->ect0).write_varint(f.ecn->ect1).write_varint(f.ecn->ce);
}

template <class W>
void write_body(W& w, const ResetStreamFrame& f) {
    w.write_varint(f.stream_id).write_varint(f.application_error_code).write_varint(f.final_size);
}

template <class W>
void write_body(W& w, const StopSendingFrame& f) {
    w.write_varint(f.stream_id).write_varint(f.application_error_code);
}

template <class W>
void write_body(W& w, const CryptoFrame& f) {
    w.write_varint(f.offset).write_varint(f.data.size()).write_bytes(f.data);
}

template <class W>
void write_body(W& w, const NewTokenFrame& f) {
    w.write_varint(f.token.size()).write_bytes(f.token);
}

// §19.8: the OFF and LEN bits in the type (frame_type_of) match the fields written here.
template <class W>
void write_body(W& w, const StreamFrame& f) {
    w.write_varint(f.stream_id);
    if (f.offset != 0) w.write_varint(f.offset);
    if (f.has_length) w.write_varint(f.data.size());
    w.write_bytes(f.data);
}

template <class W>
void write_body(W& w, const MaxDataFrame& f) {
    w.write_varint(f.maximum_data);
}

template <class W>
void write_body(W& w, const MaxStreamDataFrame& f) {
    w.write_varint(f.stream_id).write_varint(f.maximum_stream_data);
}

template <class W>
void write_body(W& w, const MaxStreamsFrame& f) {
    w.write_varint(f.maximum_streams);
}

template <class W>
void write_body(W& w, const DataBlockedFrame& f) {
    w.write_varint(f.maximum_data);
}

template <class W>
void write_body(W& w, const StreamDataBlockedFrame& f) {
    w.write_varint(f.stream_id).write_varint(f.maximum_stream_data);
}

template <class W>
void write_body(W& w, const StreamsBlockedFrame& f) {
    w.write_varint(f.maximum_streams);
}

template <class W>
void write_body(W& w, const NewConnectionIdFrame& f) {
    w.write_varint(f.sequence_number)
        .write_varint(f.retire_prior_to)
        .write_u8(static_cast<uint8_t>(f.connection_id.size()))
        .write_bytes(f.connection_id.bytes())
        .write_bytes(f.stateless_reset_token);
}

template <class W>
void write_body(W& w, const RetireConnectionIdFrame& f) {
    w.write_varint(f.sequence_number);
}

template <class W>
void write_body(W& w, const PathChallengeFrame& f) {
    w.write_bytes(f.data);
}

template <class W>
void write_body(W& w, const PathResponseFrame& f) {
    w.write_bytes(f.data);
}

template <class W>
void write_body(W& w, const ConnectionCloseFrame& f) {
    w.write_varint(f.error_code);
    if (!f.application) w.write_varint(f.frame_type);  // §19.19: transport variant only
    w.write_varint(f.reason.size()).write_bytes(f.reason);
}

template <class W>
void write_body(W& w, const DatagramFrame& f) {
    if (f.has_length) w.write_varint(f.data.size());
    w.write_bytes(f.data);
}

template <class W>
void write_frame(W& w, const Frame& f) {
    // §19.1: a PADDING run is `length` type bytes of 0x00 and nothing else.
    if (const auto* padding = std::get_if<PaddingFrame>(&f)) {
        w.write_zeros(padding->length);
        return;
    }
    w.write_varint(to_underlying(frame_type_of(f)));  // single byte for every known type
    std::visit([&w](const auto& frame) { write_body(w, frame); }, f);
}

// §19.3.1: what the parser would accept (no range below 0) and our own invariants.
bool ack_ranges_valid(const AckFrame& f) {
    if (f.ranges.empty() || f.ranges[0].largest != f.largest_acknowledged) return false;
    for (size_t i = 0; i < f.ranges.size(); ++i) {
        const AckRange& cur = f.ranges[i];
        if (cur.smallest > cur.largest) return false;
        if (i == 0) continue;
        const AckRange& prev = f.ranges[i - 1];
        // At least one unacknowledged packet between ranges: Gap >= 0.
        if (prev.smallest < 2 || cur.largest > prev.smallest - 2) return false;
    }
    return true;
}

// The checks parse_frame makes beyond varint sizes, mirrored so we never send what we
// would reject.
bool fields_valid(const Frame& f) {
    return std::visit(
        Overloaded{
            [](const AckFrame& a) { return ack_ranges_valid(a); },
            [](const CryptoFrame& c) { return c.data.size() <= kVarintMax - c.offset; },
            [](const StreamFrame& s) { return s.data.size() <= kVarintMax - s.offset; },
            [](const NewTokenFrame& t) { return !t.token.empty(); },  // §19.7
            [](const MaxStreamsFrame& m) { return m.maximum_streams <= kMaxStreamsLimit; },
            [](const StreamsBlockedFrame& s) { return s.maximum_streams <= kMaxStreamsLimit; },
            [](const NewConnectionIdFrame& n) {  // §19.15
                return !n.connection_id.empty() && n.retire_prior_to <= n.sequence_number;
            },
            [](const auto&) { return true; },
        },
        f);
}

void fail_writer(ByteWriter& w) {
    w.fail();
}

}  // namespace

bool is_encodable(const Frame& f) {
    SizeCounter counter;
    write_frame(counter, f);
    return counter.ok() && fields_valid(f);
}

size_t encoded_size(const Frame& f) {
    SizeCounter counter;
    write_frame(counter, f);
    return counter.size();
}

bool encode_frame(ByteWriter& w, const Frame& f) {
    // Check first so that a failure writes nothing, not half a frame.
    if (!is_encodable(f) || encoded_size(f) > w.remaining()) {
        fail_writer(w);
        return false;
    }
    write_frame(w, f);
    return w.ok();
}

size_t stream_frame_header_size(const StreamFrame& f, size_t data_length) {
    return 1 + varint_size(f.stream_id) + (f.offset ? varint_size(f.offset) : 0) +
           (f.has_length ? varint_size(data_length) : 0);
}

bool encode_stream_frame_header(ByteWriter& w, const StreamFrame& f, size_t data_length) {
    const bool valid = varint_size(f.stream_id) != 0 && f.offset <= kVarintMax &&
                       data_length <= kVarintMax - f.offset;
    if (!valid || stream_frame_header_size(f, data_length) + data_length > w.remaining()) {
        fail_writer(w);
        return false;
    }
    w.write_varint(to_underlying(frame_type_of(f)));
    w.write_varint(f.stream_id);
    if (f.offset != 0) w.write_varint(f.offset);
    if (f.has_length) w.write_varint(data_length);
    return w.ok();
}

}  // namespace quic
