#include <doctest/doctest.h>

#include <initializer_list>

#include "stream/stream_id.h"
#include "stream/stream_limits.h"
#include "stream/stream_state.h"

using namespace quic;

namespace {

using S = SendStreamState;
using R = RecvStreamState;

bool is_error(const Status& s, TransportErrorCode code) {
    return !s.ok() && s.error().is_transport(code);
}

}  // namespace

// --- §3.1, figure 2 ---------------------------------------------------------------------

TEST_CASE("SendStreamStateMachine: Ready -> Send -> Data Sent -> Data Recvd") {
    SendStreamStateMachine m;
    CHECK(m.state() == S::kReady);
    CHECK(m.can_send_data());
    CHECK(m.on_send_data());
    CHECK(m.state() == S::kSend);
    CHECK(m.on_send_data());
    CHECK(m.state() == S::kSend);
    CHECK(m.on_send_fin());
    CHECK(m.state() == S::kDataSent);
    CHECK(m.on_send_data());  // retransmission
    CHECK(m.state() == S::kDataSent);
    CHECK_FALSE(m.wants_max_stream_data());
    CHECK(m.on_all_data_acked());
    CHECK(m.state() == S::kDataRecvd);
    CHECK(m.is_terminal());
    CHECK_FALSE(m.can_send_data());
    CHECK_FALSE(m.can_send_reset());
    // Illegal from the terminal state.
    CHECK_FALSE(m.on_send_reset());
    CHECK_FALSE(m.on_send_fin());
    CHECK_FALSE(m.on_send_data());
    CHECK(m.state() == S::kDataRecvd);
}

TEST_CASE("SendStreamStateMachine: STREAM + FIN from Ready goes to Data Sent") {
    SendStreamStateMachine m;
    CHECK(m.on_send_fin());
    CHECK(m.state() == S::kDataSent);
}

TEST_CASE("SendStreamStateMachine: RESET_STREAM from Ready, Send and Data Sent") {
    for (int from = 0; from < 3; ++from) {
        CAPTURE(from);
        SendStreamStateMachine m;
        if (from >= 1) REQUIRE(m.on_send_data());
        if (from >= 2) REQUIRE(m.on_send_fin());
        CHECK(m.stop_sending_needs_reset());
        CHECK(m.on_send_reset());
        CHECK(m.state() == S::kResetSent);
        CHECK_FALSE(m.stop_sending_needs_reset());
        // §3.3: no STREAM or STREAM_DATA_BLOCKED after RESET_STREAM.
        CHECK_FALSE(m.can_send_data());
        CHECK_FALSE(m.on_send_data());
        CHECK_FALSE(m.on_send_fin());
        CHECK_FALSE(m.on_all_data_acked());
        CHECK(m.on_send_reset());  // resent after loss
        CHECK(m.on_reset_acked());
        CHECK(m.state() == S::kResetRecvd);
        CHECK(m.is_terminal());
        CHECK_FALSE(m.on_send_reset());
    }
}

TEST_CASE("SendStreamStateMachine: illegal events leave the state alone") {
    SendStreamStateMachine m;
    CHECK_FALSE(m.on_all_data_acked());  // nothing sent
    CHECK_FALSE(m.on_reset_acked());     // no reset sent
    CHECK(m.state() == S::kReady);
    REQUIRE(m.on_send_data());
    CHECK_FALSE(m.on_all_data_acked());  // no FIN yet
    CHECK(m.state() == S::kSend);
}

// --- §3.2, figure 3 ---------------------------------------------------------------------

TEST_CASE("RecvStreamStateMachine: Recv -> Size Known -> Data Recvd -> Data Read") {
    RecvStreamStateMachine m;
    CHECK(m.state() == R::kRecv);
    CHECK(m.can_send_max_stream_data());
    CHECK(m.can_send_stop_sending());
    CHECK_FALSE(m.on_all_data_received());  // illegal: the size is not known
    CHECK_FALSE(m.on_app_read_all());
    CHECK(m.state() == R::kRecv);
    CHECK(m.on_size_known());
    CHECK(m.state() == R::kSizeKnown);
    CHECK_FALSE(m.can_send_max_stream_data());
    CHECK(m.can_send_stop_sending());
    CHECK(m.on_size_known());  // a retransmitted FIN
    CHECK(m.state() == R::kSizeKnown);
    CHECK(m.on_all_data_received());
    CHECK(m.state() == R::kDataRecvd);
    CHECK_FALSE(m.can_send_stop_sending());
    CHECK_FALSE(m.on_app_read_reset());
    CHECK(m.on_app_read_all());
    CHECK(m.state() == R::kDataRead);
    CHECK(m.is_terminal());
    // Late frames in the terminal state change nothing.
    CHECK(m.on_size_known());
    CHECK(m.on_reset_stream_received(10, 10, 10).ok());
    CHECK(m.state() == R::kDataRead);
}

TEST_CASE("RecvStreamStateMachine: RESET_STREAM in Recv and Size Known") {
    for (bool size_known : {false, true}) {
        CAPTURE(size_known);
        RecvStreamStateMachine m;
        std::optional<uint64_t> known;
        if (size_known) {
            m.on_size_known();
            known = 100;
        }
        CHECK(m.on_reset_stream_received(100, known, 50).ok());
        CHECK(m.state() == R::kResetRecvd);
        CHECK(m.was_reset());
        CHECK_FALSE(m.can_send_stop_sending());
        CHECK(m.on_all_data_received());  // data arriving after the reset is ignored
        CHECK(m.state() == R::kResetRecvd);
        CHECK(m.on_reset_stream_received(100, known, 50).ok());  // duplicate
        CHECK_FALSE(m.on_app_read_all());
        CHECK(m.on_app_read_reset());
        CHECK(m.state() == R::kResetRead);
        CHECK(m.is_terminal());
    }
}

TEST_CASE("RecvStreamStateMachine: RESET_STREAM in Data Recvd is suppressed") {
    RecvStreamStateMachine m;
    m.on_size_known();
    m.on_all_data_received();
    CHECK(m.on_reset_stream_received(100, 100, 100).ok());
    CHECK(m.state() == R::kDataRecvd);
    CHECK(m.on_app_read_all());
}

TEST_CASE("RecvStreamStateMachine: RESET_STREAM final size checks (§4.5)") {
    RecvStreamStateMachine m;
    CHECK(is_error(m.on_reset_stream_received(99, std::nullopt, 100),
                   TransportErrorCode::kFinalSizeError));
    CHECK(is_error(m.on_reset_stream_received(101, 100, 100), TransportErrorCode::kFinalSizeError));
    CHECK(is_error(m.on_reset_stream_received(99, 100, 50), TransportErrorCode::kFinalSizeError));
    CHECK(m.state() == R::kRecv);
    CHECK(m.on_reset_stream_received(100, std::nullopt, 100).ok());
    CHECK(m.state() == R::kResetRecvd);
    // A later RESET_STREAM with another final size is still an error.
    CHECK(is_error(m.on_reset_stream_received(120, 100, 100), TransportErrorCode::kFinalSizeError));
}

TEST_CASE("Stream states have the RFC's names") {
    CHECK(to_string(S::kDataSent) == "Data Sent");
    CHECK(to_string(S::kResetRecvd) == "Reset Recvd");
    CHECK(to_string(R::kSizeKnown) == "Size Known");
    CHECK(to_string(R::kResetRead) == "Reset Read");
}

// --- §2.1 stream ids ---------------------------------------------------------------------

TEST_CASE("Stream ids: initiator and direction bits (§2.1, Table 1)") {
    using I = StreamInitiator;
    using D = StreamDirection;
    CHECK(make_stream_id(I::kClient, D::kBidirectional, 0) == 0);
    CHECK(make_stream_id(I::kServer, D::kBidirectional, 0) == 1);
    CHECK(make_stream_id(I::kClient, D::kUnidirectional, 0) == 2);
    CHECK(make_stream_id(I::kServer, D::kUnidirectional, 0) == 3);
    CHECK(make_stream_id(I::kClient, D::kBidirectional, 1) == 4);
    CHECK(make_stream_id(I::kServer, D::kUnidirectional, 5) == 23);
    CHECK(make_stream_id(I::kServer, D::kUnidirectional, kMaxStreamCount - 1) == kMaxStreamId);
    for (StreamId id : std::initializer_list<StreamId>{0, 1, 2, 3, 4, 23, kMaxStreamId}) {
        CAPTURE(id);
        CHECK(make_stream_id(stream_initiator(id), stream_direction(id), stream_index(id)) == id);
    }
    CHECK(stream_initiator(7) == I::kServer);
    CHECK(stream_direction(7) == D::kUnidirectional);
    CHECK(stream_index(7) == 1);
    CHECK(is_bidirectional(4));
    CHECK(is_unidirectional(6));
    // Which parts each endpoint has.
    CHECK(has_send_part(2, I::kClient));
    CHECK_FALSE(has_receive_part(2, I::kClient));
    CHECK(has_receive_part(2, I::kServer));
    CHECK_FALSE(has_send_part(2, I::kServer));
    CHECK(has_send_part(1, I::kClient));
    CHECK(has_receive_part(1, I::kClient));
    CHECK(peer_of(I::kClient) == I::kServer);
}

// --- §4.6 stream limits ------------------------------------------------------------------

TEST_CASE("LocalStreamLimits: ids per role, limit, STREAMS_BLOCKED once") {
    for (auto role : {StreamInitiator::kClient, StreamInitiator::kServer}) {
        CAPTURE(static_cast<int>(role));
        LocalStreamLimits bidi(role, StreamDirection::kBidirectional, 2);
        LocalStreamLimits uni(role, StreamDirection::kUnidirectional, 1);
        uint64_t bit = role == StreamInitiator::kServer ? 1 : 0;
        CHECK(bidi.open() == 0 + bit);
        CHECK(bidi.open() == 4 + bit);
        CHECK_FALSE(bidi.open().has_value());
        CHECK(uni.open() == 2 + bit);
        CHECK_FALSE(uni.can_open());
        CHECK(bidi.is_opened(4 + bit));
        CHECK_FALSE(bidi.is_opened(8 + bit));

        CHECK(bidi.blocked_at() == 2u);
        CHECK(bidi.should_send_streams_blocked() == 2u);
        CHECK_FALSE(bidi.should_send_streams_blocked().has_value());
        CHECK_FALSE(bidi.on_max_streams(1));  // decreases are ignored
        CHECK_FALSE(bidi.on_max_streams(2));
        CHECK(bidi.on_max_streams(3));
        CHECK(bidi.open() == 8 + bit);
        CHECK(bidi.should_send_streams_blocked() == 3u);
    }
}

TEST_CASE("LocalStreamLimits: max_streams is clamped to 2^60") {
    LocalStreamLimits l(StreamInitiator::kClient, StreamDirection::kUnidirectional, 0);
    CHECK(l.on_max_streams(kMaxStreamCount + 5));
    CHECK(l.max_streams() == kMaxStreamCount);
    CHECK_FALSE(l.on_max_streams(UINT64_MAX));
}

TEST_CASE("PeerStreamLimits: implicit opening of lower-numbered streams (§3.2)") {
    PeerStreamLimits l(StreamInitiator::kClient, StreamDirection::kBidirectional, 10);
    auto r = l.on_peer_stream(8);  // the third client bidi stream
    REQUIRE(r.ok());
    REQUIRE(r->has_value());
    CHECK(**r == StreamIdRange{0, 8});
    CHECK((*r)->count() == 3);
    r = l.on_peer_stream(4);  // already opened
    REQUIRE(r.ok());
    CHECK_FALSE(r->has_value());
    r = l.on_peer_stream(12);
    REQUIRE(r.ok());
    CHECK(**r == StreamIdRange{12, 12});
    CHECK(l.opened_count() == 4);
    CHECK(l.is_opened(12));
    CHECK_FALSE(l.is_opened(16));
    // A stream of another type is a caller bug, reported, not a crash.
    CHECK_FALSE(l.on_peer_stream(1).ok());
}

TEST_CASE("PeerStreamLimits: STREAM_LIMIT_ERROR past the limit") {
    PeerStreamLimits l(StreamInitiator::kServer, StreamDirection::kUnidirectional, 3);
    CHECK(l.on_peer_stream(
               make_stream_id(StreamInitiator::kServer, StreamDirection::kUnidirectional, 2))
              .ok());
    auto r = l.on_peer_stream(
        make_stream_id(StreamInitiator::kServer, StreamDirection::kUnidirectional, 3));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().is_transport(TransportErrorCode::kStreamLimitError));

    PeerStreamLimits none(StreamInitiator::kServer, StreamDirection::kBidirectional, 0);
    auto r0 = none.on_peer_stream(1);
    REQUIRE_FALSE(r0.ok());
    CHECK(r0.error().is_transport(TransportErrorCode::kStreamLimitError));
}

TEST_CASE("PeerStreamLimits: MAX_STREAMS only after streams fully close") {
    PeerStreamLimits l(StreamInitiator::kClient, StreamDirection::kBidirectional, 4);
    REQUIRE(l.on_peer_stream(12).ok());  // all four open
    CHECK_FALSE(l.should_send_max_streams().has_value());
    CHECK_FALSE(l.on_peer_stream(16).ok());
    l.on_stream_closed();
    CHECK_FALSE(l.should_send_max_streams().has_value());  // 1 < half the window
    l.on_stream_closed();
    CHECK(l.should_send_max_streams() == 6u);  // initial + closed
    CHECK_FALSE(l.should_send_max_streams().has_value());
    CHECK(l.max_streams() == 6);
    auto r = l.on_peer_stream(20);
    REQUIRE(r.ok());
    CHECK(**r == StreamIdRange{16, 20});
    CHECK_FALSE(l.on_peer_stream(24).ok());
    // Closing more than were opened is ignored.
    for (int i = 0; i < 10; ++i) l.on_stream_closed();
    CHECK(l.closed_count() == 6);
    CHECK(l.should_send_max_streams() == 10u);
}

TEST_CASE("PeerStreamLimits: a window of one stream is refreshed per close") {
    PeerStreamLimits l(StreamInitiator::kClient, StreamDirection::kUnidirectional, 1);
    REQUIRE(l.on_peer_stream(2).ok());
    l.on_stream_closed();
    CHECK(l.should_send_max_streams() == 2u);
}

TEST_CASE("PeerStreamLimits: 2^60 streams are a range, not a list") {
    PeerStreamLimits l(StreamInitiator::kServer, StreamDirection::kUnidirectional, UINT64_MAX);
    CHECK(l.max_streams() == kMaxStreamCount);
    auto r = l.on_peer_stream(kMaxStreamId);  // the last expressible server uni id
    REQUIRE(r.ok());
    CHECK((*r)->first == 3);
    CHECK((*r)->last == kMaxStreamId);
    CHECK((*r)->count() == kMaxStreamCount);
    l.on_stream_closed();
    CHECK_FALSE(l.should_send_max_streams().has_value());  // cannot go past 2^60
}

TEST_CASE("StreamLimits: both directions and both initiators") {
    StreamLimits limits(StreamInitiator::kServer, /*our_max_bidi=*/2, /*our_max_uni=*/1,
                        /*peer_max_bidi=*/1, /*peer_max_uni=*/1);
    CHECK(limits.local_limits(StreamDirection::kBidirectional).open() == 1u);
    CHECK(limits.local_limits(StreamDirection::kUnidirectional).open() == 3u);
    CHECK(limits.is_opened(1));
    CHECK_FALSE(limits.is_opened(5));
    CHECK_FALSE(limits.is_opened(0));
    REQUIRE(limits.peer_limits(StreamDirection::kBidirectional).on_peer_stream(4).ok());
    CHECK(limits.is_opened(0));
    CHECK(limits.is_opened(4));
    CHECK_FALSE(limits.peer_limits(StreamDirection::kUnidirectional).on_peer_stream(6).ok());
}

TEST_CASE("check_stream_frame_allowed: the STREAM_STATE_ERROR rules of §19") {
    using K = StreamFrameKind;
    const auto client = StreamInitiator::kClient;
    auto state_error = [](const Status& s) {
        return !s.ok() && s.error().is_transport(TransportErrorCode::kStreamStateError);
    };
    // Our (client) uni stream 2 is send-only: no STREAM / RESET_STREAM / STREAM_DATA_BLOCKED.
    CHECK(state_error(check_stream_frame_allowed(2, K::kStream, client, true)));
    CHECK(state_error(check_stream_frame_allowed(2, K::kResetStream, client, true)));
    CHECK(state_error(check_stream_frame_allowed(2, K::kStreamDataBlocked, client, true)));
    CHECK(check_stream_frame_allowed(2, K::kStopSending, client, true).ok());
    CHECK(check_stream_frame_allowed(2, K::kMaxStreamData, client, true).ok());
    // The server's uni stream 3 is receive-only: no STOP_SENDING / MAX_STREAM_DATA.
    CHECK(state_error(check_stream_frame_allowed(3, K::kStopSending, client, false)));
    CHECK(state_error(check_stream_frame_allowed(3, K::kMaxStreamData, client, false)));
    CHECK(check_stream_frame_allowed(3, K::kStream, client, false).ok());
    CHECK(check_stream_frame_allowed(3, K::kResetStream, client, false).ok());
    // Our bidi stream 0 not yet opened: every frame is an error.
    for (K k :
         {K::kStream, K::kResetStream, K::kStreamDataBlocked, K::kStopSending, K::kMaxStreamData}) {
        CAPTURE(static_cast<int>(k));
        CHECK(state_error(check_stream_frame_allowed(0, k, client, false)));
        CHECK(check_stream_frame_allowed(0, k, client, true).ok());
        // Peer bidi stream 1: allowed (its limit is checked by PeerStreamLimits).
        CHECK(check_stream_frame_allowed(1, k, client, false).ok());
    }
    // The error names the frame type (§19.19).
    auto s = check_stream_frame_allowed(2, K::kStream, client, true);
    CHECK(s.error().frame_type == 0x08);

    StreamLimits limits(client, 10, 10, 10, 10);
    CHECK(state_error(check_stream_frame_allowed(4, K::kMaxStreamData, limits)));
    REQUIRE(limits.local_limits(StreamDirection::kBidirectional).open());
    REQUIRE(limits.local_limits(StreamDirection::kBidirectional).open());
    CHECK(check_stream_frame_allowed(4, K::kMaxStreamData, limits).ok());
}
