// The sending half of one stream's data (RFC 9000 §2.2, §3.1), or of a CRYPTO stream at one
// encryption level (§19.6): the application's bytes, what has been sent, acknowledged and lost.
//
// It knows nothing of frames or packets: the connection asks next_chunk() for the bytes to put
// in a STREAM/CRYPTO frame and reports on_sent/on_acked/on_lost for the ranges it carried.
// Lost ranges are resent before new data (they block the receiver's in-order delivery), and
// a lost range that another packet acknowledged meanwhile is not resent. Memory is freed as the
// acknowledged prefix grows: storage is a deque of fixed-size chunks.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "quic/bytes.h"
#include "quic/stream_source.h"

namespace quic {

struct SendChunk {
    uint64_t offset = 0;
    // The stored bytes, valid until the next mutation of the SendBuffer; empty when the bytes
    // come from a source (copy_out reads them).
    ByteSpan data;
    bool fin = false;
    size_t length = 0;  // bytes in the chunk: data.size(), or the run of the source
    bool from_source() const { return data.size() != length; }
};

class SendBuffer {
  public:
    static constexpr uint64_t kNoFlowLimit = std::numeric_limits<uint64_t>::max();

    // Appends application bytes. The caller bounds how much it accepts (e.g. by
    // buffered_bytes() and flow-control credit); writing after finish() is a caller bug and is
    // ignored.
    void write(ByteSpan data);
    // Marks the end of the stream: the final size is everything written so far (§4.5).
    void finish();
    // Appends `length` bytes that `source` supplies when they are sent (and again when they
    // are resent), then the FIN: nothing follows a source. The bytes are not held in memory.
    void write_source(uint64_t length, StreamSource source);
    // Copies the bytes [offset, offset + out.size()) of a chunk next_chunk returned into out:
    // stored bytes, or bytes read from the source. False when the source failed.
    bool copy_out(uint64_t offset, MutableByteSpan out) const;

    // The next bytes to send, at most max_len of them: lost ranges first (lowest offset
    // first), then new data, then a FIN alone (a zero-length chunk) when only the FIN is
    // pending. New data never goes past flow_limit, the smaller of the stream and connection
    // limits (§4.1); retransmissions are not limited by it, their credit is already counted.
    // A chunk never crosses a storage chunk boundary, so a caller wanting more asks again.
    // Returns nullopt when there is nothing to send. Does not change the state: call on_sent
    // with what was actually put in a frame (possibly a prefix of the chunk).
    std::optional<SendChunk> next_chunk(size_t max_len, uint64_t flow_limit = kNoFlowLimit) const;

    // A frame carrying [offset, offset+len) (and the FIN when fin) was sent. Returns how far
    // this moved the highest sent offset: the new bytes to count against flow control.
    uint64_t on_sent(uint64_t offset, uint64_t len, bool fin);
    void on_acked(uint64_t offset, uint64_t len, bool fin);
    // The packet carrying this range was declared lost: the parts not acknowledged since are
    // queued for retransmission.
    void on_lost(uint64_t offset, uint64_t len, bool fin);

    // Everything written, and the FIN, is acknowledged (§3.1 "Data Recvd").
    bool all_acked() const;
    // next_chunk() would return something (ignoring flow control for new data).
    bool has_pending() const;
    // Lost ranges (or a lost FIN) wait to be sent again; flow control does not hold them back.
    bool has_lost() const { return !lost_.empty() || (fin_lost_ && !fin_acked_); }
    // Bytes held in memory: written (not from a source) and not yet in the acknowledged prefix.
    uint64_t buffered_bytes() const { return stored_end() - std::min(acked_prefix_, stored_end()); }
    // Bytes sent and not yet in the acknowledged prefix.
    uint64_t bytes_unacked() const { return sent_offset_ - acked_prefix_; }
    // Bytes written and never sent.
    uint64_t unsent_bytes() const { return write_offset_ - sent_offset_; }

    uint64_t write_offset() const { return write_offset_; }  // total bytes written
    // One past the highest byte ever sent: the final size to put in a RESET_STREAM (§4.5).
    uint64_t sent_offset() const { return sent_offset_; }
    bool finished() const { return fin_; }
    std::optional<uint64_t> final_size() const {
        return fin_ ? std::optional<uint64_t>(write_offset_) : std::nullopt;
    }
    bool fin_sent() const { return fin_sent_; }

  private:
    using RangeMap = std::map<uint64_t, uint64_t>;  // start -> end, disjoint, not adjacent

    // The stored bytes [offset, offset + len) clipped to one chunk; offset must be in
    // [acked_prefix_, write_offset_).
    ByteSpan bytes_at(uint64_t offset, uint64_t len) const;
    // The run at offset that one frame may carry, at most len bytes: stored bytes up to their
    // chunk's end (and not into the source), or source bytes.
    SendChunk run_at(uint64_t offset, uint64_t len) const;
    // One past the last stored byte: where the source starts, if there is one.
    uint64_t stored_end() const { return source_ ? source_start_ : write_offset_; }
    void free_acked_chunks();
    bool fin_pending() const { return fin_ && !fin_acked_ && (!fin_sent_ || fin_lost_); }

    // chunks_[i] holds [base_offset_ + i * kSendBufferChunkSize, ...): every chunk but the
    // last is full, so finding an offset's chunk is a division. A vector, not a deque: an
    // empty one allocates nothing, and a connection holds many idle buffers (three crypto
    // streams, every quiet stream); it has at most max_stream_send_buffer / 16 KiB chunks,
    // so dropping the first moves a few pointers.
    std::vector<Bytes> chunks_;
    uint64_t base_offset_ = 0;
    // Bytes [source_start_, write_offset_) come from source_ (behind a pointer: most buffers
    // never have one, and a connection holds many idle buffers). Dropped once all is acked.
    std::unique_ptr<StreamSource> source_;
    uint64_t source_start_ = 0;

    uint64_t write_offset_ = 0;
    uint64_t sent_offset_ = 0;
    uint64_t acked_prefix_ = 0;
    // Acknowledged ranges above acked_prefix_ (acknowledged out of order).
    RangeMap acked_;
    // Sent, declared lost, not acknowledged since: to be resent.
    RangeMap lost_;

    bool fin_ = false;
    bool fin_sent_ = false;
    bool fin_acked_ = false;
    bool fin_lost_ = false;
};

}  // namespace quic
