// StreamManager (conn/streams.*) driven directly: regressions found in review (issue 13).
#include <doctest/doctest.h>

#include "conn/streams.h"

using namespace quic;

namespace {

// Stream bytes StreamManager writes for `id` into one packet of `room` bytes.
uint64_t bytes_written(StreamManager& sm, StreamId id, size_t room = 1400) {
    Bytes buf(room);
    ByteWriter w(buf);
    SentPacket sent;
    FrameWriter out(w, sent);
    sm.write_stream_frames(out, false);
    uint64_t n = 0;
    for (const SentFrame& f : sent.frames)
        if (auto* d = std::get_if<SentStreamData>(&f); d && d->stream_id == id) n += d->length;
    return n;
}

}  // namespace

TEST_CASE("streams: the peer's transport parameters give its own bidi streams bidi_local credit") {
    // RFC 9000 §18.2: initial_max_stream_data_bidi_local limits the streams the sender of the
    // parameter opened; a stream the peer opened before its parameters were applied must take
    // that value when they are, not bidi_remote (which is for ours).
    ConnectionConfig config;
    PendingFrames pending;
    EventQueue events;
    const Time now{};
    GlitchBudget glitches(now);
    StreamManager sm(Role::kClient, config, pending, events, glitches, nullptr);
    const uint8_t x = 'x';
    REQUIRE(sm.on_stream_frame(now, StreamFrame{1, 0, ByteSpan(&x, 1), false, true}).ok());
    TransportParameters tp;
    tp.initial_max_data = 1 << 20;
    tp.initial_max_stream_data_bidi_local = 1000;  // the server's own streams: stream 1
    tp.initial_max_stream_data_bidi_remote = 10;   // ours
    tp.initial_max_streams_bidi = 10;
    sm.on_peer_transport_parameters(tp, true);
    const Bytes data(500, 'a');
    REQUIRE(sm.write(1, data, false, true).ok());
    CHECK(bytes_written(sm, 1) == 500);
    // And a stream of ours gets bidi_remote.
    auto ours = sm.open_stream(now, true);
    REQUIRE(ours.ok());
    REQUIRE(sm.write(*ours, data, false, true).ok());
    CHECK(bytes_written(sm, *ours) == 10);
}
