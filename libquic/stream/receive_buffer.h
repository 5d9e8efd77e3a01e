// Reassembly of one stream's received data (RFC 9000 §2.2), or of a CRYPTO stream at one
// encryption level (§19.6, §7.5): frames arrive out of order, overlapping and duplicated; the
// application reads an ordered byte stream.
//
// Storage is one deque of bytes covering [read_offset, highest received offset), holes
// included. In-order data (the common case) is appended with one copy and read out with one
// copy; a read frees the front blocks. Holes cost memory up to the highest offset received,
// which flow control bounds for streams (the connection window bounds the sum over all
// streams, §4.1) and max_buffered_beyond_read bounds for CRYPTO streams. Which ranges are
// present is an IntervalSet whose size is capped by kMaxReassemblyFragments.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <optional>

#include "quic/bytes.h"
#include "quic/error.h"
#include "quic/result.h"
#include "util/interval_set.h"

namespace quic {

class ReceiveBuffer {
  public:
    static constexpr uint64_t kUnlimited = std::numeric_limits<uint64_t>::max();

    // What insert() did with a frame that was not an error.
    enum class InsertOutcome : uint8_t {
        kAccepted,   // new bytes (or a new final size) were recorded
        kDuplicate,  // everything was already received (or read): nothing changed
        // Dropped because it would open more than kMaxReassemblyFragments gaps; nothing
        // changed. The connection must trace the drop and must not acknowledge the packet
        // carrying it, so the peer sends the data again; otherwise the stream would stall.
        kDroppedTooFragmented,
    };

    // A stream: flow control bounds the buffered data, so no further cap.
    ReceiveBuffer() = default;
    // max_buffered_beyond_read: data ending past read_offset() + this fails with
    // over_limit_error. For a CRYPTO stream: kMaxCryptoBufferBeyondRead and
    // kCryptoBufferExceeded (§7.5); see for_crypto().
    ReceiveBuffer(uint64_t max_buffered_beyond_read, TransportErrorCode over_limit_error)
        : max_beyond_read_(max_buffered_beyond_read), over_limit_error_(over_limit_error) {}
    static ReceiveBuffer for_crypto();

    // Records [offset, offset + data.size()), and the final size offset + data.size() when
    // fin. Errors (the connection closes with them):
    //  - FINAL_SIZE_ERROR (§4.5): data past a known final size; a FIN with a different final
    //    size; a final size below data already received.
    //  - FRAME_ENCODING_ERROR (§19.8, §19.6): the end is past 2^62-1.
    //  - the over-limit error (CRYPTO_BUFFER_EXCEEDED for CRYPTO, §7.5) past the buffer cap.
    // Overlaps and duplicates are accepted; re-sent bytes are assumed identical and not
    // compared (§2.2 makes the check optional).
    // `may_add_fragment` false: data that would open a new gap is dropped as at the cap (the
    // connection-wide cap, kMaxReassemblyFragmentsPerConnection, is reached).
    Result<InsertOutcome> insert(uint64_t offset, ByteSpan data, bool fin,
                                 bool may_add_fragment = true);

    // Copies in-order bytes into out; returns how many (0 when none are readable).
    size_t read(MutableByteSpan out);
    // In-order bytes available to read().
    uint64_t readable_bytes() const;

    // Everything up to the final size has been read (§3.2 "Data Read").
    bool is_finished() const { return final_size_ && read_offset_ == *final_size_; }
    // Everything up to the final size has been received, read or not (§3.2 "Data Recvd").
    bool all_received() const;
    std::optional<uint64_t> final_size() const { return final_size_; }
    // One past the highest byte received: what this stream counts against flow control.
    uint64_t highest_offset_received() const { return highest_received_; }
    uint64_t read_offset() const { return read_offset_; }
    // Bytes held in memory, holes included.
    size_t buffered_bytes() const { return buf_ ? buf_->size() : 0; }
    // Disjoint received ranges above the read offset (capped by kMaxReassemblyFragments).
    size_t fragment_count() const { return received_.size(); }

    // Stop keeping data (STOP_SENDING sent, §3.5, or the stream was reset): memory is freed
    // and later inserts only check the final size and count the offset for flow control.
    void discard();
    bool discarding() const { return discarding_; }

  private:
    // Whether [start, end) neither overlaps nor touches any received range.
    bool would_add_fragment(uint64_t start, uint64_t end) const;

    uint64_t max_beyond_read_ = kUnlimited;
    TransportErrorCode over_limit_error_ = TransportErrorCode::kCryptoBufferExceeded;

    // (*buf_)[i] is the byte at read_offset_ + i; bytes in holes are zero until received.
    // Created by the first insert and freed by discard(): a deque allocates even when empty,
    // and a connection holds many buffers that never see a byte (a server's 1-RTT CRYPTO, the
    // spaces discarded after the handshake, quiet streams).
    std::optional<std::deque<uint8_t>> buf_;
    uint64_t read_offset_ = 0;
    // Received ranges at or above read_offset_ (lower ones are erased as they are read).
    IntervalSet received_;
    uint64_t highest_received_ = 0;
    std::optional<uint64_t> final_size_;
    bool discarding_ = false;
};

}  // namespace quic
