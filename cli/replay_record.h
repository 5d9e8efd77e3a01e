// quiver client --record FILE: the client's actions written as a qlog (docs/replay.md,
// "Recording"): one JSON-SEQ trace by the qlog writer of --qlog-dir (qlog/writer.h), with the
// drafts' events where they fit (quic:version_information, quic:alpn_information and
// quic:parameters_set as the core reports them, http3:frame_created for each HEADERS and DATA
// frame sent, http3:frame_parsed for each response's HEADERS, quic:stream_state_updated for
// streams opened, FINs and resets) and quiver's own namespace where none does
// (quiver:connection_parameters, quiver:stop_sending). `quiver replay FILE` performs it again
// (cli/replay_recording.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "qlog/writer.h"
#include "quic/bytes.h"
#include "quic/connection_info.h"
#include "quic/http3/field.h"
#include "quic/time.h"
#include "quic/tracer.h"
#include "quic/version.h"
#include "replay_recording.h"

namespace quiver::replay {

// What the client offers before the handshake.
struct RecordedOffer {
    std::string sni;
    std::vector<std::string> alpn;
    std::vector<quic::Version> versions;
};

class Recorder {
  public:
    // Opens `path` for writing (the qlog header goes first). max_body: request body bytes kept
    // per request; beyond, a DATA frame's record has the real payload_length, fewer bytes in
    // raw.data, and says so (a replay sends 'x' for the bytes left out). nullptr with `error`
    // set when the file cannot be written.
    static std::unique_ptr<Recorder> open(const std::string& path, uint64_t max_body,
                                          std::string title, std::string& error);
    Recorder(const Recorder&) = delete;
    Recorder& operator=(const Recorder&) = delete;

    void offer(RecordedOffer offer) { offer_ = std::move(offer); }
    // The connection's tracer: `inner` (the --qlog-dir one, or null) gets every event; the
    // version, ALPN and transport parameter events also go to the recording.
    std::shared_ptr<quic::trace::Tracer> tracer(std::shared_ptr<quic::trace::Tracer> inner);

    // The connection is ready: actions' times count from here (quiver:connection_parameters).
    void start(quic::Time now, const quic::ConnectionInfo& info);
    void headers(uint64_t stream_id, quic::Time now, const std::vector<quic::h3::Field>& fields,
                 bool fin);
    void data(uint64_t stream_id, quic::Time now, quic::ByteSpan bytes, bool fin);
    void reset_stream(uint64_t stream_id, quic::Time now, uint64_t code);
    void stop_sending(uint64_t stream_id, quic::Time now, uint64_t code);
    // A QUIC DATAGRAM sent (RFC 9221) as quic:datagram_data_moved; `quiver client` sends none.
    void datagram(quic::Time now, quic::ByteSpan bytes);
    // The response's header section: a replay expects the same status.
    void response(uint64_t stream_id, quic::Time now, unsigned status,
                  const std::vector<quic::h3::Field>& fields);

  private:
    Recorder(std::shared_ptr<qlog::QlogTracer> out, uint64_t max_body, std::string title)
        : out_(std::move(out)), max_body_(max_body), title_(std::move(title)) {}
    void stream_state(uint64_t stream_id, quic::Time now, std::string_view state,
                      const uint64_t* code);
    void fin(uint64_t stream_id, quic::Time now);

    std::shared_ptr<qlog::QlogTracer> out_;
    uint64_t max_body_;
    std::string title_;
    RecordedOffer offer_;
    std::vector<std::pair<uint64_t, uint64_t>> recorded_;  // (stream, body bytes kept)
};

}  // namespace quiver::replay
