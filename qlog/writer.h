// The qlog writer (docs/architecture.md, "qlog"): a quic::trace::Tracer that serialises the core's
// typed events as JSON-SEQ (RFC 7464; qlog main schema §11.2 "qlog to JSON Text Sequences"): each
// record is 0x1E, one JSON object, 0x0A, and the header record comes first. One file per
// connection, named <odcid hex>_<client|server>.sqlog.
//
// Two schemas:
//   kDraft   the drafts in ../shared/specs (file_schema urn:ietf:params:qlog:file:sequential,
//            event schema urn:ietf:params:qlog:events:quic-13, quic:* event names);
//   kQvis03  qlog 0.3 as qvis loads it (qlog_version "0.3", qlog_format "JSON-SEQ",
//            transport:/recovery:/security: event names).
//
// Times are milliseconds (float, microsecond resolution) since the connection's first event.
// Every value a peer controls is capped (qlog/limits.h). Output is buffered. The writer never
// throws: an I/O error (or any other failure) stops tracing for that connection, and the
// connection carries on.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

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
    // Opens (truncates) `path`. When it cannot be opened, the tracer is inert: ok() is false
    // and every event is ignored.
    QlogTracer(const std::filesystem::path& path, quic::Role role, const quic::ConnectionId& odcid,
               Schema schema = Schema::kDraft);
    ~QlogTracer() override;  // flushes and closes
    QlogTracer(const QlogTracer&) = delete;
    QlogTracer& operator=(const QlogTracer&) = delete;

    // False once the file could not be opened or written: tracing has stopped.
    bool ok() const { return file_ != nullptr; }
    // Writes the buffered records to the file (and the header, when no event came yet).
    void flush();
    // Bytes handed to the file so far, buffered ones included.
    uint64_t bytes_written() const { return total_bytes_; }

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
    std::FILE* file_ = nullptr;
    uint64_t total_bytes_ = 0;

    friend struct Impl;
};

// The factory the endpoint calls for each new connection (Endpoint::Config::tracer_factory):
// creates `dir` when missing and opens dir/trace_file_name(role, odcid). Returns nullptr when
// the file cannot be created (the connection then runs untraced).
std::shared_ptr<quic::trace::Tracer> make_file_tracer(const std::filesystem::path& dir,
                                                      quic::Role role,
                                                      const quic::ConnectionId& odcid,
                                                      Schema schema = Schema::kDraft);

}  // namespace qlog
