// The sending and receiving state machines of a stream (RFC 9000 §3.1, §3.2, figures 2 and
// 3). §3 calls them "largely informative"; here they are the record of where each part is, so
// the connection can decide what it may send (§3.3) and when a stream is closed (§3.4).
//
// Transition functions return whether the event is legal in the current state; an illegal
// event changes nothing. On the sending side every event is a local action, so an illegal
// one is a connection bug. On the receiving side, §3.3 says any frame may arrive in any state
// (delayed packets), so the events never fail on state grounds: the STREAM_STATE_ERROR cases
// depend on the stream's type and existence and are checked by check_stream_frame_allowed()
// (stream_limits.h); the final-size checks of §4.5 return FINAL_SIZE_ERROR here.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "quic/result.h"

namespace quic {

// §3.1, figure 2.
enum class SendStreamState : uint8_t {
    kReady,
    kSend,
    kDataSent,
    kDataRecvd,
    kResetSent,
    kResetRecvd
};
// §3.2, figure 3.
enum class RecvStreamState : uint8_t {
    kRecv,
    kSizeKnown,
    kDataRecvd,
    kDataRead,
    kResetRecvd,
    kResetRead
};

// The RFC's names ("Ready", "Data Sent", ...), for traces.
std::string_view to_string(SendStreamState s);
std::string_view to_string(RecvStreamState s);

class SendStreamStateMachine {
  public:
    SendStreamState state() const { return state_; }

    // Sent a STREAM or STREAM_DATA_BLOCKED frame: Ready -> Send; stays in Send. Retransmitting
    // in Data Sent is also legal (and stays there).
    bool on_send_data();
    // Sent a STREAM frame with the FIN: Ready/Send -> Data Sent (through Send, §3 note). A FIN
    // retransmitted in Data Sent is legal and stays there.
    bool on_send_fin();
    // All data and the FIN acknowledged: Data Sent -> Data Recvd (terminal).
    bool on_all_data_acked();
    // Sent RESET_STREAM (application abort, or in answer to STOP_SENDING, §3.5):
    // Ready/Send/Data Sent -> Reset Sent. Also legal in Reset Sent (a resent RESET_STREAM).
    bool on_send_reset();
    // The packet carrying RESET_STREAM was acknowledged: Reset Sent -> Reset Recvd (terminal).
    bool on_reset_acked();

    // §3.3: no STREAM or STREAM_DATA_BLOCKED after RESET_STREAM or in a terminal state.
    bool can_send_data() const;
    // §3.3: no RESET_STREAM from a terminal state.
    bool can_send_reset() const;
    // §3.5: a STOP_SENDING received in Ready or Send MUST be answered with RESET_STREAM; in
    // Data Sent it MAY be deferred. We answer in all three (simplest, and the peer has said it
    // discards the data anyway).
    bool stop_sending_needs_reset() const {
        return can_send_reset() && state_ != SendStreamState::kResetSent;
    }
    // Data Recvd or Reset Recvd.
    bool is_terminal() const;
    // §3.1: MAX_STREAM_DATA only matters while we may still send new data.
    bool wants_max_stream_data() const {
        return state_ == SendStreamState::kReady || state_ == SendStreamState::kSend;
    }

  private:
    SendStreamState state_ = SendStreamState::kReady;
};

class RecvStreamStateMachine {
  public:
    RecvStreamState state() const { return state_; }

    // A STREAM frame with the FIN arrived (the final size is known): Recv -> Size Known. In
    // the other states it is a retransmission and changes nothing. Always legal.
    bool on_size_known();
    // All data up to the final size has been received: Size Known -> Data Recvd. Legal (no
    // change) in Data Recvd and Data Read; in Reset Recvd / Reset Read the data is ignored
    // (the optional "Recv All Data" transition of figure 3 is not taken: after a reset we
    // have discarded the data). Illegal in Recv: the final size is not known yet.
    bool on_all_data_received();
    // RESET_STREAM received with `final_size`. FINAL_SIZE_ERROR (§4.5) when it differs from a
    // known final size or is below the highest offset received. Recv/Size Known -> Reset Recvd.
    // In Data Recvd the reset is suppressed (§3.2 allows it: all data is buffered and will be
    // delivered). In the other states it is a duplicate and changes nothing.
    Status on_reset_stream_received(uint64_t final_size, std::optional<uint64_t> known_final_size,
                                    uint64_t highest_offset_received);
    // The application read all data: Data Recvd -> Data Read (terminal).
    bool on_app_read_all();
    // The application was told of the reset: Reset Recvd -> Reset Read (terminal).
    bool on_app_read_reset();

    // §3.3: "The receiver only sends MAX_STREAM_DATA frames in the Recv state."
    bool can_send_max_stream_data() const { return state_ == RecvStreamState::kRecv; }
    // §3.5: STOP_SENDING is useful only in Recv and Size Known.
    bool can_send_stop_sending() const {
        return state_ == RecvStreamState::kRecv || state_ == RecvStreamState::kSizeKnown;
    }
    // A reset was received (Reset Recvd or Reset Read).
    bool was_reset() const {
        return state_ == RecvStreamState::kResetRecvd || state_ == RecvStreamState::kResetRead;
    }
    // Data Read or Reset Read.
    bool is_terminal() const {
        return state_ == RecvStreamState::kDataRead || state_ == RecvStreamState::kResetRead;
    }

  private:
    RecvStreamState state_ = RecvStreamState::kRecv;
};

}  // namespace quic
