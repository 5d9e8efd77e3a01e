// The qlog writer (docs/architecture.md, "qlog"): a quic::trace::Tracer that serialises the core's
// typed events as JSON-SEQ (RFC 7464; qlog main schema §11.2 "qlog to JSON Text Sequences"): each
// record is 0x1E, one JSON object, 0x0A, and the header record comes first. One file per
// connection, named <odcid hex>_<client|server>.sqlog.
//
// Two schemas:
//   kDraft   the IETF qlog drafts (main schema, QUIC and HTTP/3 events)
//            (file_schema urn:ietf:params:qlog:file:sequential,
//            event schema urn:ietf:params:qlog:events:quic-13, quic:* event names);
//   kQvis03  qlog 0.3 as qvis loads it (qlog_version "0.3", qlog_format "JSON-SEQ",
//            transport:/recovery:/security: event names).
// Three levels of detail (qlog/level.h); the commands default to kCore, the library to kFull.
//
// Times are milliseconds (float, microsecond resolution) since the connection's first event.
// Every value a peer controls is capped (qlog/limits.h). Records are built by a hand-written
// serializer (qlog/json_out.h) straight into the tracer's buffer, which goes to a Sink
// (qlog/trace_writer.h) when it reaches kWriteBufferBytes, at connection close and at
// destruction: to the process's writer thread for the commands, or written on the spot. A
// buffer the writer thread refuses (its queue is full: the disk is behind) is dropped and
// the next record says how many events were lost. The writer never throws: an I/O error (or
// any other failure) stops tracing for that connection, and the connection carries on.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "qlog/json_out.h"
#include "qlog/level.h"
#include "qlog/trace_writer.h"
#include "quic/tracer.h"
#include "quic/transport_parameters.h"

namespace qlog {

enum class Schema : uint8_t { kDraft, kQvis03 };

// "draft" or "qvis" (the names --qlog-schema takes); nullopt for anything else.
std::optional<Schema> parse_schema(std::string_view name);

// The event schema URI of the quic events draft this writer implements (quic events draft
// §2.1: drafts append "-<number>").
inline constexpr std::string_view kDraftQuicEventSchema = "urn:ietf:params:qlog:events:quic-13";
inline constexpr std::string_view kDraftHttp3EventSchema = "urn:ietf:params:qlog:events:http3-13";
inline constexpr std::string_view kDraftFileSchema = "urn:ietf:params:qlog:file:sequential";
inline constexpr std::string_view kDraftSerializationFormat = "application/qlog+json-seq";

// "<odcid hex>_client.sqlog" / "<odcid hex>_server.sqlog" ("unknown" for an empty ODCID).
std::string trace_file_name(quic::Role role, const quic::ConnectionId& odcid);

class QlogTracer final : public quic::trace::Tracer {
  public:
    // Opens (truncates) `path` and writes to it on the calling thread. When it cannot be
    // opened, the tracer is inert: ok() is false and every event is ignored.
    QlogTracer(const std::filesystem::path& path, quic::Role role, const quic::ConnectionId& odcid,
               Schema schema = Schema::kDraft, Level level = Level::kFull);
    // Writes through `sink` (a TraceWriter's, or a direct one); inert when it is null.
    QlogTracer(std::shared_ptr<Sink> sink, quic::Role role, const quic::ConnectionId& odcid,
               Schema schema, Level level);
    ~QlogTracer() override;  // hands over what is buffered and closes the file
    QlogTracer(const QlogTracer&) = delete;
    QlogTracer& operator=(const QlogTracer&) = delete;

    // False once the file could not be opened or written: tracing has stopped.
    bool ok() const { return active_; }
    // Hands the buffered records to the sink (and the header, when no event came yet).
    void flush();
    // Bytes of records made so far, buffered ones included (dropped ones too).
    uint64_t bytes_written() const { return total_bytes_; }
    // Events lost because the writer thread's queue was full.
    uint64_t events_dropped() const;

    // For writers of other event namespaces (quiver client --record, docs/replay.md): an
    // event schema URI the header lists after quic's and http3's (main schema §8.2); only
    // before the first event.
    void add_event_schema(std::string uri);
    // The header's trace title instead of "quiver <vantage> <odcid>"; only before the first
    // event.
    void set_trace_title(std::string title);
    // An event of any name (draft schema: "namespace:type"), whose `data` object `fill`
    // writes with the writer's serializer (fill gets the JsonOut inside the open object). The
    // same header, times, buffering, caps and failure handling as the typed events.
    void event(quic::Time t, std::string_view name, const std::function<void(JsonOut&)>& fill);

    void connection_started(quic::Time, const quic::Path&, quic::Version, const quic::ConnectionId&,
                            const quic::ConnectionId&) override;
    void connection_state_updated(quic::Time, quic::ConnectionState,
                                  quic::ConnectionState) override;
    void connection_closed(quic::Time, const quic::ConnectionClosed&) override;
    void version_information(quic::Time, std::span<const quic::Version>,
                             std::span<const quic::Version>, quic::Version) override;
    void alpn_information(quic::Time, std::string_view) override;
    void parameters_set(quic::Time, bool, const quic::TransportParameters&) override;

    void packet_sent(quic::Time, const quic::trace::PacketHeaderInfo&,
                     std::span<const quic::Frame>) override;
    void packet_received(quic::Time, const quic::trace::PacketHeaderInfo&,
                         std::span<const quic::Frame>) override;
    void packet_dropped(quic::Time, quic::PacketType, size_t, quic::trace::DropReason) override;
    void packet_buffered(quic::Time, quic::PacketType, size_t) override;
    void version_negotiation_received(quic::Time, std::span<const quic::Version>) override;
    void retry_received(quic::Time, const quic::ConnectionId&, size_t) override;

    void metrics_updated(quic::Time, const quic::trace::RecoveryMetrics&) override;
    void congestion_state_updated(quic::Time, std::string_view, std::string_view) override;
    void packet_lost(quic::Time, quic::PacketType, uint64_t, quic::trace::LossTrigger) override;
    void timer_updated(quic::Time, quic::trace::TimerKind, std::optional<quic::Time>) override;
    void mtu_updated(quic::Time, size_t, size_t, bool) override;

    void key_updated(quic::Time, quic::trace::KeyKind, uint64_t, quic::trace::KeyTrigger) override;
    void key_discarded(quic::Time, quic::trace::KeyKind, uint64_t) override;

    void stream_state_updated(quic::Time, uint64_t, std::string_view) override;
    void datagram_received(quic::Time, size_t) override;
    void http3_frame_created(quic::Time, uint64_t, const quic::trace::Http3Frame&) override;
    void http3_frame_parsed(quic::Time, uint64_t, const quic::trace::Http3Frame&) override;
    void http3_stream_type_set(quic::Time, uint64_t, bool, std::string_view) override;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    bool active_ = false;
    uint64_t total_bytes_ = 0;

    friend struct Impl;
};

// The factory the endpoint calls for each new connection (Endpoint::Config::tracer_factory):
// creates `dir` when missing and opens dir/trace_file_name(role, odcid), written on the
// calling thread. Returns nullptr when the file cannot be created (the connection then runs
// untraced).
std::shared_ptr<quic::trace::Tracer> make_file_tracer(const std::filesystem::path& dir,
                                                      quic::Role role,
                                                      const quic::ConnectionId& odcid,
                                                      Schema schema = Schema::kDraft,
                                                      Level level = Level::kFull);

// The same through `writer`'s thread, which creates the file: no disk access here. `dir`
// must exist (the command creates it once, before its event loop starts).
std::shared_ptr<quic::trace::Tracer> make_file_tracer(TraceWriter& writer,
                                                      const std::filesystem::path& dir,
                                                      quic::Role role,
                                                      const quic::ConnectionId& odcid,
                                                      Schema schema, Level level);

}  // namespace qlog
