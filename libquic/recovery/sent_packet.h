// What the loss detector remembers about each sent packet (RFC 9002 Appendix A.1.1), and
// what the connection must do when the packet is acknowledged or declared lost.
//
// This is the contract between recovery/ and conn/: the connection records one SentFrame
// per retransmittable piece of a packet when it builds the packet, hands the SentPacket to
// LossDetector::on_packet_sent, and gets it back in AckOutcome::acked or ::lost (or from
// discard_space). QUIC never retransmits packets, only information (RFC 9000 §13.3), so each
// record is the minimum needed to re-derive what to send again.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <variant>
#include <vector>

#include "cc/delivery_rate_sampler.h"
#include "quic/bytes.h"
#include "quic/time.h"

namespace quic {

// STREAM data [offset, offset+length), with FIN when fin (RFC 9000 §13.3: retransmitted in
// new STREAM frames unless the stream was reset; acked data can be freed).
struct SentStreamData {
    uint64_t stream_id = 0;
    uint64_t offset = 0;
    uint64_t length = 0;
    bool fin = false;
};

// CRYPTO data [offset, offset+length); the space is the packet's (RFC 9000 §13.3).
struct SentCryptoData {
    uint64_t offset = 0;
    uint64_t length = 0;
};

// An ACK frame with this Largest Acknowledged. When the packet carrying it is acked, the
// receiver can stop reporting packet numbers at or below it (RFC 9000 §13.2.4,
// ReceivedPacketTracker::on_ack_frame_acked). Nothing is retransmitted on loss.
struct SentAck {
    uint64_t largest_acknowledged = 0;
};

// A control frame whose current value the connection re-derives on loss (RFC 9000 §13.3:
// "sent with the most recent value", or not at all if no longer needed). frame_type is the
// wire type (wire/frame.h FrameType); a and b by type:
//   MAX_DATA, DATA_BLOCKED                       a = maximum data
//   MAX_STREAM_DATA, STREAM_DATA_BLOCKED         a = stream_id, b = maximum stream data
//   MAX_STREAMS, STREAMS_BLOCKED (bidi or uni)   a = maximum streams
//   RESET_STREAM                                 a = stream_id, b = application error code
//   STOP_SENDING                                 a = stream_id, b = application error code
//   NEW_CONNECTION_ID, RETIRE_CONNECTION_ID      a = sequence number
//   HANDSHAKE_DONE, PING                         (none; PING is never retransmitted)
struct SentControlFrame {
    uint64_t frame_type = 0;
    uint64_t a = 0;
    uint64_t b = 0;
};

// NEW_TOKEN (RFC 9000 §13.3: retransmitted on loss; the server keeps the token here).
struct SentNewToken {
    Bytes token;
};

// DATAGRAM (RFC 9221 §5.2: never retransmitted; the application may be told of acks and
// suspected losses).
struct SentDatagram {};

// PATH_CHALLENGE with its data (RFC 9000 §13.3 and §8.2: a new challenge with new data is
// sent instead of retransmitting this one; the record lets the path validator time out).
struct SentPathChallenge {
    std::array<uint8_t, 8> data{};
};

using SentFrame = std::variant<SentStreamData, SentCryptoData, SentAck, SentControlFrame,
                               SentNewToken, SentDatagram, SentPathChallenge>;

// RFC 9002 Appendix A.1.1. Per packet number space; the space is not stored.
struct SentPacket {
    uint64_t packet_number = 0;
    Time time_sent{};
    // Bytes of the QUIC packet, framing included, UDP/IP excluded (A.1.1).
    size_t sent_bytes = 0;
    // RFC 9002 §2: contains a frame other than ACK, PADDING and CONNECTION_CLOSE.
    bool ack_eliciting = false;
    // RFC 9002 §2: ack-eliciting, or contains PADDING (or PATH_*): counts in bytes_in_flight.
    bool in_flight = false;
    // A DPLPMTUD probe (RFC 9000 §14.4): its loss is not a congestion signal, so the
    // congestion controller and persistent congestion (RFC 9002 §7.6) ignore it.
    bool is_pmtu_probe = false;
    // Sent with the ECT(0) codepoint: an ACK must account for it in its ECN counts
    // (RFC 9000 §13.4.2).
    bool ect0 = false;
    // The congestion controller's delivery-rate stamp (cc/delivery_rate_sampler.h; BBR),
    // handed back to it when the packet is acknowledged or lost.
    DeliveryStamp delivery{};
    std::vector<SentFrame> frames;
};

}  // namespace quic
