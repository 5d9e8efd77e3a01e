// The tracer interface (docs/architecture.md, "qlog"): the core reports typed events; qlog/ turns
// them into JSON. With no tracer attached the core builds no event and formats nothing: every call
// site checks the pointer first.
//
// Spans in the arguments (frame payloads, reasons, tokens) are only valid during the call.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <utility>

#include "quic/address.h"
#include "quic/connection_id.h"
#include "quic/connection_info.h"
#include "quic/events.h"
#include "quic/frame.h"
#include "quic/packet_type.h"
#include "quic/time.h"
#include "quic/transport_parameters.h"
#include "quic/version.h"

namespace quic::trace {

// What a packet's header says, once header protection is removed (or before it is applied).
struct PacketHeaderInfo {
    PacketType type = PacketType::kOneRtt;
    uint64_t packet_number = 0;
    Version version = 0;
    ConnectionId scid, dcid;
    size_t length = 0;        // the whole packet, header and AEAD tag included
    size_t token_length = 0;  // Initial and Retry
    bool key_phase = false;   // 1-RTT
};

// Why a packet was dropped; the qlog names of quic:packet_dropped's trigger.
enum class DropReason : uint8_t {
    kKeyUnavailable,       // "key_unavailable"
    kUnknownConnectionId,  // "unknown_connection_id"
    kHeaderParseError,     // "header_parse_error"
    kPayloadDecryptError,  // "payload_decrypt_error"
    kProtocolViolation,    // "protocol_violation"
    kDuplicate,            // "duplicate"
    kUnsupportedVersion,   // "unsupported_version"
    kUnexpectedPacket,     // "unexpected_packet"
    kKeysDiscarded,        // "key_discarded" (a packet for a space whose keys are gone)
    kBufferFull,           // "dos_prevention": the undecryptable-packet buffer is full
};
const char* drop_reason_name(DropReason r);

// RFC 9002 §A.3 recovery metrics; reported only when one of them changes.
struct RecoveryMetrics {
    Duration min_rtt{}, smoothed_rtt{}, latest_rtt{}, rtt_variance{};
    uint32_t pto_count = 0;
    uint64_t congestion_window = 0, bytes_in_flight = 0, ssthresh = 0;
    double pacing_rate_bps = 0;
    friend bool operator==(const RecoveryMetrics&, const RecoveryMetrics&) = default;
};

enum class LossTrigger : uint8_t { kReorderingThreshold, kTimeThreshold, kPtoExpired };
enum class KeyKind : uint8_t {
    kInitialClient,
    kInitialServer,
    kHandshakeClient,
    kHandshakeServer,
    kZeroRtt,
    kOneRttClient,
    kOneRttServer,
};
enum class KeyTrigger : uint8_t { kTls, kRemoteUpdate, kLocalUpdate };
enum class TimerKind : uint8_t { kAck, kLossTimeout, kPto, kIdle, kHandshake };

// HTTP/3 (draft-ietf-quic-qlog-h3-events): a frame as created or parsed. The session fills
// what the frame type carries: header fields for HEADERS, settings for SETTINGS, an id for
// GOAWAY/MAX_PUSH_ID/CANCEL_PUSH.
struct FieldView {
    std::string_view name, value;
};
struct Http3Frame {
    std::string_view type;  // "data", "headers", "settings", "goaway", "max_push_id", ...
    uint64_t length = 0;    // payload bytes
    std::span<const FieldView> fields;
    std::span<const std::pair<uint64_t, uint64_t>> settings;
    std::optional<uint64_t> id;
};

class Tracer {
  public:
    virtual ~Tracer() = default;

    // quic:connection_started: our local address and the peer's, and the first CIDs.
    virtual void connection_started(Time, const Path&, Version, const ConnectionId& /*scid*/,
                                    const ConnectionId& /*dcid*/) {}
    virtual void connection_state_updated(Time, ConnectionState /*old*/, ConnectionState) {}
    virtual void connection_closed(Time, const ConnectionClosed&) {}
    virtual void version_information(Time, std::span<const Version> /*ours*/,
                                     std::span<const Version> /*peer*/, Version /*chosen*/) {}
    virtual void alpn_information(Time, std::string_view /*chosen*/) {}
    virtual void parameters_set(Time, bool /*local*/, const TransportParameters&) {}

    virtual void packet_sent(Time, const PacketHeaderInfo&, std::span<const Frame>) {}
    virtual void packet_received(Time, const PacketHeaderInfo&, std::span<const Frame>) {}
    virtual void packet_dropped(Time, PacketType, size_t /*size*/, DropReason) {}
    virtual void packet_buffered(Time, PacketType, size_t /*size*/) {}
    virtual void version_negotiation_received(Time, std::span<const Version>) {}
    virtual void retry_received(Time, const ConnectionId& /*scid*/, size_t /*token_length*/) {}

    virtual void metrics_updated(Time, const RecoveryMetrics&) {}
    virtual void congestion_state_updated(Time, std::string_view /*old*/, std::string_view) {}
    virtual void packet_lost(Time, PacketType, uint64_t /*pn*/, LossTrigger) {}
    virtual void timer_updated(Time, TimerKind, std::optional<Time> /*deadline*/) {}
    // DPLPMTUD changed the largest UDP payload we send (qlog quic:mtu_updated); done: the
    // search is over.
    virtual void mtu_updated(Time, size_t /*old*/, size_t /*new*/, bool /*done*/) {}

    virtual void key_updated(Time, KeyKind, uint64_t /*generation*/, KeyTrigger) {}
    virtual void key_discarded(Time, KeyKind, uint64_t /*generation*/) {}

    virtual void stream_state_updated(Time, uint64_t /*stream_id*/, std::string_view /*state*/) {}
    virtual void datagram_received(Time, size_t /*size*/) {}

    // HTTP/3: frame_created, frame_parsed, stream_type_set ("control", "qpack_encode",
    // "qpack_decode", "request", "push", "reserved", "unknown").
    virtual void http3_frame_created(Time, uint64_t /*stream_id*/, const Http3Frame&) {}
    virtual void http3_frame_parsed(Time, uint64_t /*stream_id*/, const Http3Frame&) {}
    virtual void http3_stream_type_set(Time, uint64_t /*stream_id*/, bool /*local*/,
                                       std::string_view /*type*/) {}
};

}  // namespace quic::trace
