// The qlog writer: typed tracer events to JSON-SEQ records (see writer.h). Field names follow
// ../shared/specs/draft-ietf-quic-qlog-quic-events.md (kDraft) or qlog 0.3 (kQvis03); the
// section of the draft is cited where an event is built.
#include "qlog/writer.h"
#include "quic/overloaded.h"

#include <arpa/inet.h>

#include <chrono>
#include <cmath>
#include <ctime>
#include <nlohmann/json.hpp>
#include <system_error>
#include <type_traits>
#include <variant>

#include "qlog/format.h"
#include "qlog/limits.h"

namespace qlog {

using nlohmann::ordered_json;
using quic::Time;
namespace tr = quic::trace;

namespace {

// JSON can carry integers up to 2^53 exactly in every reader (main schema §11.3, I-JSON);
// counters that mean "infinite" (ssthresh before the first loss) are left out instead.
constexpr uint64_t kMaxExactJsonInteger = uint64_t{1} << 53;

double to_ms(quic::Duration d) {
    // Microsecond resolution: shortest float printing then gives "12.345", not 17 digits.
    return std::round(static_cast<double>(d.count()) / 1e3) / 1e3;
}

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

struct QlogTracer::Impl {
    Impl(QlogTracer& owner, Schema s, quic::Role r, std::string odcid)
        : self(owner), schema(s), role(r), odcid_hex(std::move(odcid)) {}

    QlogTracer& self;
    Schema schema;
    quic::Role role;
    std::string odcid_hex;
    std::string buffer;
    bool header_written = false;
    Time t0{};
    // ACK Delay is sent scaled by the sender's ack_delay_exponent (RFC 9000 §18.2, §19.3).
    uint64_t local_ack_delay_exponent = quic::kDefaultAckDelayExponent;
    uint64_t peer_ack_delay_exponent = quic::kDefaultAckDelayExponent;
    std::optional<tr::RecoveryMetrics> last_metrics;

    bool draft() const { return schema == Schema::kDraft; }
    const char* vantage() const { return role == quic::Role::kClient ? "client" : "server"; }

    // --- records -------------------------------------------------------------------------

    void write_header() {
        ordered_json trace;
        ordered_json common;
        if (draft()) {
            // Main schema §5 (QlogFileSeq) and §7.1 (ReferenceTime): our clock is monotonic
            // with an arbitrary epoch; times count from the first event.
            common["group_id"] = odcid_hex;
            common["time_format"] = "relative_to_epoch";
            common["reference_time"] = {{"clock_type", "monotonic"},
                                        {"epoch", "unknown"},
                                        {"wall_clock_time", rfc3339_now()}};
            trace["title"] = std::string("quiver ") + vantage() + " " + odcid_hex;
            trace["common_fields"] = std::move(common);
            trace["vantage_point"] = {{"name", "quiver"}, {"type", vantage()}};
            trace["event_schemas"] =
                ordered_json::array({kDraftQuicEventSchema, kDraftHttp3EventSchema});
            ordered_json top;
            top["file_schema"] = kDraftFileSchema;
            top["serialization_format"] = kDraftSerializationFormat;
            top["title"] = "quiver qlog";
            top["trace"] = std::move(trace);
            append_record(top);
        } else {
            common["ODCID"] = odcid_hex;
            common["group_id"] = odcid_hex;
            common["protocol_type"] = ordered_json::array({"QUIC"});
            common["reference_time"] = unix_ms_now();
            common["time_format"] = "relative";
            trace["vantage_point"] = {{"name", "quiver"}, {"type", vantage()}};
            trace["common_fields"] = std::move(common);
            ordered_json top;
            top["qlog_version"] = "0.3";
            top["qlog_format"] = "JSON-SEQ";
            top["title"] = "quiver qlog";
            top["trace"] = std::move(trace);
            append_record(top);
        }
        header_written = true;
    }

    void append_record(const ordered_json& j) {
        const size_t before = buffer.size();
        buffer.push_back('\x1e');
        // replace: a peer's reason phrase need not be UTF-8; dump() would throw on it.
        buffer += j.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
        buffer.push_back('\n');
        self.total_bytes_ += buffer.size() - before;
        if (buffer.size() >= kWriteBufferBytes) flush();
    }

    // One event. `draft_name` and `qvis_name` are the full names ("quic:packet_sent").
    void event(Time t, std::string_view draft_name, std::string_view qvis_name, ordered_json data) {
        if (!self.ok()) return;
        if (!header_written) {
            t0 = t;
            write_header();
        }
        ordered_json e;
        e["time"] = to_ms(t - t0);
        e["name"] = draft() ? draft_name : qvis_name;
        e["data"] = std::move(data);
        append_record(e);
        if (self.total_bytes_ > kMaxTraceFileBytes) {
            ordered_json w;
            w["time"] = to_ms(t - t0);
            w["name"] = draft() ? "loglevel:warning" : "generic:warning";
            w["data"] = {{"message", "trace size limit reached; tracing stopped"}};
            append_record(w);
            stop();
        }
    }

    void flush() {
        if (!self.file_) return;
        if (!header_written) write_header();
        if (buffer.empty()) return;
        const size_t n = std::fwrite(buffer.data(), 1, buffer.size(), self.file_);
        const bool complete = n == buffer.size();
        buffer.clear();
        if (!complete || std::fflush(self.file_) != 0) stop();
    }

    void stop() {
        if (self.file_) {
            if (!buffer.empty()) std::fwrite(buffer.data(), 1, buffer.size(), self.file_);
            std::fclose(self.file_);
            self.file_ = nullptr;
        }
        std::string().swap(buffer);
    }

    // --- fields --------------------------------------------------------------------------

    std::string cid(const quic::ConnectionId& c) const { return c.to_hex(); }

    ordered_json versions(std::span<const quic::Version> vs) const {
        ordered_json a = ordered_json::array();
        for (size_t i = 0; i < vs.size() && i < kMaxVersions; ++i) a.push_back(version_hex(vs[i]));
        return a;
    }

    // Quic events draft §8 PacketHeader; qlog 0.3 PacketHeader.
    ordered_json header(const tr::PacketHeaderInfo& h) const {
        ordered_json j;
        j["packet_type"] = quic::packet_type_name(h.type);
        if (has_packet_number(h.type)) j["packet_number"] = h.packet_number;
        if (is_long_header(h.type)) {
            j["version"] = version_hex(h.version);
            j["scil"] = h.scid.size();
            j["scid"] = cid(h.scid);
        }
        j["dcil"] = h.dcid.size();
        j["dcid"] = cid(h.dcid);
        if (h.type == quic::PacketType::kOneRtt) {
            if (draft())
                j["key_phase_bit"] = h.key_phase;
            else
                j["key_phase_bit"] = h.key_phase ? "1" : "0";
        }
        if (h.token_length > 0 &&
            (h.type == quic::PacketType::kInitial || h.type == quic::PacketType::kRetry))
            j["token"] = {{"raw", {{"length", h.token_length}}}};
        return j;
    }

    ordered_json raw_length(uint64_t n) const { return ordered_json{{"length", n}}; }

    // Quic events draft §8.13 "QUIC Frames" (kDraft) and qlog 0.3 frames (kQvis03).
    ordered_json frame(const quic::Frame& f, uint64_t ack_delay_exponent) const {
        const bool d = draft();
        ordered_json j;
        std::visit(quic::Overloaded{
                       [&](const quic::PaddingFrame& p) {
                           j["frame_type"] = "padding";
                           j["raw"] = {{"length", p.length}, {"payload_length", p.length}};
                       },
                       [&](const quic::PingFrame&) { j["frame_type"] = "ping"; },
                       [&](const quic::AckFrame& a) {
                           j["frame_type"] = "ack";
                           const int exp =
                               static_cast<int>(std::min<uint64_t>(ack_delay_exponent, 20));
                           // ACK Delay is in microseconds once scaled (§19.3); qlog wants ms.
                           j["ack_delay"] =
                               std::round(std::ldexp(static_cast<double>(a.ack_delay), exp)) / 1e3;
                           ordered_json ranges = ordered_json::array();
                           const size_t n = std::min(a.ranges.size(), kMaxAckRanges);
                           for (size_t i = 0; i < n; ++i) {
                               const quic::AckRange& r = a.ranges[i];
                               if (r.smallest == r.largest)
                                   ranges.push_back({r.smallest});
                               else
                                   ranges.push_back({r.smallest, r.largest});
                           }
                           j["acked_ranges"] = std::move(ranges);
                           const uint64_t omitted = (a.ranges.size() - n) + a.ranges_dropped;
                           if (omitted > 0) j["acked_ranges_omitted"] = omitted;
                           if (a.ecn) {
                               j["ect1"] = a.ecn->ect1;
                               j["ect0"] = a.ecn->ect0;
                               j["ce"] = a.ecn->ce;
                           }
                       },
                       [&](const quic::ResetStreamFrame& r) {
                           j["frame_type"] = "reset_stream";
                           j["stream_id"] = r.stream_id;
                           if (d) j["error"] = "unknown";
                           j["error_code"] = r.application_error_code;
                           j["final_size"] = r.final_size;
                       },
                       [&](const quic::StopSendingFrame& s) {
                           j["frame_type"] = "stop_sending";
                           j["stream_id"] = s.stream_id;
                           if (d) j["error"] = "unknown";
                           j["error_code"] = s.application_error_code;
                       },
                       [&](const quic::CryptoFrame& c) {
                           j["frame_type"] = "crypto";
                           j["offset"] = c.offset;
                           // Draft: "The length field of the Crypto frame MUST be logged in the
                           // qlog raw.length field."
                           if (d)
                               j["raw"] = raw_length(c.data.size());
                           else
                               j["length"] = c.data.size();
                       },
                       [&](const quic::NewTokenFrame& t) {
                           j["frame_type"] = "new_token";
                           // Truncated hexstring: raw.length is the full length (main schema
                           // §11.4).
                           ordered_json raw = {{"length", t.token.size()},
                                               {"data", hex(t.token, kMaxHexBytes)}};
                           if (d)
                               j["token"] = {{"type", "resumption"}, {"raw", std::move(raw)}};
                           else
                               j["token"] = std::move(raw);
                       },
                       [&](const quic::StreamFrame& s) {
                           j["frame_type"] = "stream";
                           j["stream_id"] = s.stream_id;
                           j["offset"] = s.offset;
                           if (d)
                               j["raw"] = raw_length(s.data.size());
                           else
                               j["length"] = s.data.size();
                           if (s.fin) j["fin"] = true;
                       },
                       [&](const quic::MaxDataFrame& m) {
                           j["frame_type"] = "max_data";
                           j["maximum"] = m.maximum_data;
                       },
                       [&](const quic::MaxStreamDataFrame& m) {
                           j["frame_type"] = "max_stream_data";
                           j["stream_id"] = m.stream_id;
                           j["maximum"] = m.maximum_stream_data;
                       },
                       [&](const quic::MaxStreamsFrame& m) {
                           j["frame_type"] = "max_streams";
                           j["stream_type"] = m.bidirectional ? "bidirectional" : "unidirectional";
                           j["maximum"] = m.maximum_streams;
                       },
                       [&](const quic::DataBlockedFrame& b) {
                           j["frame_type"] = "data_blocked";
                           j["limit"] = b.maximum_data;
                       },
                       [&](const quic::StreamDataBlockedFrame& b) {
                           j["frame_type"] = "stream_data_blocked";
                           j["stream_id"] = b.stream_id;
                           j["limit"] = b.maximum_stream_data;
                       },
                       [&](const quic::StreamsBlockedFrame& b) {
                           j["frame_type"] = "streams_blocked";
                           j["stream_type"] = b.bidirectional ? "bidirectional" : "unidirectional";
                           j["limit"] = b.maximum_streams;
                       },
                       [&](const quic::NewConnectionIdFrame& n) {
                           j["frame_type"] = "new_connection_id";
                           j["sequence_number"] = n.sequence_number;
                           j["retire_prior_to"] = n.retire_prior_to;
                           j["connection_id_length"] = n.connection_id.size();
                           j["connection_id"] = cid(n.connection_id);
                           j["stateless_reset_token"] = hex(n.stateless_reset_token, kMaxHexBytes);
                       },
                       [&](const quic::RetireConnectionIdFrame& r) {
                           j["frame_type"] = "retire_connection_id";
                           j["sequence_number"] = r.sequence_number;
                       },
                       [&](const quic::PathChallengeFrame& p) {
                           j["frame_type"] = "path_challenge";
                           j["data"] = hex(p.data, kMaxHexBytes);
                       },
                       [&](const quic::PathResponseFrame& p) {
                           j["frame_type"] = "path_response";
                           j["data"] = hex(p.data, kMaxHexBytes);
                       },
                       [&](const quic::ConnectionCloseFrame& c) {
                           j["frame_type"] = "connection_close";
                           j["error_space"] = c.application ? "application" : "transport";
                           const std::string_view bytes(
                               reinterpret_cast<const char*>(c.reason.data()), c.reason.size());
                           if (d) {
                               j["error"] = c.application ? std::string("unknown")
                                                          : transport_error_qlog_name(c.error_code);
                               j["error_code"] = c.error_code;
                               j["reason"] = truncate_text(bytes, kMaxReasonBytes);
                               if (!c.application && c.frame_type != 0)
                                   j["trigger_frame_type"] = c.frame_type;
                           } else {
                               const std::string name = transport_error_qlog_name(c.error_code);
                               if (!c.application && name != "unknown")
                                   j["error_code"] = name;
                               else
                                   j["error_code"] = c.error_code;
                               j["raw_error_code"] = c.error_code;
                               j["reason"] = truncate_text(bytes, kMaxReasonBytes);
                               if (!c.application && c.frame_type != 0)
                                   j["trigger_frame_type"] = c.frame_type;
                           }
                       },
                       [&](const quic::HandshakeDoneFrame&) { j["frame_type"] = "handshake_done"; },
                       [&](const quic::DatagramFrame& g) {
                           j["frame_type"] = "datagram";
                           if (d)
                               j["raw"] = raw_length(g.data.size());
                           else
                               j["length"] = g.data.size();
                       },
                   },
                   f);
        return j;
    }

    // Quic events draft §5.6/§5.7 packet_sent, packet_received.
    ordered_json packet(const tr::PacketHeaderInfo& h, std::span<const quic::Frame> frames,
                        bool sent) const {
        ordered_json data;
        data["header"] = header(h);
        uint64_t exp = sent ? local_ack_delay_exponent : peer_ack_delay_exponent;
        // Initial and Handshake ACKs: the transport parameters may not be known yet, and
        // RFC 9000 §18.2's default of 3 is what both ends assume before.
        if (h.type == quic::PacketType::kInitial || h.type == quic::PacketType::kHandshake)
            exp = quic::kDefaultAckDelayExponent;
        ordered_json fs = ordered_json::array();
        const size_t n = std::min(frames.size(), kMaxFramesPerPacket);
        for (size_t i = 0; i < n; ++i) fs.push_back(frame(frames[i], exp));
        data["frames"] = std::move(fs);
        if (frames.size() > n) data["frames_omitted"] = frames.size() - n;
        data["raw"] = raw_length(h.length);
        return data;
    }

    ordered_json endpoint_info(const quic::SocketAddress& a, const quic::ConnectionId& c) const {
        ordered_json j;
        if (a.family() == quic::SocketAddress::Family::kIpv4) {
            j["ip_v4"] = ip_string(a);
            j["port_v4"] = a.port();
        } else if (a.family() == quic::SocketAddress::Family::kIpv6) {
            j["ip_v6"] = ip_string(a);
            j["port_v6"] = a.port();
        }
        j["connection_ids"] = ordered_json::array({cid(c)});
        return j;
    }
};

QlogTracer::QlogTracer(const std::filesystem::path& path, quic::Role role,
                       const quic::ConnectionId& odcid, Schema schema) {
    try {
        impl_ = std::make_unique<Impl>(*this, schema, role, odcid.to_hex());
        impl_->buffer.reserve(kWriteBufferBytes + 4096);
        file_ = std::fopen(path.c_str(), "wb");
        // Our own buffer does the batching; stdio's would only copy again.
        if (file_) std::setvbuf(file_, nullptr, _IONBF, 0);
    } catch (...) {
        if (file_) std::fclose(file_);
        file_ = nullptr;
    }
}

QlogTracer::~QlogTracer() {
    if (!impl_) return;
    try {
        impl_->flush();
    } catch (...) {
    }
    impl_->stop();
}

void QlogTracer::flush() {
    try {
        if (impl_) impl_->flush();
    } catch (...) {
        if (impl_) impl_->stop();
    }
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
        ordered_json data;
        if (impl_->draft()) {
            data["local"] = impl_->endpoint_info(path.local, scid);
            data["remote"] = impl_->endpoint_info(path.remote, dcid);
        } else {
            const bool v6 = path.remote.family() == quic::SocketAddress::Family::kIpv6;
            data["ip_version"] = v6 ? "ipv6" : "ipv4";
            data["src_ip"] = ip_string(path.local);
            data["src_port"] = path.local.port();
            data["dst_ip"] = ip_string(path.remote);
            data["dst_port"] = path.remote.port();
            data["src_cid"] = scid.to_hex();
            data["dst_cid"] = dcid.to_hex();
            data["protocol"] = "QUIC";
        }
        impl_->event(t, "quic:connection_started", "transport:connection_started", std::move(data));
    });
}

// Quic events draft §4.6 connection_state_updated.
void QlogTracer::connection_state_updated(Time t, quic::ConnectionState old,
                                          quic::ConnectionState now) {
    QLOG_GUARDED({
        ordered_json data{{"old", state_name(old)}, {"new", state_name(now)}};
        impl_->event(t, "quic:connection_state_updated", "transport:connection_state_updated",
                     std::move(data));
    });
}

// Quic events draft §4.3 connection_closed; qlog 0.3 transport:connection_closed.
void QlogTracer::connection_closed(Time t, const quic::ConnectionClosed& c) {
    QLOG_GUARDED({
        using quic::CloseOrigin;
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
                trigger = impl_->draft() ? "aborted" : "handshake_timeout";
                break;
            case CloseOrigin::kStatelessReset:
                trigger = "stateless_reset";
                break;
            case CloseOrigin::kVersionMismatch:
                trigger = "version_mismatch";
                break;
        }
        ordered_json data;
        const std::string reason = truncate_text(c.error.reason, kMaxReasonBytes);
        if (impl_->draft()) {
            data["initiator"] = remote ? "remote" : "local";
            if (app)
                data["application_error"] = "unknown";
            else
                data["connection_error"] = transport_error_qlog_name(c.error.code);
            data["error_code"] = c.error.code;
            if (!reason.empty()) data["reason"] = reason;
            data["trigger"] = trigger;
            // Which of the core's close origins it was: finer than the draft's triggers.
            data["internal_code"] = static_cast<uint64_t>(c.origin);
        } else {
            data["owner"] = remote ? "remote" : "local";
            if (app)
                data["application_code"] = c.error.code;
            else
                data["connection_code"] = transport_error_qlog_name(c.error.code);
            if (!reason.empty()) data["reason"] = reason;
            data["trigger"] = trigger;
        }
        impl_->event(t, "quic:connection_closed", "transport:connection_closed", std::move(data));
        impl_->flush();  // a closed connection's trace is complete on disk
    });
}

// Quic events draft §5.1 version_information.
void QlogTracer::version_information(Time t, std::span<const quic::Version> ours,
                                     std::span<const quic::Version> peer, quic::Version chosen) {
    QLOG_GUARDED({
        const bool client = impl_->role == quic::Role::kClient;
        ordered_json data;
        if (!ours.empty())
            data[client ? "client_versions" : "server_versions"] = impl_->versions(ours);
        if (!peer.empty())
            data[client ? "server_versions" : "client_versions"] = impl_->versions(peer);
        if (chosen != 0) data["chosen_version"] = version_hex(chosen);
        impl_->event(t, "quic:version_information", "transport:version_information",
                     std::move(data));
    });
}

// Quic events draft §5.2 alpn_information (ALPNIdentifier); qlog 0.3: chosen_alpn is text.
void QlogTracer::alpn_information(Time t, std::string_view chosen) {
    QLOG_GUARDED({
        ordered_json data;
        const std::string text = truncate_text(chosen, kMaxAlpnBytes);
        if (impl_->draft())
            data["chosen_alpn"] = {{"string_value", text}};
        else
            data["chosen_alpn"] = text;
        impl_->event(t, "quic:alpn_information", "transport:alpn_information", std::move(data));
    });
}

// Quic events draft §5.3 parameters_set (qlog 0.3: "owner" instead of "initiator").
void QlogTracer::parameters_set(Time t, bool local, const quic::TransportParameters& p) {
    QLOG_GUARDED({
        (local ? impl_->local_ack_delay_exponent : impl_->peer_ack_delay_exponent) =
            p.ack_delay_exponent;
        ordered_json data;
        data[impl_->draft() ? "initiator" : "owner"] = local ? "local" : "remote";
        if (p.original_destination_connection_id)
            data["original_destination_connection_id"] =
                p.original_destination_connection_id->to_hex();
        if (p.initial_source_connection_id)
            data["initial_source_connection_id"] = p.initial_source_connection_id->to_hex();
        if (p.retry_source_connection_id)
            data["retry_source_connection_id"] = p.retry_source_connection_id->to_hex();
        if (p.stateless_reset_token)
            data["stateless_reset_token"] = hex(*p.stateless_reset_token, kMaxHexBytes);
        data["disable_active_migration"] = p.disable_active_migration;
        data["max_idle_timeout"] = p.max_idle_timeout_ms;
        data["max_udp_payload_size"] = p.max_udp_payload_size;
        data["ack_delay_exponent"] = p.ack_delay_exponent;
        data["max_ack_delay"] = p.max_ack_delay_ms;
        data["active_connection_id_limit"] = p.active_connection_id_limit;
        data["initial_max_data"] = p.initial_max_data;
        data["initial_max_stream_data_bidi_local"] = p.initial_max_stream_data_bidi_local;
        data["initial_max_stream_data_bidi_remote"] = p.initial_max_stream_data_bidi_remote;
        data["initial_max_stream_data_uni"] = p.initial_max_stream_data_uni;
        data["initial_max_streams_bidi"] = p.initial_max_streams_bidi;
        data["initial_max_streams_uni"] = p.initial_max_streams_uni;
        if (p.preferred_address) {
            const quic::PreferredAddress& a = *p.preferred_address;
            const auto v4 = quic::SocketAddress::ipv4(a.ipv4_address, a.ipv4_port);
            const auto v6 = quic::SocketAddress::ipv6(a.ipv6_address, a.ipv6_port);
            data["preferred_address"] = {
                {"ip_v4", ip_string(v4)},
                {"port_v4", a.ipv4_port},
                {"ip_v6", ip_string(v6)},
                {"port_v6", a.ipv6_port},
                {"connection_id", a.connection_id.to_hex()},
                {"stateless_reset_token", hex(a.stateless_reset_token, kMaxHexBytes)}};
        }
        if (p.max_datagram_frame_size) data["max_datagram_frame_size"] = *p.max_datagram_frame_size;
        data["grease_quic_bit"] = p.grease_quic_bit;
        if (p.version_information) {
            // RFC 9368 §3; not in the draft's list, an extension field.
            data["version_information"] = {
                {"chosen_version", version_hex(p.version_information->chosen_version)},
                {"available_versions", impl_->versions(p.version_information->available_versions)}};
        }
        impl_->event(t, "quic:parameters_set", "transport:parameters_set", std::move(data));
    });
}

void QlogTracer::packet_sent(Time t, const tr::PacketHeaderInfo& h,
                             std::span<const quic::Frame> frames) {
    QLOG_GUARDED({
        impl_->event(t, "quic:packet_sent", "transport:packet_sent",
                     impl_->packet(h, frames, true));
    });
}

void QlogTracer::packet_received(Time t, const tr::PacketHeaderInfo& h,
                                 std::span<const quic::Frame> frames) {
    QLOG_GUARDED({
        impl_->event(t, "quic:packet_received", "transport:packet_received",
                     impl_->packet(h, frames, false));
    });
}

// Quic events draft §5.8 packet_dropped.
void QlogTracer::packet_dropped(Time t, quic::PacketType type, size_t size, tr::DropReason why) {
    QLOG_GUARDED({
        ordered_json data;
        data["header"] = {{"packet_type", quic::packet_type_name(type)}};
        data["raw"] = impl_->raw_length(size);
        if (impl_->draft()) {
            data["trigger"] = draft_drop_trigger(why);
            data["details"] = {{"reason", tr::drop_reason_name(why)}};
        } else {
            data["trigger"] = tr::drop_reason_name(why);
        }
        impl_->event(t, "quic:packet_dropped", "transport:packet_dropped", std::move(data));
    });
}

// Quic events draft §5.9 packet_buffered.
void QlogTracer::packet_buffered(Time t, quic::PacketType type, size_t size) {
    QLOG_GUARDED({
        ordered_json data;
        data["header"] = {{"packet_type", quic::packet_type_name(type)}};
        data["raw"] = impl_->raw_length(size);
        data["trigger"] = "keys_unavailable";
        impl_->event(t, "quic:packet_buffered", "transport:packet_buffered", std::move(data));
    });
}

void QlogTracer::version_negotiation_received(Time t, std::span<const quic::Version> versions) {
    QLOG_GUARDED({
        ordered_json data;
        data["header"] = {{"packet_type", "version_negotiation"}};
        data["supported_versions"] = impl_->versions(versions);
        if (versions.size() > kMaxVersions)
            data["supported_versions_omitted"] = versions.size() - kMaxVersions;
        impl_->event(t, "quic:packet_received", "transport:packet_received", std::move(data));
    });
}

void QlogTracer::retry_received(Time t, const quic::ConnectionId& scid, size_t token_length) {
    QLOG_GUARDED({
        ordered_json hdr;
        hdr["packet_type"] = "retry";
        hdr["scil"] = scid.size();
        hdr["scid"] = scid.to_hex();
        hdr["token"] = {{"type", "retry"}, {"raw", {{"length", token_length}}}};
        if (!impl_->draft()) hdr["token"].erase("type");
        impl_->event(t, "quic:packet_received", "transport:packet_received",
                     ordered_json{{"header", std::move(hdr)}});
    });
}

// Quic events draft §7.2 recovery_metrics_updated: only the fields that changed.
void QlogTracer::metrics_updated(Time t, const tr::RecoveryMetrics& m) {
    QLOG_GUARDED({
        const std::optional<tr::RecoveryMetrics>& last = impl_->last_metrics;
        ordered_json data = ordered_json::object();
        auto changed = [&](auto field) { return !last || (*last).*field != m.*field; };
        if (changed(&tr::RecoveryMetrics::min_rtt)) data["min_rtt"] = to_ms(m.min_rtt);
        if (changed(&tr::RecoveryMetrics::smoothed_rtt))
            data["smoothed_rtt"] = to_ms(m.smoothed_rtt);
        if (changed(&tr::RecoveryMetrics::latest_rtt)) data["latest_rtt"] = to_ms(m.latest_rtt);
        if (changed(&tr::RecoveryMetrics::rtt_variance))
            data["rtt_variance"] = to_ms(m.rtt_variance);
        if (changed(&tr::RecoveryMetrics::pto_count)) data["pto_count"] = m.pto_count;
        if (changed(&tr::RecoveryMetrics::congestion_window))
            data["congestion_window"] = m.congestion_window;
        if (changed(&tr::RecoveryMetrics::bytes_in_flight))
            data["bytes_in_flight"] = m.bytes_in_flight;
        if (changed(&tr::RecoveryMetrics::ssthresh) && m.ssthresh < kMaxExactJsonInteger)
            data["ssthresh"] = m.ssthresh;
        if (changed(&tr::RecoveryMetrics::pacing_rate_bps) && m.pacing_rate_bps > 0 &&
            m.pacing_rate_bps < static_cast<double>(kMaxExactJsonInteger))
            data["pacing_rate"] = static_cast<uint64_t>(m.pacing_rate_bps);
        impl_->last_metrics = m;
        if (data.empty()) return;
        impl_->event(t, "quic:recovery_metrics_updated", "recovery:metrics_updated",
                     std::move(data));
    });
}

// Quic events draft §7.3 congestion_state_updated.
void QlogTracer::congestion_state_updated(Time t, std::string_view old, std::string_view now) {
    QLOG_GUARDED({
        ordered_json data;
        if (!old.empty()) data["old"] = truncate_text(old, kMaxStateNameBytes);
        data["new"] = truncate_text(now, kMaxStateNameBytes);
        impl_->event(t, "quic:congestion_state_updated", "recovery:congestion_state_updated",
                     std::move(data));
    });
}

// Quic events draft §7.4 packet_lost.
void QlogTracer::packet_lost(Time t, quic::PacketType type, uint64_t pn, tr::LossTrigger why) {
    QLOG_GUARDED({
        ordered_json data;
        data["header"] = {{"packet_type", quic::packet_type_name(type)}, {"packet_number", pn}};
        data["trigger"] = loss_trigger_name(why);
        impl_->event(t, "quic:packet_lost", "recovery:packet_lost", std::move(data));
    });
}

// Quic events draft §5.16 timer_updated; qlog 0.3 recovery:loss_timer_updated.
void QlogTracer::timer_updated(Time t, tr::TimerKind kind, std::optional<Time> deadline) {
    QLOG_GUARDED({
        ordered_json data;
        data["timer_type"] = timer_type_name(kind, impl_->draft());
        data["event_type"] = deadline ? "set" : "cancelled";
        if (deadline) data["delta"] = to_ms(*deadline - t);
        impl_->event(t, "quic:timer_updated", "recovery:loss_timer_updated", std::move(data));
    });
}

// Quic events draft mtu_updated (qlog 0.3: recovery:mtu_updated).
void QlogTracer::mtu_updated(Time t, size_t old, size_t now, bool done) {
    QLOG_GUARDED({
        ordered_json data;
        data["old"] = old;
        data["new"] = now;
        if (done) data["done"] = true;
        impl_->event(t, "quic:mtu_updated", "recovery:mtu_updated", std::move(data));
    });
}

// Quic events draft §6.1 key_updated; qlog 0.3 security:key_updated ("generation").
void QlogTracer::key_updated(Time t, tr::KeyKind kind, uint64_t generation, tr::KeyTrigger why) {
    QLOG_GUARDED({
        ordered_json data;
        data["key_type"] = key_type_name(kind);
        if (is_one_rtt(kind)) data[impl_->draft() ? "key_phase" : "generation"] = generation;
        data["trigger"] = key_trigger_name(why);
        impl_->event(t, "quic:key_updated", "security:key_updated", std::move(data));
    });
}

// Quic events draft §6.2 key_discarded; qlog 0.3 security:key_retired.
void QlogTracer::key_discarded(Time t, tr::KeyKind kind, uint64_t generation) {
    QLOG_GUARDED({
        ordered_json data;
        data["key_type"] = key_type_name(kind);
        if (is_one_rtt(kind))
            data[impl_->draft() ? "key_phase" : "generation"] = generation;
        else
            data["trigger"] = "tls";
        impl_->event(t, "quic:key_discarded", "security:key_retired", std::move(data));
    });
}

// Quic events draft §5.13 stream_state_updated.
void QlogTracer::stream_state_updated(Time t, uint64_t stream_id, std::string_view state) {
    QLOG_GUARDED({
        ordered_json data;
        data["stream_id"] = stream_id;
        // RFC 9000 §2.1: bit 0x2 of the stream ID is set on unidirectional streams.
        data["stream_type"] = (stream_id & 0x2) ? "unidirectional" : "bidirectional";
        data["new"] = truncate_text(state, kMaxStateNameBytes);
        if (impl_->draft()) data["stream_side"] = stream_side_of(state);
        impl_->event(t, "quic:stream_state_updated", "transport:stream_state_updated",
                     std::move(data));
    });
}

// Quic events draft §5.12 udp_datagrams_received; qlog 0.3 transport:datagrams_received.
void QlogTracer::datagram_received(Time t, size_t size) {
    QLOG_GUARDED({
        ordered_json data;
        data["count"] = 1;
        data["raw"] = ordered_json::array({impl_->raw_length(size)});
        impl_->event(t, "quic:udp_datagrams_received", "transport:datagrams_received",
                     std::move(data));
    });
}

// H3 events draft §4.4/§4.5 frame_created / frame_parsed, §4.2 stream_type_set; qlog 0.3
// http:frame_created, http:frame_parsed, http:stream_type_set.
namespace {

ordered_json http3_frame_json(const quic::trace::Http3Frame& f) {
    ordered_json frame;
    frame["frame_type"] = truncate_text(f.type, kMaxStateNameBytes);
    if (f.type == "headers") {
        ordered_json headers = ordered_json::array();
        for (size_t i = 0; i < f.fields.size() && i < kMaxHttp3Fields; ++i)
            headers.push_back({{"name", truncate_text(f.fields[i].name, kMaxHttp3FieldBytes)},
                               {"value", truncate_text(f.fields[i].value, kMaxHttp3FieldBytes)}});
        frame["headers"] = std::move(headers);
        if (f.fields.size() > kMaxHttp3Fields)
            frame["headers_omitted"] = f.fields.size() - kMaxHttp3Fields;
    } else if (f.type == "settings") {
        ordered_json settings = ordered_json::array();
        for (const auto& [id, value] : f.settings) {
            const char* name = id == 0x01   ? "settings_qpack_max_table_capacity"
                               : id == 0x06 ? "settings_max_field_section_size"
                               : id == 0x07 ? "settings_qpack_blocked_streams"
                                            : "unknown";
            settings.push_back({{"name", name}, {"value", value}});
        }
        frame["settings"] = std::move(settings);
    } else if (f.id) {
        frame["id"] = *f.id;
    }
    if (f.length) frame["raw"] = {{"payload_length", f.length}};
    return frame;
}

}  // namespace

void QlogTracer::http3_frame_created(Time t, uint64_t stream_id, const quic::trace::Http3Frame& f) {
    QLOG_GUARDED({
        ordered_json data;
        data["stream_id"] = stream_id;
        data["frame"] = http3_frame_json(f);
        impl_->event(t, "http3:frame_created", "http:frame_created", std::move(data));
    });
}

void QlogTracer::http3_frame_parsed(Time t, uint64_t stream_id, const quic::trace::Http3Frame& f) {
    QLOG_GUARDED({
        ordered_json data;
        data["stream_id"] = stream_id;
        data["frame"] = http3_frame_json(f);
        impl_->event(t, "http3:frame_parsed", "http:frame_parsed", std::move(data));
    });
}

void QlogTracer::http3_stream_type_set(Time t, uint64_t stream_id, bool local,
                                       std::string_view type) {
    QLOG_GUARDED({
        ordered_json data;
        data[impl_->draft() ? "initiator" : "owner"] = local ? "local" : "remote";
        data["stream_id"] = stream_id;
        data["stream_type"] = truncate_text(type, kMaxStateNameBytes);
        impl_->event(t, "http3:stream_type_set", "http:stream_type_set", std::move(data));
    });
}

#undef QLOG_GUARDED

std::shared_ptr<quic::trace::Tracer> make_file_tracer(const std::filesystem::path& dir,
                                                      quic::Role role,
                                                      const quic::ConnectionId& odcid,
                                                      Schema schema) {
    try {
        std::error_code ec;
        std::filesystem::create_directories(dir, ec);
        auto t =
            std::make_shared<QlogTracer>(dir / trace_file_name(role, odcid), role, odcid, schema);
        if (!t->ok()) return nullptr;
        return t;
    } catch (...) {
        return nullptr;
    }
}

}  // namespace qlog
