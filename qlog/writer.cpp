// The qlog writer: typed tracer events to JSON-SEQ records (see writer.h). Field names follow
// draft-ietf-quic-qlog-quic-events (kDraft) or qlog 0.3 (kQvis03); the
// section of the draft is cited where an event is built.
#include "qlog/writer.h"
#include "quic/overloaded.h"

#include <arpa/inet.h>

#include <chrono>
#include <cmath>
#include <ctime>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

#include "qlog/format.h"
#include "qlog/json_out.h"
#include "qlog/limits.h"

namespace qlog {

using quic::Time;
namespace tr = quic::trace;

namespace {

// JSON can carry integers up to 2^53 exactly in every reader (main schema §11.3, I-JSON);
// counters that mean "infinite" (ssthresh before the first loss) are left out instead.
constexpr uint64_t kMaxExactJsonInteger = uint64_t{1} << 53;

bool is_long_header(quic::PacketType t) {
    return t != quic::PacketType::kOneRtt;
}

bool has_packet_number(quic::PacketType t) {
    return t != quic::PacketType::kRetry && t != quic::PacketType::kVersionNegotiation;
}

const char* key_type_name(tr::KeyKind k) {
    switch (k) {
        case tr::KeyKind::kInitialClient:
            return "client_initial_secret";
        case tr::KeyKind::kInitialServer:
            return "server_initial_secret";
        case tr::KeyKind::kHandshakeClient:
            return "client_handshake_secret";
        case tr::KeyKind::kHandshakeServer:
            return "server_handshake_secret";
        case tr::KeyKind::kZeroRtt:
            return "client_0rtt_secret";
        case tr::KeyKind::kOneRttClient:
            return "client_1rtt_secret";
        case tr::KeyKind::kOneRttServer:
            return "server_1rtt_secret";
    }
    return "unknown";
}

bool is_one_rtt(tr::KeyKind k) {
    return k == tr::KeyKind::kOneRttClient || k == tr::KeyKind::kOneRttServer;
}

const char* key_trigger_name(tr::KeyTrigger t) {
    switch (t) {
        case tr::KeyTrigger::kTls:
            return "tls";
        case tr::KeyTrigger::kRemoteUpdate:
            return "remote_update";
        case tr::KeyTrigger::kLocalUpdate:
            return "local_update";
    }
    return "tls";
}

const char* loss_trigger_name(tr::LossTrigger t) {
    switch (t) {
        case tr::LossTrigger::kReorderingThreshold:
            return "reordering_threshold";
        case tr::LossTrigger::kTimeThreshold:
            return "time_threshold";
        case tr::LossTrigger::kPtoExpired:
            return "pto_expired";
    }
    return "time_threshold";
}

// Quic events draft, packet_dropped: the draft's trigger categories; the core's finer reason
// goes in details.reason.
const char* draft_drop_trigger(tr::DropReason r) {
    switch (r) {
        case tr::DropReason::kKeyUnavailable:
            return "key_unavailable";
        case tr::DropReason::kUnknownConnectionId:
            return "connection_unknown";
        case tr::DropReason::kHeaderParseError:
            return "invalid";
        case tr::DropReason::kPayloadDecryptError:
            return "decryption_failure";
        case tr::DropReason::kProtocolViolation:
            return "invalid";
        case tr::DropReason::kDuplicate:
            return "duplicate";
        case tr::DropReason::kUnsupportedVersion:
            return "unsupported";
        case tr::DropReason::kUnexpectedPacket:
            return "rejected";
        case tr::DropReason::kKeysDiscarded:
            return "key_unavailable";
        case tr::DropReason::kBufferFull:
            return "rejected";
    }
    return "general";
}

// Quic events draft, connection_state_updated: BaseConnectionStates and the granular ones.
const char* state_name(quic::ConnectionState s) {
    switch (s) {
        case quic::ConnectionState::kHandshaking:
            return "handshake_started";
        case quic::ConnectionState::kEstablished:
            return "handshake_complete";
        case quic::ConnectionState::kClosing:
            return "closing";
        case quic::ConnectionState::kDraining:
            return "draining";
        case quic::ConnectionState::kClosed:
            return "closed";
    }
    return "unknown";
}

const char* timer_type_name(tr::TimerKind k, bool draft) {
    switch (k) {
        case tr::TimerKind::kAck:
            return "ack";
        // qlog 0.3 calls the RFC 9002 loss-time timer "ack" (loss detection by time threshold).
        case tr::TimerKind::kLossTimeout:
            return draft ? "loss_timeout" : "ack";
        case tr::TimerKind::kPto:
            return "pto";
        case tr::TimerKind::kIdle:
            return "idle_timeout";
        case tr::TimerKind::kHandshake:
            return "handshake_timeout";
    }
    return "unknown";
}

// Quic events draft, stream_state_updated: which half of the stream a state name belongs to
// (RFC 9000 §3.1 sending states, §3.2 receiving states). The tracer interface passes one name;
// names that exist on both sides or on neither (open, closed, data_received...) are reported
// as "sending", the side the core reports for streams it writes.
const char* stream_side_of(std::string_view state) {
    static constexpr std::string_view kReceiving[] = {
        "receive", "size_known", "data_read", "reset_read", "recv", "half_closed_remote"};
    for (std::string_view s : kReceiving)
        if (state == s) return "receiving";
    return "sending";
}

std::string ip_string(const quic::SocketAddress& a) {
    char buf[INET6_ADDRSTRLEN] = "";
    if (a.family() == quic::SocketAddress::Family::kIpv4)
        inet_ntop(AF_INET, a.ip(), buf, sizeof buf);
    else if (a.family() == quic::SocketAddress::Family::kIpv6)
        inet_ntop(AF_INET6, a.ip(), buf, sizeof buf);
    return buf;
}

std::string rfc3339_now() {
    const auto now = std::chrono::system_clock::now();
    const std::time_t secs = std::chrono::system_clock::to_time_t(now);
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[64];
    const size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms.count()));
    return buf;
}

double unix_ms_now() {
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    return static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(now).count()) /
           1e3;
}

// What a bulk transfer repeats (qlog/level.h): a packet whose frames are all STREAM without
// FIN and PADDING (sent), or also ACK (received), is logged in short at kCore.
bool is_bulk_frame(const quic::Frame& f, bool ack_too) {
    if (const auto* s = std::get_if<quic::StreamFrame>(&f)) return !s->fin;
    if (std::holds_alternative<quic::PaddingFrame>(f)) return true;
    return ack_too && std::holds_alternative<quic::AckFrame>(f);
}

bool only_bulk_frames(std::span<const quic::Frame> frames, bool ack_too) {
    if (frames.empty()) return false;
    for (const quic::Frame& f : frames)
        if (!is_bulk_frame(f, ack_too)) return false;
    return true;
}

bool carries_application_data(quic::PacketType t) {
    return t == quic::PacketType::kOneRtt || t == quic::PacketType::kZeroRtt;
}

void version_value(JsonOut& j, quic::Version v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%08x", v);
    j.trusted(buf);
}

void cid_value(JsonOut& j, const quic::ConnectionId& c) {
    j.hex(c.bytes(), quic::kMaxConnectionIdLength);
}

// {"length": n}: qlog's RawInfo with only the length.
void raw_length(JsonOut& j, uint64_t n) {
    j.begin_object().key("length").number(n).end_object();
}

}  // namespace

std::optional<Schema> parse_schema(std::string_view name) {
    if (name == "draft") return Schema::kDraft;
    if (name == "qvis" || name == "0.3" || name == "qvis03") return Schema::kQvis03;
    return std::nullopt;
}

std::string trace_file_name(quic::Role role, const quic::ConnectionId& odcid) {
    std::string name = odcid.empty() ? std::string("unknown") : odcid.to_hex();
    name += role == quic::Role::kClient ? "_client.sqlog" : "_server.sqlog";
    return name;
}

// A buffer goes to the sink once it holds kWriteBufferBytes (the last record may overrun
// it); it grows to that size only on a connection that logs that much.
constexpr size_t kBufferCapacity = kWriteBufferBytes + 4096;

struct QlogTracer::Impl {
    Impl(QlogTracer& owner, std::shared_ptr<Sink> s, Schema sch, Level lvl, quic::Role r,
         std::string odcid)
        : self(owner),
          sink(std::move(s)),
          schema(sch),
          level(lvl),
          role(r),
          odcid_hex(std::move(odcid)),
          buffer(kBufferCapacity) {}

    QlogTracer& self;
    std::shared_ptr<Sink> sink;  // null once stopped
    Schema schema;
    Level level;
    quic::Role role;
    std::string odcid_hex;
    RecordBuffer buffer;
    size_t record_start = 0;        // where the record being built starts in `buffer`
    uint64_t events_in_buffer = 0;  // what a refused buffer loses
    uint64_t events_dropped = 0;    // since the start
    bool drop_notice_due = false;   // events were dropped since the last notice
    bool header_written = false;
    bool header_taken = false;  // a buffer holding the header went to the sink
    Time t0{}, last_event_time{};
    // ACK Delay is sent scaled by the sender's ack_delay_exponent (RFC 9000 §18.2, §19.3).
    uint64_t local_ack_delay_exponent = quic::kDefaultAckDelayExponent;
    uint64_t peer_ack_delay_exponent = quic::kDefaultAckDelayExponent;
    std::optional<tr::RecoveryMetrics> last_metrics;  // as last logged
    std::vector<std::string> extra_event_schemas;     // add_event_schema()
    std::string trace_title;                          // set_trace_title(); empty: ours

    bool draft() const { return schema == Schema::kDraft; }
    bool at_least(Level l) const { return level >= l; }
    const char* vantage() const { return role == quic::Role::kClient ? "client" : "server"; }

    // --- records -------------------------------------------------------------------------

    void write_header() {
        begin_record();
        JsonOut j(buffer);
        if (draft()) {
            // Main schema §5 (QlogFileSeq) and §7.1 (ReferenceTime): our clock is monotonic
            // with an arbitrary epoch; times count from the first event.
            j.key("file_schema").trusted(kDraftFileSchema);
            j.key("serialization_format").trusted(kDraftSerializationFormat);
            j.key("title").trusted("quiver qlog");
            j.key("trace").begin_object();
            j.key("title").text(!trace_title.empty()
                                    ? trace_title
                                    : std::string("quiver ") + vantage() + " " + odcid_hex);
            j.key("description").trusted(std::string("event level ") + level_name(level));
            j.key("common_fields").begin_object();
            if (!odcid_hex.empty()) j.key("group_id").trusted(odcid_hex);
            j.key("time_format").trusted("relative_to_epoch");
            j.key("reference_time").begin_object();
            j.key("clock_type").trusted("monotonic");
            j.key("epoch").trusted("unknown");
            j.key("wall_clock_time").trusted(rfc3339_now());
            j.end_object().end_object();
            j.key("vantage_point").begin_object();
            j.key("name").trusted("quiver").key("type").trusted(vantage());
            j.end_object();
            j.key("event_schemas").begin_array();
            j.trusted(kDraftQuicEventSchema).trusted(kDraftHttp3EventSchema);
            for (const std::string& uri : extra_event_schemas) j.text(uri);
            j.end_array();
            j.end_object();
        } else {
            j.key("qlog_version").trusted("0.3");
            j.key("qlog_format").trusted("JSON-SEQ");
            j.key("title").trusted("quiver qlog");
            j.key("trace").begin_object();
            j.key("description").trusted(std::string("event level ") + level_name(level));
            j.key("vantage_point").begin_object();
            j.key("name").trusted("quiver").key("type").trusted(vantage());
            j.end_object();
            j.key("common_fields").begin_object();
            j.key("ODCID").trusted(odcid_hex);
            j.key("group_id").trusted(odcid_hex);
            j.key("protocol_type").begin_array().trusted("QUIC").end_array();
            j.key("reference_time").number(unix_ms_now());
            j.key("time_format").trusted("relative");
            j.end_object().end_object();
        }
        end_record(false);
        header_written = true;
    }

    void begin_record() {
        record_start = buffer.size();
        buffer.push_back('\x1e');
        buffer.push_back('{');
    }

    // Closes the record's object; `event` counts it as an event (what a drop loses).
    void end_record(bool event) {
        buffer.append("}\n");
        self.total_bytes_ += buffer.size() - record_start;
        record_start = buffer.size();
        if (event) ++events_in_buffer;
        if (buffer.size() >= kWriteBufferBytes) hand_over();
    }

    // The start of an event record, up to the opening brace of "data". `draft_name` and
    // `qvis_name` are the full names ("quic:packet_sent"). Returns false when stopped.
    bool begin_event(Time t, std::string_view draft_name, std::string_view qvis_name) {
        if (!sink) return false;
        if (!header_written) {
            t0 = t;
            write_header();
        }
        last_event_time = t;
        if (drop_notice_due) {
            drop_notice(t);
            if (!sink) return false;
        }
        begin_record();
        JsonOut j(buffer);
        j.key("time").milliseconds(t - t0);
        j.key("name").trusted(draft() ? draft_name : qvis_name);
        j.key("data").begin_object();
        return true;
    }

    void end_event(Time t) {
        buffer.push_back('}');  // data
        end_record(true);
        if (self.total_bytes_ > kMaxTraceFileBytes && sink) {
            warning(t, "trace size limit reached; tracing stopped", std::nullopt);
            stop();
        }
    }

    // main schema's loglevel:warning (qlog 0.3: generic:warning), with our own count.
    void warning(Time t, std::string_view message, std::optional<uint64_t> dropped) {
        begin_record();
        JsonOut j(buffer);
        j.key("time").milliseconds(t - t0);
        j.key("name").trusted(draft() ? "loglevel:warning" : "generic:warning");
        j.key("data").begin_object().key("message").trusted(message);
        if (dropped) j.key("dropped_events").number(*dropped);
        j.end_object();
        end_record(false);
    }

    // Says in the trace how many events were lost so far (the count is a running total, so
    // a notice dropped in turn loses nothing).
    void drop_notice(Time t) {
        drop_notice_due = false;
        warning(t, "qlog writer queue full (the disk is behind): events dropped", events_dropped);
    }

    // Gives the buffer to the sink. A refusal drops its events; a failure stops tracing.
    void hand_over() {
        if (!sink || buffer.empty()) return;
        switch (sink->write(buffer.take())) {
            case Sink::Result::kTaken:
                header_taken = true;
                break;
            case Sink::Result::kQueueFull:
                events_dropped += events_in_buffer;
                drop_notice_due = true;
                break;
            case Sink::Result::kFailed:
                buffer.clear();
                stop();
                return;
        }
        buffer.reopen();
        events_in_buffer = 0;
        record_start = 0;
        // The file must start with the header (JSON-SEQ qlog, main schema §5): if it was in
        // what was refused, it goes again first in the next buffer.
        if (sink && !header_taken) write_header();
    }

    void flush() {
        if (!sink) return;
        if (!header_written) write_header();
        hand_over();
    }

    // The end of the trace: what is buffered (or, if that is refused, the count of what was
    // lost), then the file is closed.
    void finish() {
        if (!sink) return;
        hand_over();
        if (drop_notice_due && sink) drop_notice(last_event_time);
        stop();
    }

    // Tracing ends here: what is buffered goes out, then the file is closed (a record left
    // half-built by a failure is discarded).
    void stop() {
        buffer.truncate(record_start);
        if (sink) sink->finish(buffer.take());
        sink.reset();
        self.active_ = false;
        buffer.release();
        record_start = 0;
    }

    // --- fields --------------------------------------------------------------------------

    void versions(JsonOut& j, std::span<const quic::Version> vs) const {
        j.begin_array();
        for (size_t i = 0; i < vs.size() && i < kMaxVersions; ++i) version_value(j, vs[i]);
        j.end_array();
    }

    // Quic events draft §8 PacketHeader; qlog 0.3 PacketHeader. `brief`: a short header
    // gives its type and number only (kCore: key changes are in key_updated).
    void header(JsonOut& j, const tr::PacketHeaderInfo& h, bool brief) const {
        j.begin_object();
        j.key("packet_type").trusted(quic::packet_type_name(h.type));
        if (has_packet_number(h.type)) j.key("packet_number").number(h.packet_number);
        if (brief && !is_long_header(h.type)) {
            j.end_object();
            return;
        }
        if (is_long_header(h.type)) {
            j.key("version");
            version_value(j, h.version);
            j.key("scil").number(h.scid.size());
            j.key("scid");
            cid_value(j, h.scid);
        }
        j.key("dcil").number(h.dcid.size());
        j.key("dcid");
        cid_value(j, h.dcid);
        if (h.type == quic::PacketType::kOneRtt) {
            j.key("key_phase_bit");
            if (draft())
                j.boolean(h.key_phase);
            else
                j.trusted(h.key_phase ? "1" : "0");
        }
        if (h.token_length > 0 &&
            (h.type == quic::PacketType::kInitial || h.type == quic::PacketType::kRetry)) {
            j.key("token").begin_object().key("raw");
            raw_length(j, h.token_length);
            j.end_object();
        }
        j.end_object();
    }

    // A frame's data length: raw.length in the drafts, "length" in 0.3.
    void data_length(JsonOut& j, uint64_t n) const {
        if (draft()) {
            j.key("raw");
            raw_length(j, n);
        } else {
            j.key("length").number(n);
        }
    }

    // Quic events draft §8.13 "QUIC Frames" (kDraft) and qlog 0.3 frames (kQvis03).
    void frame(JsonOut& j, const quic::Frame& f, uint64_t ack_delay_exponent) const {
        const bool d = draft();
        j.begin_object();
        std::visit(
            quic::Overloaded{
                [&](const quic::PaddingFrame& p) {
                    j.key("frame_type").trusted("padding");
                    j.key("raw").begin_object();
                    j.key("length").number(p.length).key("payload_length").number(p.length);
                    j.end_object();
                },
                [&](const quic::PingFrame&) { j.key("frame_type").trusted("ping"); },
                [&](const quic::AckFrame& a) { ack_frame(j, a, ack_delay_exponent); },
                [&](const quic::ResetStreamFrame& r) {
                    j.key("frame_type").trusted("reset_stream");
                    j.key("stream_id").number(r.stream_id);
                    if (d) j.key("error").trusted("unknown");
                    j.key("error_code").number(r.application_error_code);
                    j.key("final_size").number(r.final_size);
                },
                [&](const quic::StopSendingFrame& s) {
                    j.key("frame_type").trusted("stop_sending");
                    j.key("stream_id").number(s.stream_id);
                    if (d) j.key("error").trusted("unknown");
                    j.key("error_code").number(s.application_error_code);
                },
                [&](const quic::CryptoFrame& c) {
                    j.key("frame_type").trusted("crypto");
                    j.key("offset").number(c.offset);
                    // Draft: "The length field of the Crypto frame MUST be logged in the qlog
                    // raw.length field."
                    data_length(j, c.data.size());
                },
                [&](const quic::NewTokenFrame& t) {
                    j.key("frame_type").trusted("new_token");
                    // Truncated hexstring: raw.length is the full length (main schema §11.4).
                    j.key("token").begin_object();
                    if (d) j.key("type").trusted("resumption").key("raw").begin_object();
                    j.key("length").number(t.token.size());
                    j.key("data").hex(t.token, kMaxHexBytes);
                    if (d) j.end_object();
                    j.end_object();
                },
                [&](const quic::StreamFrame& s) {
                    j.key("frame_type").trusted("stream");
                    j.key("stream_id").number(s.stream_id);
                    j.key("offset").number(s.offset);
                    data_length(j, s.data.size());
                    if (s.fin) j.key("fin").boolean(true);
                },
                [&](const quic::MaxDataFrame& m) {
                    j.key("frame_type").trusted("max_data");
                    j.key("maximum").number(m.maximum_data);
                },
                [&](const quic::MaxStreamDataFrame& m) {
                    j.key("frame_type").trusted("max_stream_data");
                    j.key("stream_id").number(m.stream_id);
                    j.key("maximum").number(m.maximum_stream_data);
                },
                [&](const quic::MaxStreamsFrame& m) {
                    j.key("frame_type").trusted("max_streams");
                    j.key("stream_type")
                        .trusted(m.bidirectional ? "bidirectional" : "unidirectional");
                    j.key("maximum").number(m.maximum_streams);
                },
                [&](const quic::DataBlockedFrame& b) {
                    j.key("frame_type").trusted("data_blocked");
                    j.key("limit").number(b.maximum_data);
                },
                [&](const quic::StreamDataBlockedFrame& b) {
                    j.key("frame_type").trusted("stream_data_blocked");
                    j.key("stream_id").number(b.stream_id);
                    j.key("limit").number(b.maximum_stream_data);
                },
                [&](const quic::StreamsBlockedFrame& b) {
                    j.key("frame_type").trusted("streams_blocked");
                    j.key("stream_type")
                        .trusted(b.bidirectional ? "bidirectional" : "unidirectional");
                    j.key("limit").number(b.maximum_streams);
                },
                [&](const quic::NewConnectionIdFrame& n) {
                    j.key("frame_type").trusted("new_connection_id");
                    j.key("sequence_number").number(n.sequence_number);
                    j.key("retire_prior_to").number(n.retire_prior_to);
                    j.key("connection_id_length").number(n.connection_id.size());
                    j.key("connection_id");
                    cid_value(j, n.connection_id);
                    j.key("stateless_reset_token").hex(n.stateless_reset_token, kMaxHexBytes);
                },
                [&](const quic::RetireConnectionIdFrame& r) {
                    j.key("frame_type").trusted("retire_connection_id");
                    j.key("sequence_number").number(r.sequence_number);
                },
                [&](const quic::PathChallengeFrame& p) {
                    j.key("frame_type").trusted("path_challenge");
                    j.key("data").hex(p.data, kMaxHexBytes);
                },
                [&](const quic::PathResponseFrame& p) {
                    j.key("frame_type").trusted("path_response");
                    j.key("data").hex(p.data, kMaxHexBytes);
                },
                [&](const quic::ConnectionCloseFrame& c) { close_frame(j, c); },
                [&](const quic::HandshakeDoneFrame&) {
                    j.key("frame_type").trusted("handshake_done");
                },
                [&](const quic::DatagramFrame& g) {
                    j.key("frame_type").trusted("datagram");
                    data_length(j, g.data.size());
                },
            },
            f);
        j.end_object();
    }

    void ack_frame(JsonOut& j, const quic::AckFrame& a, uint64_t ack_delay_exponent) const {
        j.key("frame_type").trusted("ack");
        const int exp = static_cast<int>(std::min<uint64_t>(ack_delay_exponent, 20));
        // ACK Delay is in microseconds once scaled (§19.3); qlog wants ms.
        const double us = std::round(std::ldexp(static_cast<double>(a.ack_delay), exp));
        j.key("ack_delay");
        if (us < static_cast<double>(kMaxExactJsonInteger))
            j.microseconds_as_ms(static_cast<int64_t>(us));
        else
            j.number(us / 1e3);
        j.key("acked_ranges").begin_array();
        const size_t n = std::min(a.ranges.size(), kMaxAckRanges);
        for (size_t i = 0; i < n; ++i) {
            const quic::AckRange& r = a.ranges[i];
            j.begin_array().number(r.smallest);
            if (r.smallest != r.largest) j.number(r.largest);
            j.end_array();
        }
        j.end_array();
        const uint64_t omitted = (a.ranges.size() - n) + a.ranges_dropped;
        if (omitted > 0) j.key("acked_ranges_omitted").number(omitted);
        if (a.ecn) {
            j.key("ect1").number(a.ecn->ect1);
            j.key("ect0").number(a.ecn->ect0);
            j.key("ce").number(a.ecn->ce);
        }
    }

    void close_frame(JsonOut& j, const quic::ConnectionCloseFrame& c) const {
        j.key("frame_type").trusted("connection_close");
        j.key("error_space").trusted(c.application ? "application" : "transport");
        const std::string_view reason(reinterpret_cast<const char*>(c.reason.data()),
                                      c.reason.size());
        if (draft()) {
            j.key("error").trusted(c.application ? std::string("unknown")
                                                 : transport_error_qlog_name(c.error_code));
            j.key("error_code").number(c.error_code);
        } else {
            const std::string name = transport_error_qlog_name(c.error_code);
            j.key("error_code");
            if (!c.application && name != "unknown")
                j.trusted(name);
            else
                j.number(c.error_code);
            j.key("raw_error_code").number(c.error_code);
        }
        j.key("reason").text(reason, kMaxReasonBytes);
        if (!c.application && c.frame_type != 0) j.key("trigger_frame_type").number(c.frame_type);
    }

    // Quic events draft §5.6/§5.7 packet_sent, packet_received; what kCore leaves out of
    // bulk packets is in qlog/level.h.
    void packet(Time t, const tr::PacketHeaderInfo& h, std::span<const quic::Frame> frames,
                bool sent) {
        const bool extended = at_least(Level::kExtended);
        const bool bulk =
            carries_application_data(h.type) && only_bulk_frames(frames, /*ack_too=*/!sent);
        if (bulk && !sent && !extended) return;  // the sender's trace and our ACKs have it
        if (!begin_event(t, sent ? "quic:packet_sent" : "quic:packet_received",
                         sent ? "transport:packet_sent" : "transport:packet_received"))
            return;
        JsonOut j(buffer);
        j.key("header");
        header(j, h, /*brief=*/!extended);
        if (!bulk || extended) {
            uint64_t exp = sent ? local_ack_delay_exponent : peer_ack_delay_exponent;
            // Initial and Handshake ACKs: the transport parameters may not be known yet, and
            // RFC 9000 §18.2's default of 3 is what both ends assume before.
            if (h.type == quic::PacketType::kInitial || h.type == quic::PacketType::kHandshake)
                exp = quic::kDefaultAckDelayExponent;
            j.key("frames").begin_array();
            const size_t n = std::min(frames.size(), kMaxFramesPerPacket);
            for (size_t i = 0; i < n; ++i) frame(j, frames[i], exp);
            j.end_array();
            if (frames.size() > n) j.key("frames_omitted").number(frames.size() - n);
        }
        j.key("raw");
        raw_length(j, h.length);
        end_event(t);
    }

    void endpoint_info(JsonOut& j, const quic::SocketAddress& a,
                       const quic::ConnectionId& c) const {
        j.begin_object();
        if (a.family() == quic::SocketAddress::Family::kIpv4) {
            j.key("ip_v4").trusted(ip_string(a));
            j.key("port_v4").number(a.port());
        } else if (a.family() == quic::SocketAddress::Family::kIpv6) {
            j.key("ip_v6").trusted(ip_string(a));
            j.key("port_v6").number(a.port());
        }
        j.key("connection_ids").begin_array();
        cid_value(j, c);
        j.end_array().end_object();
    }
};

QlogTracer::QlogTracer(const std::filesystem::path& path, quic::Role role,
                       const quic::ConnectionId& odcid, Schema schema, Level level)
    : QlogTracer(std::shared_ptr<Sink>(open_direct_sink(path)), role, odcid, schema, level) {}

QlogTracer::QlogTracer(std::shared_ptr<Sink> sink, quic::Role role, const quic::ConnectionId& odcid,
                       Schema schema, Level level) {
    try {
        if (!sink) return;
        impl_ = std::make_unique<Impl>(*this, std::move(sink), schema, level, role, odcid.to_hex());
        active_ = true;
    } catch (...) {
        impl_.reset();
        active_ = false;
    }
}

QlogTracer::~QlogTracer() {
    if (!impl_) return;
    try {
        impl_->finish();
    } catch (...) {
        impl_->stop();
    }
}

void QlogTracer::flush() {
    try {
        if (impl_) impl_->flush();
    } catch (...) {
        if (impl_) impl_->stop();
    }
}

uint64_t QlogTracer::events_dropped() const {
    return impl_ ? impl_->events_dropped : 0;
}

// Every event body runs under this guard: the writer never throws into the core, and a
// failure (allocation, I/O) ends tracing for the connection instead.
#define QLOG_GUARDED(...)  \
    do {                   \
        if (!ok()) return; \
        try {              \
            __VA_ARGS__    \
        } catch (...) {    \
            impl_->stop(); \
        }                  \
    } while (0)

// Quic events draft §4.2 connection_started; qlog 0.3 transport:connection_started.
void QlogTracer::connection_started(Time t, const quic::Path& path, quic::Version,
                                    const quic::ConnectionId& scid,
                                    const quic::ConnectionId& dcid) {
    QLOG_GUARDED({
        Impl& m = *impl_;
        if (!m.begin_event(t, "quic:connection_started", "transport:connection_started")) return;
        JsonOut j(m.buffer);
        if (m.draft()) {
            j.key("local");
            m.endpoint_info(j, path.local, scid);
            j.key("remote");
            m.endpoint_info(j, path.remote, dcid);
        } else {
            const bool v6 = path.remote.family() == quic::SocketAddress::Family::kIpv6;
            j.key("ip_version").trusted(v6 ? "ipv6" : "ipv4");
            j.key("src_ip").trusted(ip_string(path.local));
            j.key("src_port").number(path.local.port());
            j.key("dst_ip").trusted(ip_string(path.remote));
            j.key("dst_port").number(path.remote.port());
            j.key("src_cid");
            cid_value(j, scid);
            j.key("dst_cid");
            cid_value(j, dcid);
            j.key("protocol").trusted("QUIC");
        }
        m.end_event(t);
    });
}

// Quic events draft §4.6 connection_state_updated.
void QlogTracer::connection_state_updated(Time t, quic::ConnectionState old,
                                          quic::ConnectionState now) {
    QLOG_GUARDED({
        Impl& m = *impl_;
        if (!m.begin_event(t, "quic:connection_state_updated",
                           "transport:connection_state_updated"))
            return;
        JsonOut j(m.buffer);
        j.key("old").trusted(state_name(old)).key("new").trusted(state_name(now));
        m.end_event(t);
    });
}

// Quic events draft §4.3 connection_closed; qlog 0.3 transport:connection_closed.
void QlogTracer::connection_closed(Time t, const quic::ConnectionClosed& c) {
    QLOG_GUARDED({
        using quic::CloseOrigin;
        Impl& m = *impl_;
        const bool remote = c.origin == CloseOrigin::kPeer ||
                            c.origin == CloseOrigin::kStatelessReset ||
                            c.origin == CloseOrigin::kVersionMismatch;
        const bool app = c.error.space == quic::ErrorSpace::kApplication;
        const char* trigger = "unspecified";
        switch (c.origin) {
            case CloseOrigin::kLocal:
            case CloseOrigin::kPeer:
                trigger = app || c.error.code == 0 ? "application" : "error";
                break;
            case CloseOrigin::kIdleTimeout:
                trigger = "idle_timeout";
                break;
            case CloseOrigin::kHandshakeTimeout:
                trigger = m.draft() ? "aborted" : "handshake_timeout";
                break;
            case CloseOrigin::kStatelessReset:
                trigger = "stateless_reset";
                break;
            case CloseOrigin::kVersionMismatch:
                trigger = "version_mismatch";
                break;
        }
        if (!m.begin_event(t, "quic:connection_closed", "transport:connection_closed")) return;
        JsonOut j(m.buffer);
        const std::string_view reason = c.error.reason;
        if (m.draft()) {
            j.key("initiator").trusted(remote ? "remote" : "local");
            if (app)
                j.key("application_error").trusted("unknown");
            else
                j.key("connection_error").trusted(transport_error_qlog_name(c.error.code));
            j.key("error_code").number(c.error.code);
            if (!reason.empty()) j.key("reason").text(reason, kMaxReasonBytes);
            j.key("trigger").trusted(trigger);
            // Which of the core's close origins it was: finer than the draft's triggers.
            j.key("internal_code").number(static_cast<uint64_t>(c.origin));
        } else {
            j.key("owner").trusted(remote ? "remote" : "local");
            if (app)
                j.key("application_code").number(c.error.code);
            else
                j.key("connection_code").trusted(transport_error_qlog_name(c.error.code));
            if (!reason.empty()) j.key("reason").text(reason, kMaxReasonBytes);
            j.key("trigger").trusted(trigger);
        }
        m.end_event(t);
        m.flush();  // a closed connection's trace goes to the file now
    });
}

// Quic events draft §5.1 version_information.
void QlogTracer::version_information(Time t, std::span<const quic::Version> ours,
                                     std::span<const quic::Version> peer, quic::Version chosen) {
    QLOG_GUARDED({
        Impl& m = *impl_;
        const bool client = m.role == quic::Role::kClient;
        if (!m.begin_event(t, "quic:version_information", "transport:version_information")) return;
        JsonOut j(m.buffer);
        if (!ours.empty()) {
            j.key(client ? "client_versions" : "server_versions");
            m.versions(j, ours);
        }
        if (!peer.empty()) {
            j.key(client ? "server_versions" : "client_versions");
            m.versions(j, peer);
        }
        if (chosen != 0) {
            j.key("chosen_version");
            version_value(j, chosen);
        }
        m.end_event(t);
    });
}

// Quic events draft §5.2 alpn_information (ALPNIdentifier); qlog 0.3: chosen_alpn is text.
void QlogTracer::alpn_information(Time t, std::string_view chosen) {
    QLOG_GUARDED({
        Impl& m = *impl_;
        if (!m.begin_event(t, "quic:alpn_information", "transport:alpn_information")) return;
        JsonOut j(m.buffer);
        j.key("chosen_alpn");
        if (m.draft()) {
            j.begin_object().key("string_value").text(chosen, kMaxAlpnBytes).end_object();
        } else {
            j.text(chosen, kMaxAlpnBytes);
        }
        m.end_event(t);
    });
}

// Quic events draft §5.3 parameters_set (qlog 0.3: "owner" instead of "initiator").
void QlogTracer::parameters_set(Time t, bool local, const quic::TransportParameters& p) {
    QLOG_GUARDED({
        Impl& m = *impl_;
        (local ? m.local_ack_delay_exponent : m.peer_ack_delay_exponent) = p.ack_delay_exponent;
        if (!m.begin_event(t, "quic:parameters_set", "transport:parameters_set")) return;
        JsonOut j(m.buffer);
        j.key(m.draft() ? "initiator" : "owner").trusted(local ? "local" : "remote");
        if (p.original_destination_connection_id) {
            j.key("original_destination_connection_id");
            cid_value(j, *p.original_destination_connection_id);
        }
        if (p.initial_source_connection_id) {
            j.key("initial_source_connection_id");
            cid_value(j, *p.initial_source_connection_id);
        }
        if (p.retry_source_connection_id) {
            j.key("retry_source_connection_id");
            cid_value(j, *p.retry_source_connection_id);
        }
        if (p.stateless_reset_token)
            j.key("stateless_reset_token").hex(*p.stateless_reset_token, kMaxHexBytes);
        j.key("disable_active_migration").boolean(p.disable_active_migration);
        j.key("max_idle_timeout").number(p.max_idle_timeout_ms);
        j.key("max_udp_payload_size").number(p.max_udp_payload_size);
        j.key("ack_delay_exponent").number(p.ack_delay_exponent);
        j.key("max_ack_delay").number(p.max_ack_delay_ms);
        j.key("active_connection_id_limit").number(p.active_connection_id_limit);
        j.key("initial_max_data").number(p.initial_max_data);
        j.key("initial_max_stream_data_bidi_local").number(p.initial_max_stream_data_bidi_local);
        j.key("initial_max_stream_data_bidi_remote").number(p.initial_max_stream_data_bidi_remote);
        j.key("initial_max_stream_data_uni").number(p.initial_max_stream_data_uni);
        j.key("initial_max_streams_bidi").number(p.initial_max_streams_bidi);
        j.key("initial_max_streams_uni").number(p.initial_max_streams_uni);
        if (p.preferred_address) {
            const quic::PreferredAddress& a = *p.preferred_address;
            const auto v4 = quic::SocketAddress::ipv4(a.ipv4_address, a.ipv4_port);
            const auto v6 = quic::SocketAddress::ipv6(a.ipv6_address, a.ipv6_port);
            j.key("preferred_address").begin_object();
            j.key("ip_v4").trusted(ip_string(v4)).key("port_v4").number(a.ipv4_port);
            j.key("ip_v6").trusted(ip_string(v6)).key("port_v6").number(a.ipv6_port);
            j.key("connection_id");
            cid_value(j, a.connection_id);
            j.key("stateless_reset_token").hex(a.stateless_reset_token, kMaxHexBytes);
            j.end_object();
        }
        if (p.max_datagram_frame_size)
            j.key("max_datagram_frame_size").number(*p.max_datagram_frame_size);
        j.key("grease_quic_bit").boolean(p.grease_quic_bit);
        if (p.version_information) {
            // RFC 9368 §3; not in the draft's list, an extension field.
            j.key("version_information").begin_object().key("chosen_version");
            version_value(j, p.version_information->chosen_version);
            j.key("available_versions");
            m.versions(j, p.version_information->available_versions);
            j.end_object();
        }
        m.end_event(t);
    });
}

void QlogTracer::packet_sent(Time t, const tr::PacketHeaderInfo& h,
                             std::span<const quic::Frame> frames) {
    QLOG_GUARDED({ impl_->packet(t, h, frames, true); });
}

void QlogTracer::packet_received(Time t, const tr::PacketHeaderInfo& h,
                                 std::span<const quic::Frame> frames) {
    QLOG_GUARDED({ impl_->packet(t, h, frames, false); });
}

// Quic events draft §5.8 packet_dropped.
void QlogTracer::packet_dropped(Time t, quic::PacketType type, size_t size, tr::DropReason why) {
    QLOG_GUARDED({
        Impl& m = *impl_;
        if (!m.begin_event(t, "quic:packet_dropped", "transport:packet_dropped")) return;
        JsonOut j(m.buffer);
        j.key("header").begin_object();
        j.key("packet_type").trusted(quic::packet_type_name(type));
        j.end_object();
        j.key("raw");
        raw_length(j, size);
        if (m.draft()) {
            j.key("trigger").trusted(draft_drop_trigger(why));
            j.key("details").begin_object();
            j.key("reason").trusted(tr::drop_reason_name(why));
            j.end_object();
        } else {
            j.key("trigger").trusted(tr::drop_reason_name(why));
        }
        m.end_event(t);
    });
}

// Quic events draft §5.9 packet_buffered.
void QlogTracer::packet_buffered(Time t, quic::PacketType type, size_t size) {
    QLOG_GUARDED({
        Impl& m = *impl_;
        if (!m.begin_event(t, "quic:packet_buffered", "transport:packet_buffered")) return;
        JsonOut j(m.buffer);
        j.key("header").begin_object();
        j.key("packet_type").trusted(quic::packet_type_name(type));
        j.end_object();
        j.key("raw");
        raw_length(j, size);
        j.key("trigger").trusted("keys_unavailable");
        m.end_event(t);
    });
}

void QlogTracer::version_negotiation_received(Time t, std::span<const quic::Version> versions) {
    QLOG_GUARDED({
        Impl& m = *impl_;
        if (!m.begin_event(t, "quic:packet_received", "transport:packet_received")) return;
        JsonOut j(m.buffer);
        j.key("header").begin_object();
        j.key("packet_type").trusted("version_negotiation");
        j.end_object();
        j.key("supported_versions");
        m.versions(j, versions);
        if (versions.size() > kMaxVersions)
            j.key("supported_versions_omitted").number(versions.size() - kMaxVersions);
        m.end_event(t);
    });
}

void QlogTracer::retry_received(Time t, const quic::ConnectionId& scid, size_t token_length) {
    QLOG_GUARDED({
        Impl& m = *impl_;
        if (!m.begin_event(t, "quic:packet_received", "transport:packet_received")) return;
        JsonOut j(m.buffer);
        j.key("header").begin_object();
        j.key("packet_type").trusted("retry");
        j.key("scil").number(scid.size());
        j.key("scid");
        cid_value(j, scid);
        j.key("token").begin_object();
        if (m.draft()) j.key("type").trusted("retry");
        j.key("raw");
        raw_length(j, token_length);
        j.end_object().end_object();
        m.end_event(t);
    });
}

// Quic events draft §7.2 recovery_metrics_updated: only the fields that changed since the
// last one logged. Below kFull, a change of bytes_in_flight alone is not logged (it moves
// with every packet); it rides along with the next change of anything else.
void QlogTracer::metrics_updated(Time t, const tr::RecoveryMetrics& now) {
    QLOG_GUARDED({
        using M = tr::RecoveryMetrics;
        Impl& m = *impl_;
        const M* last = m.last_metrics ? &*m.last_metrics : nullptr;
        auto changed = [&](auto field) { return !last || last->*field != now.*field; };
        const bool min_rtt = changed(&M::min_rtt), srtt = changed(&M::smoothed_rtt),
                   latest_rtt = changed(&M::latest_rtt), rttvar = changed(&M::rtt_variance),
                   pto = changed(&M::pto_count), cwnd = changed(&M::congestion_window),
                   in_flight = changed(&M::bytes_in_flight);
        const bool ssthresh = changed(&M::ssthresh) && now.ssthresh < kMaxExactJsonInteger;
        const bool pacing = changed(&M::pacing_rate_bps) && now.pacing_rate_bps > 0 &&
                            now.pacing_rate_bps < static_cast<double>(kMaxExactJsonInteger);
        const bool others =
            min_rtt || srtt || latest_rtt || rttvar || pto || cwnd || ssthresh || pacing;
        const bool every_change = m.at_least(Level::kFull);
        // Below kFull an unlogged change stays "changed" until it is logged.
        if (every_change || others) m.last_metrics = now;
        if (!others && !(every_change && in_flight)) return;
        if (!m.begin_event(t, "quic:recovery_metrics_updated", "recovery:metrics_updated")) return;
        JsonOut j(m.buffer);
        if (min_rtt) j.key("min_rtt").milliseconds(now.min_rtt);
        if (srtt) j.key("smoothed_rtt").milliseconds(now.smoothed_rtt);
        if (latest_rtt) j.key("latest_rtt").milliseconds(now.latest_rtt);
        if (rttvar) j.key("rtt_variance").milliseconds(now.rtt_variance);
        if (pto) j.key("pto_count").number(now.pto_count);
        if (cwnd) j.key("congestion_window").number(now.congestion_window);
        if (in_flight) j.key("bytes_in_flight").number(now.bytes_in_flight);
        if (ssthresh) j.key("ssthresh").number(now.ssthresh);
        if (pacing) j.key("pacing_rate").number(static_cast<uint64_t>(now.pacing_rate_bps));
        m.end_event(t);
    });
}

// Quic events draft §7.3 congestion_state_updated.
void QlogTracer::congestion_state_updated(Time t, std::string_view old, std::string_view now) {
    QLOG_GUARDED({
        Impl& m = *impl_;
        if (!m.begin_event(t, "quic:congestion_state_updated", "recovery:congestion_state_updated"))
            return;
        JsonOut j(m.buffer);
        if (!old.empty()) j.key("old").text(old, kMaxStateNameBytes);
        j.key("new").text(now, kMaxStateNameBytes);
        m.end_event(t);
    });
}

// Quic events draft §7.4 packet_lost.
void QlogTracer::packet_lost(Time t, quic::PacketType type, uint64_t pn, tr::LossTrigger why) {
    QLOG_GUARDED({
        Impl& m = *impl_;
        if (!m.begin_event(t, "quic:packet_lost", "recovery:packet_lost")) return;
        JsonOut j(m.buffer);
        j.key("header").begin_object();
        j.key("packet_type").trusted(quic::packet_type_name(type));
        j.key("packet_number").number(pn);
        j.end_object();
        j.key("trigger").trusted(loss_trigger_name(why));
        m.end_event(t);
    });
}

// Quic events draft §5.16 timer_updated (Extra: kFull only); qlog 0.3
// recovery:loss_timer_updated.
void QlogTracer::timer_updated(Time t, tr::TimerKind kind, std::optional<Time> deadline) {
    QLOG_GUARDED({
        Impl& m = *impl_;
        if (!m.at_least(Level::kFull)) return;
        if (!m.begin_event(t, "quic:timer_updated", "recovery:loss_timer_updated")) return;
        JsonOut j(m.buffer);
        j.key("timer_type").trusted(timer_type_name(kind, m.draft()));
        j.key("event_type").trusted(deadline ? "set" : "cancelled");
        if (deadline) j.key("delta").milliseconds(*deadline - t);
        m.end_event(t);
    });
}

// Quic events draft mtu_updated (qlog 0.3: recovery:mtu_updated).
void QlogTracer::mtu_updated(Time t, size_t old, size_t now, bool done) {
    QLOG_GUARDED({
        Impl& m = *impl_;
        if (!m.begin_event(t, "quic:mtu_updated", "recovery:mtu_updated")) return;
        JsonOut j(m.buffer);
        j.key("old").number(old);
        j.key("new").number(now);
        if (done) j.key("done").boolean(true);
        m.end_event(t);
    });
}

// Quic events draft §6.1 key_updated; qlog 0.3 security:key_updated ("generation").
void QlogTracer::key_updated(Time t, tr::KeyKind kind, uint64_t generation, tr::KeyTrigger why) {
    QLOG_GUARDED({
        Impl& m = *impl_;
        if (!m.begin_event(t, "quic:key_updated", "security:key_updated")) return;
        JsonOut j(m.buffer);
        j.key("key_type").trusted(key_type_name(kind));
        if (is_one_rtt(kind)) j.key(m.draft() ? "key_phase" : "generation").number(generation);
        j.key("trigger").trusted(key_trigger_name(why));
        m.end_event(t);
    });
}

// Quic events draft §6.2 key_discarded; qlog 0.3 security:key_retired.
void QlogTracer::key_discarded(Time t, tr::KeyKind kind, uint64_t generation) {
    QLOG_GUARDED({
        Impl& m = *impl_;
        if (!m.begin_event(t, "quic:key_discarded", "security:key_retired")) return;
        JsonOut j(m.buffer);
        j.key("key_type").trusted(key_type_name(kind));
        if (is_one_rtt(kind))
            j.key(m.draft() ? "key_phase" : "generation").number(generation);
        else
            j.key("trigger").trusted("tls");
        m.end_event(t);
    });
}

// Quic events draft §5.13 stream_state_updated.
void QlogTracer::stream_state_updated(Time t, uint64_t stream_id, std::string_view state) {
    QLOG_GUARDED({
        Impl& m = *impl_;
        if (!m.begin_event(t, "quic:stream_state_updated", "transport:stream_state_updated"))
            return;
        JsonOut j(m.buffer);
        j.key("stream_id").number(stream_id);
        // RFC 9000 §2.1: bit 0x2 of the stream ID is set on unidirectional streams.
        j.key("stream_type").trusted((stream_id & 0x2) ? "unidirectional" : "bidirectional");
        j.key("new").text(state, kMaxStateNameBytes);
        if (m.draft()) j.key("stream_side").trusted(stream_side_of(state));
        m.end_event(t);
    });
}

// Quic events draft §5.12 udp_datagrams_received (Extra: kExtended and up); qlog 0.3
// transport:datagrams_received.
void QlogTracer::datagram_received(Time t, size_t size) {
    QLOG_GUARDED({
        Impl& m = *impl_;
        if (!m.at_least(Level::kExtended)) return;
        if (!m.begin_event(t, "quic:udp_datagrams_received", "transport:datagrams_received"))
            return;
        JsonOut j(m.buffer);
        j.key("count").number(1);
        j.key("raw").begin_array();
        raw_length(j, size);
        j.end_array();
        m.end_event(t);
    });
}

// H3 events draft §4.4/§4.5 frame_created / frame_parsed, §4.2 stream_type_set; qlog 0.3
// http:frame_created, http:frame_parsed, http:stream_type_set.
namespace {

void http3_frame_json(JsonOut& j, const quic::trace::Http3Frame& f) {
    j.begin_object();
    j.key("frame_type").text(f.type, kMaxStateNameBytes);
    if (f.type == "headers") {
        j.key("headers").begin_array();
        for (size_t i = 0; i < f.fields.size() && i < kMaxHttp3Fields; ++i) {
            j.begin_object();
            j.key("name").text(f.fields[i].name, kMaxHttp3FieldBytes);
            j.key("value").text(f.fields[i].value, kMaxHttp3FieldBytes);
            j.end_object();
        }
        j.end_array();
        if (f.fields.size() > kMaxHttp3Fields)
            j.key("headers_omitted").number(f.fields.size() - kMaxHttp3Fields);
    } else if (f.type == "settings") {
        j.key("settings").begin_array();
        for (const auto& [id, value] : f.settings) {
            const char* name = id == 0x01   ? "settings_qpack_max_table_capacity"
                               : id == 0x06 ? "settings_max_field_section_size"
                               : id == 0x07 ? "settings_qpack_blocked_streams"
                                            : "unknown";
            j.begin_object().key("name").trusted(name).key("value").number(value).end_object();
        }
        j.end_array();
    } else if (f.id) {
        j.key("id").number(*f.id);
    }
    if (f.length) j.key("raw").begin_object().key("payload_length").number(f.length).end_object();
    j.end_object();
}

}  // namespace

// DATA frames, one per few packets of a download, are kExtended; the others are kCore.
void QlogTracer::http3_frame_created(Time t, uint64_t stream_id, const quic::trace::Http3Frame& f) {
    QLOG_GUARDED({
        Impl& m = *impl_;
        if (f.type == "data" && !m.at_least(Level::kExtended)) return;
        if (!m.begin_event(t, "http3:frame_created", "http:frame_created")) return;
        JsonOut j(m.buffer);
        j.key("stream_id").number(stream_id);
        j.key("frame");
        http3_frame_json(j, f);
        m.end_event(t);
    });
}

void QlogTracer::http3_frame_parsed(Time t, uint64_t stream_id, const quic::trace::Http3Frame& f) {
    QLOG_GUARDED({
        Impl& m = *impl_;
        if (f.type == "data" && !m.at_least(Level::kExtended)) return;
        if (!m.begin_event(t, "http3:frame_parsed", "http:frame_parsed")) return;
        JsonOut j(m.buffer);
        j.key("stream_id").number(stream_id);
        j.key("frame");
        http3_frame_json(j, f);
        m.end_event(t);
    });
}

void QlogTracer::http3_stream_type_set(Time t, uint64_t stream_id, bool local,
                                       std::string_view type) {
    QLOG_GUARDED({
        Impl& m = *impl_;
        if (!m.begin_event(t, "http3:stream_type_set", "http:stream_type_set")) return;
        JsonOut j(m.buffer);
        j.key(m.draft() ? "initiator" : "owner").trusted(local ? "local" : "remote");
        j.key("stream_id").number(stream_id);
        j.key("stream_type").text(type, kMaxStateNameBytes);
        m.end_event(t);
    });
}

void QlogTracer::add_event_schema(std::string uri) {
    QLOG_GUARDED({
        if (!impl_->header_written) impl_->extra_event_schemas.push_back(std::move(uri));
    });
}

void QlogTracer::set_trace_title(std::string title) {
    QLOG_GUARDED({
        if (!impl_->header_written) impl_->trace_title = std::move(title);
    });
}

void QlogTracer::event(Time t, std::string_view name, const std::function<void(JsonOut&)>& fill) {
    QLOG_GUARDED({
        Impl& m = *impl_;
        if (!m.begin_event(t, name, name)) return;
        JsonOut j(m.buffer);
        fill(j);
        m.end_event(t);
    });
}

#undef QLOG_GUARDED

std::shared_ptr<quic::trace::Tracer> make_file_tracer(const std::filesystem::path& dir,
                                                      quic::Role role,
                                                      const quic::ConnectionId& odcid,
                                                      Schema schema, Level level) {
    try {
        std::error_code ec;
        std::filesystem::create_directories(dir, ec);
        auto t = std::make_shared<QlogTracer>(dir / trace_file_name(role, odcid), role, odcid,
                                              schema, level);
        if (!t->ok()) return nullptr;
        return t;
    } catch (...) {
        return nullptr;
    }
}

std::shared_ptr<quic::trace::Tracer> make_file_tracer(TraceWriter& writer,
                                                      const std::filesystem::path& dir,
                                                      quic::Role role,
                                                      const quic::ConnectionId& odcid,
                                                      Schema schema, Level level) {
    try {
        auto t = std::make_shared<QlogTracer>(writer.open(dir / trace_file_name(role, odcid)), role,
                                              odcid, schema, level);
        if (!t->ok()) return nullptr;
        return t;
    } catch (...) {
        return nullptr;
    }
}

}  // namespace qlog
