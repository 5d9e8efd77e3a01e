#include "http3/session_impl.h"

#include "quic/overloaded.h"
#include "quic/tracer.h"

#include <algorithm>

#include "http3/frame.h"
#include "http3/grease.h"
#include "http3/limits.h"
#include "http3/stream_types.h"
#include "quic/http3/message.h"
#include "quic/varint.h"
#include "stream/stream_id.h"

namespace quic::h3 {
namespace {

constexpr uint64_t kData = to_underlying(FrameType::kData);
constexpr uint64_t kHeaders = to_underlying(FrameType::kHeaders);
constexpr uint64_t kPushPromise = to_underlying(FrameType::kPushPromise);

// Bytes read from a stream at once into the session's scratch buffer (uni streams, HEADERS
// and skipped payloads). DATA payloads never pass through it.
constexpr size_t kScratchSize = 16 * 1024;

// A frame header is two varints (§7.1): at most 16 bytes.
constexpr size_t kMaxFrameHeader = 16;

uint64_t read_varint_at(const uint8_t* p, size_t len) {
    uint64_t v = p[0] & 0x3f;
    for (size_t i = 1; i < len; ++i) v = (v << 8) | p[i];
    return v;
}

Error stream_creation(const char* why) {
    return h3_error(H3Error::kStreamCreationError, why);
}

}  // namespace

// A request stream (§4.1, §6.1): the frames we read, the message we deliver, and our side.
struct SessionImpl::RequestStream {
    RequestStream(uint64_t stream_id, Perspective p, uint64_t max_headers_payload)
        : id(stream_id), reader(p, RequestStreamReader::Kind::kRequest, max_headers_payload) {}

    uint64_t id;
    // Validates the frame sequence (§4.1) and reassembles HEADERS payloads. The session
    // tracks frame boundaries alongside it so that it never reads past the current frame
    // from the connection: a DATA payload stays there until read_body().
    RequestStreamReader reader;
    uint8_t hdr[kMaxFrameHeader] = {};
    size_t hdr_len = 0;
    bool in_payload = false;
    uint64_t frame_type = 0;
    uint64_t frame_remaining = 0;
    // A decoded-but-not-yet header section (waiting on QPACK, RFC 9204 §2.2.1) and the
    // header budget held for the HEADERS frame being read or waiting.
    std::optional<HeaderSection> section;
    size_t header_reserved = 0;
    bool counted_blocked = false;
    bool fin_seen = false;  // the stream's end was read while a section waits on QPACK

    // Receiving.
    bool app_knows = false;      // the application has seen the stream
    bool final_headers = false;  // the (final) header section was delivered
    bool body_done = false;      // trailers started or FIN reached: no more body
    bool recv_done = false;      // the message ended (or reading was abandoned)
    bool body_notified = false;  // BodyReadable sent since the last read_body()
    std::optional<uint64_t> content_length;
    uint64_t body_received = 0;
    bool head_request = false;  // client: the request was HEAD (§4.1.2: no content)
    bool no_content = false;    // the message has no content whatever Content-Length says

    // Sending.
    bool headers_sent = false;  // our (final) header section
    bool send_done = false;     // FIN queued (maybe still in `pending`), or our side reset
    Bytes pending;              // frame bytes the connection has not accepted yet
    bool fin_pending = false;

    bool dead = false;  // forgotten: erased at the end of the current call
};

// A unidirectional stream the peer opened (§6.2).
struct SessionImpl::PeerUniStream {
    UniStreamHeaderReader header;
    std::optional<UniStreamKind> kind;
    bool ignored = false;  // unknown or reserved type: STOP_SENDING sent, data discarded
};

SessionImpl::SessionImpl(std::shared_ptr<Connection> connection, Perspective perspective,
                         SessionConfig config)
    : conn_(std::move(connection)),
      perspective_(perspective),
      config_(config),
      encoder_(QpackEncoderOptions{config.qpack_max_table_capacity, true}),
      decoder_(QpackDecoderOptions{config.qpack_max_table_capacity, config.qpack_blocked_streams,
                                   config.max_field_section_size, 0}),
      control_reader_(perspective),
      scratch_(kScratchSize) {}

SessionImpl::~SessionImpl() = default;

// --- tracing (qlog http3 events); nothing is built without a tracer ----------------------

namespace {

std::vector<std::pair<uint64_t, uint64_t>> settings_pairs(const Settings& s) {
    std::vector<std::pair<uint64_t, uint64_t>> out;
    if (s.qpack_max_table_capacity) out.emplace_back(0x01, *s.qpack_max_table_capacity);
    if (s.max_field_section_size) out.emplace_back(0x06, *s.max_field_section_size);
    if (s.qpack_blocked_streams) out.emplace_back(0x07, *s.qpack_blocked_streams);
    for (const Setting& o : s.others) out.emplace_back(o.id, o.value);
    return out;
}

}  // namespace

void SessionImpl::trace_frame(bool created, uint64_t stream_id, std::string_view type,
                              uint64_t length, std::span<const Field> fields,
                              const Settings* settings, std::optional<uint64_t> id) const {
    trace::Tracer* t = conn_->tracer();
    if (!t) return;
    std::vector<trace::FieldView> views;
    views.reserve(fields.size());
    for (const Field& f : fields) views.push_back({f.name, f.value});
    const auto pairs =
        settings ? settings_pairs(*settings) : std::vector<std::pair<uint64_t, uint64_t>>{};
    trace::Http3Frame frame{type, length, views, pairs, id};
    if (created)
        t->http3_frame_created(now_, stream_id, frame);
    else
        t->http3_frame_parsed(now_, stream_id, frame);
}

void SessionImpl::trace_stream_type(uint64_t stream_id, bool local, std::string_view type) const {
    if (trace::Tracer* t = conn_->tracer()) t->http3_stream_type_set(now_, stream_id, local, type);
}

SessionStats SessionImpl::stats() const {
    SessionStats s = stats_;
    s.encoder_insert_count = encoder_.insert_count();
    s.decoder_insert_count = decoder_.insert_count();
    return s;
}

// --- start and our unidirectional streams ----------------------------------------------------

Status SessionImpl::start() {
    if (started_) return {};
    started_ = true;
    // §6.2.1: "Each side MUST initiate a single control stream at the beginning of the
    // connection and send its SETTINGS frame as the first frame on this stream."
    // The four defined stream types are one-byte varints (§6.2, RFC 9204 §4.2).
    Bytes control{static_cast<uint8_t>(UniStreamType::kControl)};
    Settings ours;
    ours.qpack_max_table_capacity = config_.qpack_max_table_capacity;
    ours.max_field_section_size = config_.max_field_section_size;
    ours.qpack_blocked_streams = config_.qpack_blocked_streams;
    encode_settings_frame(control, ours, config_.grease);
    // §7.2.8: reserved frame types exercise the peer's "ignore unknown frames" (§9).
    if (config_.grease) encode_grease_frame(control, *config_.grease);
    local_[kControl].pending = std::move(control);
    local_[kControl].wanted = true;

    // RFC 9204 §4.2: one encoder and one decoder stream, opened whether or not they are used.
    Bytes enc{static_cast<uint8_t>(UniStreamType::kQpackEncoder)};
    enc.insert(enc.end(), local_[kEncoder].pending.begin(), local_[kEncoder].pending.end());
    local_[kEncoder].pending = std::move(enc);
    local_[kEncoder].wanted = true;
    Bytes dec{static_cast<uint8_t>(UniStreamType::kQpackDecoder)};
    dec.insert(dec.end(), local_[kDecoder].pending.begin(), local_[kDecoder].pending.end());
    local_[kDecoder].pending = std::move(dec);
    local_[kDecoder].wanted = true;

    if (config_.grease) {
        // §6.2.3: a reserved stream type with a few meaningless bytes, then FIN.
        Bytes g;
        encode_uni_stream_header(g, random_grease_codepoint(*config_.grease));
        const size_t n = static_cast<size_t>(config_.grease->uniform(8));
        for (size_t i = 0; i < n; ++i)
            g.push_back(static_cast<uint8_t>(config_.grease->uniform(256)));
        local_[kGrease].pending = std::move(g);
        local_[kGrease].fin = true;
        local_[kGrease].wanted = true;
    }
    local_settings_ = ours;
    open_local_streams();
    return {};
}

// Opens the streams start() asked for, in order (control first); those the peer's limit does
// not allow yet wait for StreamsAvailable or HandshakeCompleted.
void SessionImpl::open_local_streams() {
    if (closed_) return;
    static constexpr const char* kTypes[] = {"control", "qpack_encode", "qpack_decode"};
    for (int i = 0; i < 4; ++i) {
        LocalStream& l = local_[i];
        if (!l.wanted || l.id) continue;
        auto r = conn_->open_stream(false);
        if (!r) return;
        l.id = *r;
        if (i < 3) trace_stream_type(*l.id, true, kTypes[i]);
        if (i == kControl) trace_frame(true, *l.id, "settings", 0, {}, &local_settings_);
    }
    for (int i = 0; i < 4; ++i) flush_local(i);
}

void SessionImpl::write_local(int which, ByteSpan data) {
    LocalStream& l = local_[which];
    l.pending.insert(l.pending.end(), data.begin(), data.end());
    flush_local(which);
}

void SessionImpl::flush_local(int which) {
    LocalStream& l = local_[which];
    if (!l.id || closed_ || (l.pending.empty() && !l.fin)) return;
    auto r = conn_->write(*l.id, l.pending, l.fin);
    if (!r) return;  // closed connection: nothing more to do
    bytes_written_ += *r;
    l.pending.erase(l.pending.begin(), l.pending.begin() + static_cast<std::ptrdiff_t>(*r));
    if (l.pending.empty() && l.fin) l.wanted = false, l.fin = false;
}

void SessionImpl::flush_encoder_stream() {
    if (!encoder_.has_encoder_stream_data()) return;
    Bytes b = encoder_.take_encoder_stream_data();
    write_local(kEncoder, b);
}

void SessionImpl::flush_decoder_stream() {
    Bytes b = decoder_.take_decoder_stream_data();
    if (!b.empty()) write_local(kDecoder, b);
}

// --- events -----------------------------------------------------------------------------------

std::optional<SessionEvent> SessionImpl::poll_event(Time now) {
    now_ = now;
    if (expire_header_deadlines())
        std::erase_if(streams_, [](const auto& p) { return p.second->dead; });
    for (;;) {
        if (!events_.empty()) {
            SessionEvent ev = std::move(events_.front());
            events_.pop_front();
            return ev;
        }
        if (auto ev = conn_->poll_event()) {
            handle(*ev);
            std::erase_if(streams_, [](const auto& p) { return p.second->dead; });
            continue;
        }
        const bool was_closed = closed_;
        check_shutdown();
        if (closed_ != was_closed) continue;  // the ConnectionClosed event is queued now
        return std::nullopt;
    }
}

std::optional<Time> SessionImpl::next_timeout() const {
    if (closed_) return std::nullopt;
    std::optional<Time> t = linger_deadline_;
    // The front may belong to a stream already served: an early wake-up, nothing worse.
    if (!header_deadlines_.empty() && (!t || header_deadlines_.front().first < *t))
        t = header_deadlines_.front().first;
    return t;
}

bool SessionImpl::expire_header_deadlines() {
    bool rejected = false;
    while (!header_deadlines_.empty() && !closed_) {
        const auto [deadline, id] = header_deadlines_.front();
        RequestStream* s = find(id);
        const bool waiting = s && !s->dead && !s->final_headers;
        if (waiting && deadline > now_) break;
        header_deadlines_.pop_front();
        if (!waiting) continue;
        rejected = true;
        ++stats_.requests_timed_out;
        // Not processed: the client may retry it (§8.1). The application never saw it.
        abort_stream(*s, to_underlying(H3Error::kRequestRejected), false);
    }
    return rejected;
}

void SessionImpl::handle(const ConnectionEvent& ev) {
    std::visit(
        Overloaded{
            [&](const StreamOpened& e) { on_stream_opened(e.stream_id); },
            [&](const StreamReadable& e) { on_readable(e.stream_id); },
            [&](const StreamResetReceived& e) { on_reset(e.stream_id, e.error_code); },
            [&](const StopSendingReceived& e) { on_stop_sending(e.stream_id, e.error_code); },
            [&](const StreamWritable& e) { on_writable(e.stream_id); },
            [&](const HandshakeCompleted& e) {
                if (started_) open_local_streams();
                events_.push_back(e);
            },
            [&](const StreamsAvailable& e) {
                if (started_ && !e.bidirectional) open_local_streams();
                events_.push_back(e);
            },
            [&](const ConnectionClosed& e) {
                closed_ = true;
                events_.push_back(e);
            },
            [&](const auto& e) { events_.push_back(e); },
        },
        ev);
}

void SessionImpl::fail(const Error& e) {
    if (closed_) return;
    // Every error the building blocks return is an H3 or QPACK one; anything else would be
    // our bug, reported as H3_INTERNAL_ERROR (§8.1).
    const uint64_t code =
        e.space == ErrorSpace::kApplication ? e.code : to_underlying(H3Error::kInternalError);
    conn_->close(now_, code, e.reason);
    closed_ = true;
}

void SessionImpl::close(Time now, uint64_t code, std::string reason) {
    now_ = now;
    fail(Error::application(code, std::move(reason)));
}

// --- peer streams ------------------------------------------------------------------------------

void SessionImpl::on_stream_opened(uint64_t id) {
    if (closed_) return;
    const StreamInitiator local =
        perspective_ == Perspective::kClient ? StreamInitiator::kClient : StreamInitiator::kServer;
    if (is_locally_initiated(id, local)) return;
    if (is_unidirectional(id)) {
        if (!uni_.count(id)) uni_[id] = std::make_unique<PeerUniStream>();
        return;
    }
    if (perspective_ == Perspective::kClient) {
        // §6.1: "Clients MUST treat receipt of a server-initiated bidirectional stream as a
        // connection error of type H3_STREAM_CREATION_ERROR".
        return fail(stream_creation("server-initiated bidirectional stream"));
    }
    if (stream_index(id) < next_peer_request_index_) return;
    next_peer_request_index_ = stream_index(id) + 1;
    if (goaway_sent_ && id >= *goaway_sent_) {
        // §5.2: requests at or above the GOAWAY identifier are not processed; rejecting them
        // tells the client it may retry elsewhere (H3_REQUEST_REJECTED, §8.1).
        (void)conn_->stop_sending(id, to_underlying(H3Error::kRequestRejected));
        (void)conn_->reset_stream(id, to_underlying(H3Error::kRequestRejected));
        return;
    }
    add_stream(id);
    if (config_.request_header_timeout > Duration::zero()) {
        compact_header_deadlines();
        header_deadlines_.emplace_back(now_ + config_.request_header_timeout, id);
    }
}

// Drops the deadlines of requests that have their headers or are gone, once the queue holds
// twice the streams we track (kMinHeaderDeadlineCompaction): what is left is the requests still
// waiting, at most the streams open, so the next compaction is as far off as this one cost.
void SessionImpl::compact_header_deadlines() {
    if (header_deadlines_.size() < std::max(kMinHeaderDeadlineCompaction, 2 * streams_.size()))
        return;
    std::erase_if(header_deadlines_, [this](const std::pair<Time, uint64_t>& e) {
        const RequestStream* s = find(e.second);
        return !s || s->final_headers;
    });
}

SessionImpl::RequestStream* SessionImpl::find(uint64_t id) {
    auto it = streams_.find(id);
    if (it == streams_.end() || it->second->dead) return nullptr;
    return it->second.get();
}

SessionImpl::RequestStream& SessionImpl::add_stream(uint64_t id) {
    const uint64_t max_payload =
        std::max<uint64_t>(kMaxHeadersFramePayload, config_.max_field_section_size);
    auto s = std::make_unique<RequestStream>(id, perspective_, max_payload);
    RequestStream& ref = *s;
    streams_[id] = std::move(s);
    return ref;
}

void SessionImpl::on_readable(uint64_t id) {
    if (closed_) return;
    if (is_unidirectional(id)) {
        auto it = uni_.find(id);
        if (it == uni_.end()) return;
        read_uni(id, *it->second);
        return;
    }
    if (perspective_ == Perspective::kServer && !find(id) &&
        stream_index(id) >= next_peer_request_index_)
        on_stream_opened(id);
    if (RequestStream* s = find(id)) pump(*s);
}

void SessionImpl::on_reset(uint64_t id, uint64_t code) {
    if (closed_) return;
    if (is_unidirectional(id)) {
        if (id == peer_control_ || id == peer_encoder_ || id == peer_decoder_)
            return fail(h3_error(H3Error::kClosedCriticalStream, "critical stream reset"));
        bool fin = false;
        (void)conn_->read(id, {}, &fin);  // consumes the reset so the connection forgets it
        uni_.erase(id);
        return;
    }
    RequestStream* s = find(id);
    bool fin = false;
    (void)conn_->read(id, {}, &fin);
    // A request abandoned before our response was complete (or before we even saw it).
    if (perspective_ == Perspective::kServer && (!s || !s->send_done) && !rapid_resets_.take(now_))
        return fail(h3_error(H3Error::kExcessiveLoad,
                             "too many requests reset by the client (rapid reset)"));
    if (!s) return;
    // RFC 9204 §2.2.2.2: the encoder must learn that this stream's sections are abandoned.
    decoder_.cancel_stream(id);
    flush_decoder_stream();
    release_header_budget(*s);
    s->recv_done = true;
    if (!s->send_done) {
        // Our message cannot be used by a peer that abandoned the exchange (§4.1.1).
        (void)conn_->reset_stream(id, to_underlying(H3Error::kRequestCancelled));
        s->send_done = true;
        s->pending.clear();
        s->fin_pending = false;
    }
    if (s->app_knows) events_.push_back(StreamAborted{id, code, AbortOrigin::kPeerReset});
    forget(id);
}

void SessionImpl::on_stop_sending(uint64_t id, uint64_t code) {
    if (closed_) return;
    for (const LocalStream& l : local_)
        if (l.id == id && &l != &local_[kGrease])
            // §6.2.1, RFC 9204 §4.2: the peer may not close our critical streams.
            return fail(
                h3_error(H3Error::kClosedCriticalStream, "STOP_SENDING on a critical stream"));
    RequestStream* s = find(id);
    if (!s) return;
    // The connection answered with RESET_STREAM: our half is over.
    s->send_done = true;
    s->pending.clear();
    s->fin_pending = false;
    // §4.1.1: H3_NO_ERROR asks us to stop sending a request whose response is already
    // complete; anything else is an abort the application should hear about.
    if (code != to_underlying(H3Error::kNoError) && s->app_knows)
        events_.push_back(StreamAborted{id, code, AbortOrigin::kPeerStopSending});
    maybe_finish(*s);
}

void SessionImpl::on_writable(uint64_t id) {
    for (int i = 0; i < 4; ++i)
        if (local_[i].id == id) return flush_local(i);
    RequestStream* s = find(id);
    if (!s) return;
    auto st = flush_stream(*s);
    if (!st) return;
    if (!s->pending.empty()) return;  // still refused: another StreamWritable follows
    maybe_finish(*s);
    if (s->app_knows) events_.push_back(StreamWritable{id});
}

void SessionImpl::read_uni(uint64_t id, PeerUniStream& u) {
    while (!closed_) {
        bool fin = false;
        auto r = conn_->read(id, scratch_, &fin);
        if (!r) {
            // Reset (StreamResetReceived handles critical streams) or already forgotten.
            if (!(id == peer_control_ || id == peer_encoder_ || id == peer_decoder_))
                uni_.erase(id);
            return;
        }
        ByteReader in(ByteSpan(scratch_).first(*r));
        if (!u.kind && !u.ignored) {
            auto h = u.header.next(in);
            if (h) {
                u.kind = h->kind;
                static constexpr const char* kKinds[] = {"control",      "push",     "qpack_encode",
                                                         "qpack_decode", "reserved", "unknown"};
                const size_t k = static_cast<size_t>(h->kind);
                trace_stream_type(id, false, k < 6 ? kKinds[k] : "unknown");
                auto st = on_uni_header(id, u);
                if (!st) return fail(st.error());
            }
        }
        if (u.kind && !u.ignored && in.remaining() > 0) {
            auto st = on_uni_data(u, in.rest());
            if (!st) return fail(st.error());
        }
        if (fin) {
            if (u.kind && !u.ignored &&
                (u.kind == UniStreamKind::kControl || u.kind == UniStreamKind::kQpackEncoder ||
                 u.kind == UniStreamKind::kQpackDecoder))
                // §6.2.1, RFC 9204 §4.2: "the receiver MUST treat closure of either ... as a
                // connection error of type H3_CLOSED_CRITICAL_STREAM".
                return fail(h3_error(H3Error::kClosedCriticalStream, "critical stream closed"));
            // §6.2: a stream closed before its type arrived, or an ignored one: tolerated.
            uni_.erase(id);
            return;
        }
        if (*r == 0) return;
    }
}

Status SessionImpl::on_uni_header(uint64_t id, PeerUniStream& u) {
    switch (*u.kind) {
        case UniStreamKind::kControl:
            // §6.2.1: "Only one control stream per peer is permitted".
            if (peer_control_) return stream_creation("second control stream");
            peer_control_ = id;
            return {};
        case UniStreamKind::kQpackEncoder:
            // RFC 9204 §4.2: a second encoder or decoder stream is H3_STREAM_CREATION_ERROR.
            if (peer_encoder_) return stream_creation("second QPACK encoder stream");
            peer_encoder_ = id;
            return {};
        case UniStreamKind::kQpackDecoder:
            if (peer_decoder_) return stream_creation("second QPACK decoder stream");
            peer_decoder_ = id;
            return {};
        case UniStreamKind::kPush:
            // §6.2.2: only servers push; a client-initiated push stream is
            // H3_STREAM_CREATION_ERROR. We never send MAX_PUSH_ID, so any push ID a server
            // uses exceeds the maximum: H3_ID_ERROR (§4.6).
            if (perspective_ == Perspective::kServer)
                return stream_creation("push stream from a client");
            return h3_error(H3Error::kIdError, "push stream without MAX_PUSH_ID");
        case UniStreamKind::kReserved:
        case UniStreamKind::kUnknown:
            // §6.2: "Recipients of unknown stream types MUST either abort reading of the
            // stream or discard incoming data without further processing"; §6.2.3 suggests
            // STOP_SENDING with H3_STREAM_CREATION_ERROR.
            (void)conn_->stop_sending(id, to_underlying(H3Error::kStreamCreationError));
            u.ignored = true;
            return {};
    }
    return {};
}

Status SessionImpl::on_uni_data(PeerUniStream& u, ByteSpan data) {
    switch (*u.kind) {
        case UniStreamKind::kControl: {
            auto frames = control_reader_.feed(data);
            if (!frames) return std::move(frames).error();
            for (const ControlFrame& f : *frames) QUIC_TRY(on_control_frame(f));
            return {};
        }
        case UniStreamKind::kQpackEncoder:
            QUIC_TRY(decoder_.on_encoder_stream_data(data));
            return on_encoder_stream_progress();
        case UniStreamKind::kQpackDecoder:
            QUIC_TRY(encoder_.on_decoder_stream_data(data));
            return {};
        default:
            return {};
    }
}

Status SessionImpl::on_control_frame(const ControlFrame& f) {
    return std::visit(
        Overloaded{
            [&](const SettingsFrame& s) -> Status {
                peer_settings_ = s.settings;
                trace_frame(false, peer_control_.value_or(0), "settings", 0, {}, &s.settings);
                // RFC 9204 §3.2.3: our encoder may use up to the peer's maximum
                // capacity.
                encoder_.apply_peer_settings(s.settings.qpack_max_table_capacity_or_default(),
                                             s.settings.qpack_blocked_streams_or_default());
                flush_encoder_stream();
                return {};
            },
            [&](const GoawayFrame& g) -> Status {
                goaway_received_ = g.id;
                trace_frame(false, peer_control_.value_or(0), "goaway", 0, {}, nullptr, g.id);
                events_.push_back(GoAwayReceived{g.id});
                after_goaway();
                return {};
            },
            [&](const CancelPushFrame&) -> Status {
                // §7.2.3: no push was ever allowed or promised, so the push ID is
                // beyond the maximum (client) or was never promised (server):
                // H3_ID_ERROR either way.
                return h3_error(H3Error::kIdError, "CANCEL_PUSH without any push");
            },
            [&](const MaxPushIdFrame&) -> Status { return {}; },  // we never push
        },
        f);
}

// §5.2: requests at or above a server's GOAWAY identifier were not and will not be processed;
// they may be retried on another connection.
void SessionImpl::after_goaway() {
    if (perspective_ != Perspective::kClient || !goaway_received_) return;
    for (auto& [id, s] : streams_) {
        if (s->dead || id < *goaway_received_) continue;
        (void)conn_->stop_sending(id, to_underlying(H3Error::kRequestCancelled));
        (void)conn_->reset_stream(id, to_underlying(H3Error::kRequestCancelled));
        decoder_.cancel_stream(id);
        release_header_budget(*s);
        events_.push_back(
            StreamAborted{id, to_underlying(H3Error::kRequestRejected), AbortOrigin::kLocal});
        s->dead = true;
    }
    flush_decoder_stream();
}

Status SessionImpl::on_encoder_stream_progress() {
    flush_decoder_stream();
    for (uint64_t id : decoder_.take_unblocked_streams()) {
        RequestStream* s = find(id);
        if (!s || !s->section) continue;
        QUIC_TRY(decode_section(*s));
        if (RequestStream* again = find(id); again && !again->section) {
            bool stop = false;
            QUIC_TRY(pump_frames(*again, &stop));
        }
    }
    return {};
}

// --- request streams: receiving --------------------------------------------------------------

void SessionImpl::pump(RequestStream& s) {
    bool stop = false;
    auto st = pump_frames(s, &stop);
    if (!st) fail(st.error());
}

// Reads frame headers, HEADERS payloads and skipped payloads until a DATA payload (left for
// read_body), a blocked section, the end of what arrived, or the end of the stream. *stop is
// set when the stream cannot progress without the application.
Status SessionImpl::pump_frames(RequestStream& s, bool* stop) {
    const uint64_t id = s.id;
    while (!closed_ && !s.dead && !s.recv_done && !s.section) {
        if (s.fin_seen) return on_fin(s);
        if (s.in_payload && s.frame_type == kData) {
            if (!s.body_notified) {
                s.body_notified = true;
                events_.push_back(BodyReadable{id});
            }
            *stop = true;
            return {};
        }
        bool fin = false;
        if (s.in_payload) {
            const size_t want =
                static_cast<size_t>(std::min<uint64_t>(s.frame_remaining, scratch_.size()));
            auto r = conn_->read(id, MutableByteSpan(scratch_).first(want), &fin);
            if (!r) return {};  // reset: StreamResetReceived follows
            s.frame_remaining -= *r;
            if (s.frame_remaining == 0) s.in_payload = false, s.hdr_len = 0;
            QUIC_TRY(feed_reader(s, ByteSpan(scratch_).first(*r)));
            if (fin) {
                // A section blocked on QPACK is delivered before the end of the message.
                s.fin_seen = true;
                if (!s.section && !s.dead) return on_fin(s);
                return {};
            }
            if (*r == 0) return {};
            continue;
        }
        // A frame header: read exactly the bytes of its two varints (§7.1).
        size_t need = 1;
        size_t type_len = 0;
        if (s.hdr_len > 0) {
            type_len = varint_length_from_first_byte(s.hdr[0]);
            if (s.hdr_len < type_len) {
                need = type_len - s.hdr_len;
            } else if (s.hdr_len > type_len) {
                need = type_len + varint_length_from_first_byte(s.hdr[type_len]) - s.hdr_len;
            }
        }
        auto r = conn_->read(id, MutableByteSpan(s.hdr + s.hdr_len, need), &fin);
        if (!r) return {};
        s.hdr_len += *r;
        if (s.hdr_len > 0) type_len = varint_length_from_first_byte(s.hdr[0]);
        const bool complete =
            s.hdr_len > type_len &&
            s.hdr_len == type_len + varint_length_from_first_byte(s.hdr[type_len]);
        if (complete) {
            s.frame_type = read_varint_at(s.hdr, type_len);
            s.frame_remaining = read_varint_at(s.hdr + type_len, s.hdr_len - type_len);
            const size_t header_len = s.hdr_len;
            s.in_payload = s.frame_remaining > 0;
            s.hdr_len = 0;
            if (s.frame_type == kPushPromise && perspective_ == Perspective::kClient)
                // We never sent MAX_PUSH_ID: every push ID exceeds it (§7.2.5, §4.6).
                return h3_error(H3Error::kIdError, "PUSH_PROMISE without MAX_PUSH_ID");
            // The reader checks the type against the stream's state (§4.1) and the length
            // against its cap before anything is buffered.
            uint8_t copy[kMaxFrameHeader];
            std::copy(s.hdr, s.hdr + header_len, copy);
            const bool trailers = s.frame_type == kHeaders && s.final_headers;
            QUIC_TRY(feed_reader(s, ByteSpan(copy, header_len)));
            if (s.dead) return {};
            if (trailers) s.body_done = true;
            if (s.frame_type == kHeaders && s.in_payload) {
                const size_t len = static_cast<size_t>(s.frame_remaining);
                if (header_bytes_buffered_ + len > config_.max_buffered_header_bytes) {
                    // Too many header sections in flight at once: refuse this stream only.
                    const bool server_request =
                        perspective_ == Perspective::kServer && !s.app_knows;
                    abort_stream(s,
                                 to_underlying(server_request ? H3Error::kRequestRejected
                                                              : H3Error::kExcessiveLoad),
                                 s.app_knows);
                    return {};
                }
                header_bytes_buffered_ += len;
                s.header_reserved += len;
            }
        }
        if (fin) {
            s.fin_seen = true;
            if (!s.section && !s.dead) return on_fin(s);
            return {};
        }
        if (*r == 0) return {};
    }
    return {};
}

Status SessionImpl::feed_reader(RequestStream& s, ByteSpan bytes) {
    ByteReader in(bytes);
    while (!s.dead) {
        auto e = s.reader.next(in);
        if (!e) return std::move(e).error();
        if (!*e) return {};
        if (auto* h = std::get_if<HeaderSection>(&**e)) {
            QUIC_TRY(on_header_section(s, std::move(*h)));
        } else if (std::holds_alternative<PushPromiseFrame>(**e)) {
            return h3_error(H3Error::kIdError, "PUSH_PROMISE without MAX_PUSH_ID");
        }
        // DataChunks: read_body counts DATA bytes itself.
    }
    return {};
}

Status SessionImpl::on_header_section(RequestStream& s, HeaderSection section) {
    s.section = std::move(section);
    s.counted_blocked = false;
    return decode_section(s);
}

Status SessionImpl::decode_section(RequestStream& s) {
    auto r = decoder_.decode(s.id, s.section->encoded_field_section);
    if (!r) return std::move(r).error();  // QPACK_DECOMPRESSION_FAILED: connection error
    flush_decoder_stream();
    DecodedFieldSection& d = *r;
    if (d.status == DecodedFieldSection::Status::kBlocked) {
        // RFC 9204 §2.2.1: keep the section (its budget stays reserved) and stop reading the
        // stream until the encoder stream brings the entries it needs.
        if (!s.counted_blocked) ++stats_.sections_blocked, s.counted_blocked = true;
        return {};
    }
    s.section.reset();
    release_header_budget(s);
    if (d.status == DecodedFieldSection::Status::kTooLarge) {
        // §4.2.2: a section above our SETTINGS_MAX_FIELD_SECTION_SIZE. Our choice: a server
        // answers a request's header section with 431 (Request Header Fields Too Large,
        // RFC 6585 §5) and stops reading the request (H3_NO_ERROR: the response is complete,
        // §4.1.1); anything else (responses, trailers) resets the stream with
        // H3_EXCESSIVE_LOAD (§10.5.1).
        if (perspective_ == Perspective::kServer && !s.final_headers && !s.headers_sent) {
            s.app_knows = false;
            s.final_headers = true;
            s.recv_done = true;
            (void)conn_->stop_sending(s.id, to_underlying(H3Error::kNoError));
            std::vector<Field> answer{{":status", "431"}, {"content-length", "0"}};
            auto frame = encode_headers_frame(s.id, answer);
            if (!frame) return std::move(frame).error();
            s.headers_sent = true;
            s.send_done = true;
            QUIC_TRY(write_frame_bytes(s, std::move(frame).value(), true));
            maybe_finish(s);
            return {};
        }
        abort_stream(s, to_underlying(H3Error::kExcessiveLoad), s.app_knows);
        return {};
    }
    ++stats_.sections_decoded;
    if (d.required_insert_count > 0) ++stats_.sections_decoded_dynamic;
    trace_frame(false, s.id, "headers", 0, d.fields);
    return deliver_section(s, std::move(d.fields));
}

Status SessionImpl::deliver_section(RequestStream& s, std::vector<Field> fields) {
    const uint64_t id = s.id;
    const uint64_t message_error = to_underlying(H3Error::kMessageError);
    if (s.final_headers) {
        // Trailers (§4.1).
        if (!check_trailers(fields)) {
            abort_stream(s, message_error, s.app_knows);
            return {};
        }
        events_.push_back(Trailers{id, std::move(fields)});
        return {};
    }
    if (perspective_ == Perspective::kServer) {
        auto info = check_request(fields);
        if (!info) {
            // §4.1.2: a malformed request is a stream error of type H3_MESSAGE_ERROR.
            abort_stream(s, message_error, false);
            return {};
        }
        s.final_headers = true;
        s.app_knows = true;
        s.content_length = info->content_length;
        ++stats_.requests_received;
        events_.push_back(RequestHeaders{id, std::move(fields)});
        return {};
    }
    auto info = check_response(fields);
    if (!info) {
        abort_stream(s, message_error, true);  // §4.1.2: "Clients MUST NOT accept" it
        return {};
    }
    if (info->status < 200) {
        // §4.1: interim responses precede the final one on the same stream.
        s.reader.on_interim_response();
        events_.push_back(InterimResponse{id, info->status, std::move(fields)});
        return {};
    }
    s.final_headers = true;
    s.content_length = info->content_length;
    // §4.1.2: "A response that is defined as never having content" may carry a non-zero
    // Content-Length (RFC 9110 §6.4.1: responses to HEAD, 204, 304).
    s.no_content = s.head_request || info->status == 204 || info->status == 304;
    ++stats_.responses_received;
    events_.push_back(ResponseHeaders{id, info->status, std::move(fields)});
    return {};
}

Status SessionImpl::on_fin(RequestStream& s) {
    // §7.1: a frame cut by the end of the stream is H3_FRAME_ERROR (a connection error).
    QUIC_TRY(s.reader.finish());
    if (s.in_payload || s.hdr_len > 0) return h3_error(H3Error::kFrameError, "truncated frame");
    s.body_done = true;
    if (!s.final_headers) {
        // §4.1.2: the stream ended without a complete message.
        abort_stream(s, to_underlying(H3Error::kRequestIncomplete), s.app_knows);
        return {};
    }
    if (s.content_length && !s.no_content && *s.content_length != s.body_received) {
        // §4.1.2: Content-Length must equal the sum of the DATA frame lengths.
        abort_stream(s, to_underlying(H3Error::kMessageError), s.app_knows);
        return {};
    }
    s.recv_done = true;
    if (s.app_knows) events_.push_back(MessageComplete{s.id});
    maybe_finish(s);
    return {};
}

Result<size_t> SessionImpl::read_body(uint64_t stream_id, MutableByteSpan out, bool* fin) {
    if (fin) *fin = false;
    RequestStream* sp = find(stream_id);
    if (!sp || !sp->app_knows)
        return Error::transport(TransportErrorCode::kStreamStateError, "no such HTTP/3 stream");
    RequestStream& s = *sp;
    s.body_notified = false;
    size_t total = 0;
    Status status;
    while (!closed_ && !s.dead && total < out.size()) {
        if (s.in_payload && s.frame_type == kData) {
            const size_t want =
                static_cast<size_t>(std::min<uint64_t>(out.size() - total, s.frame_remaining));
            bool end = false;
            auto r = conn_->read(stream_id, out.subspan(total, want), &end);
            if (!r) break;  // reset: StreamResetReceived follows
            const size_t n = *r;
            status = feed_reader(s, out.subspan(total, n));
            if (!status) break;
            s.frame_remaining -= n;
            s.body_received += n;
            total += n;
            if (s.frame_remaining == 0) s.in_payload = false, s.hdr_len = 0;
            if (s.content_length && !s.no_content && s.body_received > *s.content_length) {
                abort_stream(s, to_underlying(H3Error::kMessageError), true);
                break;
            }
            if (end) {
                status = on_fin(s);
                break;
            }
            if (n == 0) break;
            continue;
        }
        if (s.body_done || s.recv_done || s.section) break;
        // Between DATA frames: parse what follows without announcing it again.
        s.body_notified = true;
        bool stop = false;
        status = pump_frames(s, &stop);
        if (!status) break;
        if (!find(stream_id)) break;
        s.body_notified = false;
        if (!(s.in_payload && s.frame_type == kData)) break;
    }
    if (!status) fail(status.error());
    // A stream aborted here was reported (StreamAborted); bytes already read are still given.
    const bool aborted = s.dead && !s.recv_done;
    if (fin)
        *fin =
            !aborted && (s.recv_done || (s.body_done && !(s.in_payload && s.frame_type == kData)));
    std::erase_if(streams_, [](const auto& p) { return p.second->dead; });
    if (aborted && total == 0)
        return Error::application(to_underlying(H3Error::kMessageError), "stream aborted");
    return total;
}

void SessionImpl::release_header_budget(RequestStream& s) {
    header_bytes_buffered_ -= std::min(header_bytes_buffered_, s.header_reserved);
    s.header_reserved = 0;
}

// A stream error (§8): both directions are abandoned with `code`.
void SessionImpl::abort_stream(RequestStream& s, uint64_t code, bool report) {
    if (!s.recv_done) {
        (void)conn_->stop_sending(s.id, code);
        // RFC 9204 §2.2.2.2: reading abandoned before the message ended.
        decoder_.cancel_stream(s.id);
        flush_decoder_stream();
    }
    if (!s.send_done || !s.pending.empty() || s.fin_pending) (void)conn_->reset_stream(s.id, code);
    release_header_budget(s);
    ++stats_.stream_errors_sent;
    if (report) events_.push_back(StreamAborted{s.id, code, AbortOrigin::kLocal});
    forget(s.id);
}

void SessionImpl::forget(uint64_t id) {
    auto it = streams_.find(id);
    if (it != streams_.end()) {
        release_header_budget(*it->second);
        it->second->dead = true;
    }
}

// A stream whose two halves are done is forgotten (the connection retires it on its own).
void SessionImpl::maybe_finish(RequestStream& s) {
    const bool sent = s.send_done && s.pending.empty() && !s.fin_pending;
    if (!sent) return;
    if (perspective_ == Perspective::kServer) rapid_resets_.add(1);  // a request served
    if (!s.recv_done) {
        // A server that completed its response stops reading the request (§4.1.1:
        // H3_NO_ERROR "to stop sending" the rest of a request it does not need).
        if (perspective_ != Perspective::kServer) return;
        (void)conn_->stop_sending(s.id, to_underlying(H3Error::kNoError));
        if (s.section) decoder_.cancel_stream(s.id), flush_decoder_stream();
    }
    forget(s.id);
}

// --- request streams: sending ----------------------------------------------------------------

Status SessionImpl::write_frame_bytes(RequestStream& s, Bytes bytes, bool fin) {
    if (!s.pending.empty() || s.fin_pending) {
        s.pending.insert(s.pending.end(), bytes.begin(), bytes.end());
        s.fin_pending = s.fin_pending || fin;
        return flush_stream(s);
    }
    auto r = conn_->write(s.id, bytes, fin);
    if (!r) return std::move(r).error();
    bytes_written_ += *r;
    if (*r < bytes.size()) {
        s.pending.assign(bytes.begin() + static_cast<std::ptrdiff_t>(*r), bytes.end());
        s.fin_pending = fin;
    }
    return {};
}

Status SessionImpl::flush_stream(RequestStream& s) {
    if (s.pending.empty() && !s.fin_pending) return {};
    auto r = conn_->write(s.id, s.pending, s.fin_pending);
    if (!r) return std::move(r).error();
    bytes_written_ += *r;
    s.pending.erase(s.pending.begin(), s.pending.begin() + static_cast<std::ptrdiff_t>(*r));
    if (s.pending.empty()) s.fin_pending = false;  // written together with the last byte
    return {};
}

Result<Bytes> SessionImpl::encode_headers_frame(uint64_t id, std::span<const Field> fields) {
    // §4.2.2: do not send a section the peer said it would not accept.
    if (peer_settings_ && peer_settings_->max_field_section_size) {
        uint64_t size = 0;
        for (const Field& f : fields) size += field_size(f);
        if (size > *peer_settings_->max_field_section_size)
            return h3_error(H3Error::kExcessiveLoad,
                            "field section above the peer's SETTINGS_MAX_FIELD_SECTION_SIZE");
    }
    Bytes section = encoder_.encode_field_section(id, fields);
    ++stats_.sections_encoded;
    // The first prefix byte is the Encoded Required Insert Count's 8-bit prefix (RFC 9204
    // §4.5.1): non-zero exactly when the section references the dynamic table.
    if (!section.empty() && section[0] != 0) ++stats_.sections_encoded_dynamic;
    // RFC 9204 §2.1.3: instructions the section depends on go out before it.
    flush_encoder_stream();
    trace_frame(true, id, "headers", section.size(), fields);
    Bytes frame;
    encode_frame_header(frame, kHeaders, section.size());
    frame.insert(frame.end(), section.begin(), section.end());
    return frame;
}

Status SessionImpl::check_sendable(RequestStream* s, uint64_t id) const {
    (void)id;
    if (closed_) return Error::application(to_underlying(H3Error::kNoError), "session closed");
    if (!s || s->send_done)
        return Error::transport(TransportErrorCode::kStreamStateError,
                                "no HTTP/3 stream open for sending");
    return {};
}

Result<uint64_t> SessionImpl::send_request(const std::vector<Field>& headers, bool end_stream) {
    if (perspective_ != Perspective::kClient)
        return Error::application(to_underlying(H3Error::kInternalError), "not a client");
    if (closed_) return Error::application(to_underlying(H3Error::kNoError), "session closed");
    if (!started_) QUIC_TRY(start());
    // §5.2: after GOAWAY "the endpoint MUST NOT initiate new requests on the connection".
    if (goaway_received_)
        return h3_error(H3Error::kRequestRejected, "GOAWAY received: open a new connection");
    std::vector<Field> fields = pseudo_headers_first(headers);
    auto info = check_request(fields);
    if (!info) return std::move(info).error();
    auto id = conn_->open_stream(true);
    if (!id) return id;
    RequestStream& s = add_stream(*id);
    s.app_knows = true;
    s.head_request = info->method == "HEAD";
    auto frame = encode_headers_frame(*id, fields);
    if (!frame) {
        abort_stream(s, to_underlying(H3Error::kRequestCancelled), false);
        return std::move(frame).error();
    }
    s.headers_sent = true;
    s.send_done = end_stream;
    auto st = write_frame_bytes(s, std::move(frame).value(), end_stream);
    if (!st) return std::move(st).error();
    ++stats_.requests_sent;
    return *id;
}

Status SessionImpl::send_response(uint64_t stream_id, const std::vector<Field>& headers,
                                  bool end_stream) {
    if (perspective_ != Perspective::kServer)
        return Error::application(to_underlying(H3Error::kInternalError), "not a server");
    RequestStream* s = find(stream_id);
    QUIC_TRY(check_sendable(s, stream_id));
    if (s->headers_sent)
        return Error::transport(TransportErrorCode::kStreamStateError, "response already sent");
    std::vector<Field> fields = pseudo_headers_first(headers);
    auto info = check_response(fields);
    if (!info) return std::move(info).error();
    const bool interim = info->status < 200;
    if (interim && end_stream)
        return h3_error(H3Error::kMessageError, "an interim response cannot end the stream");
    auto frame = encode_headers_frame(stream_id, fields);
    if (!frame) return std::move(frame).error();
    if (!interim) {
        s->headers_sent = true;
        s->send_done = end_stream;
        ++stats_.responses_sent;
    }
    QUIC_TRY(write_frame_bytes(*s, std::move(frame).value(), end_stream));
    maybe_finish(*s);
    std::erase_if(streams_, [](const auto& p) { return p.second->dead; });
    return {};
}

// The request stream a DATA frame may go on now: sendable, its header section sent (§4.1),
// and what earlier frames left pending handed to the connection as far as it takes.
Result<SessionImpl::RequestStream*> SessionImpl::body_stream(uint64_t stream_id) {
    RequestStream* sp = find(stream_id);
    QUIC_TRY(check_sendable(sp, stream_id));
    if (!sp->headers_sent)
        return h3_error(H3Error::kFrameUnexpected, "DATA before the header section");  // §4.1
    QUIC_TRY(flush_stream(*sp));
    return sp;
}

Result<size_t> SessionImpl::send_body(uint64_t stream_id, ByteSpan data, bool fin) {
    auto found = body_stream(stream_id);
    if (!found) return std::move(found).error();
    RequestStream& s = **found;
    if (!s.pending.empty()) return size_t{0};
    size_t accepted = 0;
    while (accepted < data.size()) {
        const ByteSpan chunk = data.subspan(accepted).first(
            std::min<size_t>(data.size() - accepted, kMaxDataFramePayload));
        Bytes header;
        encode_frame_header(header, kData, chunk.size());
        trace_frame(true, stream_id, "data", chunk.size());
        auto n = conn_->write(stream_id, header, false);
        if (!n) return std::move(n).error();
        if (*n == 0) break;  // nothing committed for this frame
        bytes_written_ += *n;
        accepted += chunk.size();
        if (*n < header.size()) {
            // The frame is committed: keep its unaccepted tail (at most one frame).
            s.pending.assign(header.begin() + static_cast<std::ptrdiff_t>(*n), header.end());
            s.pending.insert(s.pending.end(), chunk.begin(), chunk.end());
            break;
        }
        auto m = conn_->write(stream_id, chunk, false);
        if (!m) return std::move(m).error();
        bytes_written_ += *m;
        if (*m < chunk.size()) {
            s.pending.assign(chunk.begin() + static_cast<std::ptrdiff_t>(*m), chunk.end());
            break;
        }
    }
    if (fin && accepted == data.size()) {
        s.send_done = true;
        QUIC_TRY(write_frame_bytes(s, {}, true));
        maybe_finish(s);
        std::erase_if(streams_, [](const auto& p) { return p.second->dead; });
    }
    return accepted;
}

Result<bool> SessionImpl::send_body_source(uint64_t stream_id, uint64_t length,
                                           StreamSource source) {
    auto found = body_stream(stream_id);
    if (!found) return std::move(found).error();
    RequestStream& s = **found;
    if (!s.pending.empty() || s.fin_pending) return false;
    if (length == 0) {
        auto n = send_body(stream_id, {}, true);
        if (!n) return std::move(n).error();
        return true;
    }
    Bytes header;
    encode_frame_header(header, kData, length);  // §7.2.1: one DATA frame for the whole body
    trace_frame(true, stream_id, "data", length);
    QUIC_TRY(conn_->write_source(stream_id, header, length, std::move(source),
                                 to_underlying(H3Error::kInternalError)));
    bytes_written_ += header.size() + length;
    s.send_done = true;
    maybe_finish(s);
    std::erase_if(streams_, [](const auto& p) { return p.second->dead; });
    return true;
}

Status SessionImpl::send_trailers(uint64_t stream_id, const std::vector<Field>& fields) {
    RequestStream* s = find(stream_id);
    QUIC_TRY(check_sendable(s, stream_id));
    if (!s->headers_sent)
        return h3_error(H3Error::kFrameUnexpected, "trailers before the header section");
    QUIC_TRY(check_trailers(fields));
    auto frame = encode_headers_frame(stream_id, fields);
    if (!frame) return std::move(frame).error();
    s->send_done = true;
    QUIC_TRY(write_frame_bytes(*s, std::move(frame).value(), true));
    maybe_finish(*s);
    std::erase_if(streams_, [](const auto& p) { return p.second->dead; });
    return {};
}

Status SessionImpl::cancel(uint64_t stream_id, uint64_t code) {
    RequestStream* s = find(stream_id);
    if (!s) return Error::transport(TransportErrorCode::kStreamStateError, "no such HTTP/3 stream");
    abort_stream(*s, code, false);
    std::erase_if(streams_, [](const auto& p) { return p.second->dead; });
    return {};
}

Status SessionImpl::reject(uint64_t stream_id, uint64_t code) {
    return cancel(stream_id, code);
}

// --- shutdown --------------------------------------------------------------------------------

Status SessionImpl::shutdown(Time now) {
    now_ = now;
    if (perspective_ != Perspective::kServer)
        return Error::application(to_underlying(H3Error::kInternalError), "not a server");
    if (closed_ || shutting_down_) return {};
    if (!started_) QUIC_TRY(start());
    shutting_down_ = true;
    // §5.2: the identifier is the first client-initiated bidirectional stream we did not (and
    // will not) process: everything below it was seen and will be answered.
    const uint64_t id = make_stream_id(StreamInitiator::kClient, StreamDirection::kBidirectional,
                                       next_peer_request_index_);
    goaway_sent_ = id;
    Bytes frame = encode_frame(GoawayFrame{id});
    trace_frame(true, local_[kControl].id.value_or(0), "goaway", 0, {}, nullptr, id);
    write_local(kControl, frame);
    return {};
}

// Graceful ends (§5.2): a client that received GOAWAY closes once its requests are done; a
// server that sent one closes once its requests are done and everything written was
// acknowledged, or shutdown_linger later.
void SessionImpl::check_shutdown() {
    if (closed_) return;
    if (perspective_ == Perspective::kClient) {
        if (goaway_received_ && streams_.empty())
            close(now_, to_underlying(H3Error::kNoError), "GOAWAY received, requests done");
        return;
    }
    if (!shutting_down_ || !streams_.empty()) return;
    if (!linger_deadline_) linger_deadline_ = now_ + config_.shutdown_linger;
    const ConnectionStats st = conn_->stats();
    bool local_pending = false;
    for (const LocalStream& l : local_) local_pending = local_pending || !l.pending.empty();
    const bool acked =
        !local_pending && st.bytes_in_flight == 0 && st.stream_bytes_sent >= bytes_written_;
    if (acked || now_ >= *linger_deadline_)
        close(now_, to_underlying(H3Error::kNoError), "graceful shutdown");
}

}  // namespace quic::h3

// --- Session: the public face --------------------------------------------------------------------

namespace quic::h3 {

Session::Session(std::shared_ptr<Connection> connection, Perspective perspective,
                 SessionConfig config)
    : impl_(std::make_unique<SessionImpl>(std::move(connection), perspective, config)) {}
Session::~Session() = default;
Status Session::start() {
    return impl_->start();
}
std::optional<SessionEvent> Session::poll_event(Time now) {
    return impl_->poll_event(now);
}
std::optional<Time> Session::next_timeout() const {
    return impl_->next_timeout();
}
Result<uint64_t> Session::send_request(const std::vector<Field>& headers, bool end_stream) {
    return impl_->send_request(headers, end_stream);
}
Status Session::cancel(uint64_t stream_id, uint64_t code) {
    return impl_->cancel(stream_id, code);
}
Status Session::send_response(uint64_t stream_id, const std::vector<Field>& headers,
                              bool end_stream) {
    return impl_->send_response(stream_id, headers, end_stream);
}
Status Session::reject(uint64_t stream_id, uint64_t code) {
    return impl_->reject(stream_id, code);
}
Status Session::shutdown(Time now) {
    return impl_->shutdown(now);
}
Result<size_t> Session::send_body(uint64_t stream_id, ByteSpan data, bool fin) {
    return impl_->send_body(stream_id, data, fin);
}
Result<bool> Session::send_body_source(uint64_t stream_id, uint64_t length, StreamSource source) {
    return impl_->send_body_source(stream_id, length, std::move(source));
}
Status Session::send_trailers(uint64_t stream_id, const std::vector<Field>& fields) {
    return impl_->send_trailers(stream_id, fields);
}
Result<size_t> Session::read_body(uint64_t stream_id, MutableByteSpan out, bool* fin) {
    return impl_->read_body(stream_id, out, fin);
}
void Session::close(Time now, uint64_t code, std::string reason) {
    impl_->close(now, code, std::move(reason));
}
Perspective Session::perspective() const {
    return impl_->perspective();
}
Connection& Session::connection() {
    return impl_->connection();
}
const std::shared_ptr<Connection>& Session::connection_ptr() const {
    return impl_->connection_ptr();
}
const std::optional<Settings>& Session::peer_settings() const {
    return impl_->peer_settings();
}
std::optional<uint64_t> Session::goaway_received() const {
    return impl_->goaway_received();
}
std::optional<uint64_t> Session::goaway_sent() const {
    return impl_->goaway_sent();
}
size_t Session::active_streams() const {
    return impl_->active_streams();
}
SessionStats Session::stats() const {
    return impl_->stats();
}
bool Session::closed() const {
    return impl_->closed();
}

}  // namespace quic::h3
