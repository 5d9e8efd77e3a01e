// Writes frames into the payload of a packet being built and records each in its SentPacket,
// so that an acknowledgement or a loss can be traced back to it (RFC 9000 §13.3).
#pragma once

#include <utility>

#include "quic/bytes.h"
#include "quic/frame.h"
#include "recovery/sent_packet.h"

namespace quic {

class FrameWriter {
  public:
    FrameWriter(ByteWriter& w, SentPacket& sent) : w_(w), sent_(sent) {}

    // Writes `f` when it fits in what is left, and records it; false (nothing written) if not.
    bool put(const Frame& f, SentFrame record) {
        if (encoded_size(f) > w_.remaining()) return false;
        encode_frame(w_, f);
        sent_.frames.push_back(std::move(record));
        return true;
    }

    // The record of a control frame: its type and up to two values (a stream ID, a sequence
    // number) that identify what to resend or mark acknowledged.
    static SentControlFrame control(FrameType t, uint64_t a = 0, uint64_t b = 0) {
        return SentControlFrame{to_underlying(t), a, b};
    }

    ByteWriter& bytes() { return w_; }
    SentPacket& sent() { return sent_; }

  private:
    ByteWriter& w_;
    SentPacket& sent_;
};

}  // namespace quic
