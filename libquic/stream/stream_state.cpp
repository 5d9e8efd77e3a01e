#include "stream/stream_state.h"

#include <string>

namespace quic {

std::string_view to_string(SendStreamState s) {
    switch (s) {
        case SendStreamState::kReady:
            return "Ready";
        case SendStreamState::kSend:
            return "Send";
        case SendStreamState::kDataSent:
            return "Data Sent";
        case SendStreamState::kDataRecvd:
            return "Data Recvd";
        case SendStreamState::kResetSent:
            return "Reset Sent";
        case SendStreamState::kResetRecvd:
            return "Reset Recvd";
    }
    return "?";
}

std::string_view to_string(RecvStreamState s) {
    switch (s) {
        case RecvStreamState::kRecv:
            return "Recv";
        case RecvStreamState::kSizeKnown:
            return "Size Known";
        case RecvStreamState::kDataRecvd:
            return "Data Recvd";
        case RecvStreamState::kDataRead:
            return "Data Read";
        case RecvStreamState::kResetRecvd:
            return "Reset Recvd";
        case RecvStreamState::kResetRead:
            return "Reset Read";
    }
    return "?";
}

bool SendStreamStateMachine::on_send_data() {
    switch (state_) {
        case SendStreamState::kReady:
        case SendStreamState::kSend:
            state_ = SendStreamState::kSend;
            return true;
        case SendStreamState::kDataSent:  // §3.1: "only retransmits stream data as necessary"
            return true;
        default:
            return false;
    }
}

bool SendStreamStateMachine::on_send_fin() {
    switch (state_) {
        case SendStreamState::kReady:
        case SendStreamState::kSend:
            state_ = SendStreamState::kDataSent;
            return true;
        case SendStreamState::kDataSent:
            return true;
        default:
            return false;
    }
}

bool SendStreamStateMachine::on_all_data_acked() {
    if (state_ == SendStreamState::kDataSent) {
        state_ = SendStreamState::kDataRecvd;
        return true;
    }
    return state_ == SendStreamState::kDataRecvd;
}

bool SendStreamStateMachine::on_send_reset() {
    // §3.1: from Ready, Send or Data Sent (Ready covers "RESET_STREAM as the first frame").
    switch (state_) {
        case SendStreamState::kReady:
        case SendStreamState::kSend:
        case SendStreamState::kDataSent:
        case SendStreamState::kResetSent:
            state_ = SendStreamState::kResetSent;
            return true;
        default:
            return false;
    }
}

bool SendStreamStateMachine::on_reset_acked() {
    if (state_ == SendStreamState::kResetSent) {
        state_ = SendStreamState::kResetRecvd;
        return true;
    }
    return state_ == SendStreamState::kResetRecvd;
}

bool SendStreamStateMachine::can_send_data() const {
    return state_ == SendStreamState::kReady || state_ == SendStreamState::kSend ||
           state_ == SendStreamState::kDataSent;
}

bool SendStreamStateMachine::can_send_reset() const {
    return !is_terminal();
}

bool SendStreamStateMachine::is_terminal() const {
    return state_ == SendStreamState::kDataRecvd || state_ == SendStreamState::kResetRecvd;
}

bool RecvStreamStateMachine::on_size_known() {
    if (state_ == RecvStreamState::kRecv) state_ = RecvStreamState::kSizeKnown;
    return true;
}

bool RecvStreamStateMachine::on_all_data_received() {
    switch (state_) {
        case RecvStreamState::kRecv:
            return false;
        case RecvStreamState::kSizeKnown:
            state_ = RecvStreamState::kDataRecvd;
            return true;
        default:
            return true;
    }
}

Status RecvStreamStateMachine::on_reset_stream_received(uint64_t final_size,
                                                        std::optional<uint64_t> known_final_size,
                                                        uint64_t highest_offset_received) {
    // §4.5: "Once a final size for a stream is known, it cannot change", and data was never
    // sent at or past the final size. Checked in every state, even after the stream closed.
    if (known_final_size && *known_final_size != final_size)
        return Error::transport(TransportErrorCode::kFinalSizeError,
                                "RESET_STREAM final size " + std::to_string(final_size) +
                                    " differs from " + std::to_string(*known_final_size));
    if (final_size < highest_offset_received)
        return Error::transport(TransportErrorCode::kFinalSizeError,
                                "RESET_STREAM final size below data received");
    if (state_ == RecvStreamState::kRecv || state_ == RecvStreamState::kSizeKnown)
        state_ = RecvStreamState::kResetRecvd;
    return {};
}

bool RecvStreamStateMachine::on_app_read_all() {
    if (state_ == RecvStreamState::kDataRecvd) {
        state_ = RecvStreamState::kDataRead;
        return true;
    }
    return state_ == RecvStreamState::kDataRead;
}

bool RecvStreamStateMachine::on_app_read_reset() {
    if (state_ == RecvStreamState::kResetRecvd) {
        state_ = RecvStreamState::kResetRead;
        return true;
    }
    return state_ == RecvStreamState::kResetRead;
}

}  // namespace quic
