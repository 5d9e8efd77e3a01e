// Connection: construction, the application API, events. The facade forwards to
// ConnectionImpl so the public header stays free of the state machine's details.
#include "quic/connection.h"

#include "conn/connection_impl.h"
#include "crypto/initial_secrets.h"

namespace quic {

const char* connection_state_name(ConnectionState s) {
    switch (s) {
        case ConnectionState::kHandshaking:
            return "handshaking";
        case ConnectionState::kEstablished:
            return "established";
        case ConnectionState::kClosing:
            return "closing";
        case ConnectionState::kDraining:
            return "draining";
        case ConnectionState::kClosed:
            return "closed";
    }
    return "unknown";
}

const char* close_origin_name(CloseOrigin o) {
    switch (o) {
        case CloseOrigin::kLocal:
            return "local";
        case CloseOrigin::kPeer:
            return "peer";
        case CloseOrigin::kIdleTimeout:
            return "idle timeout";
        case CloseOrigin::kHandshakeTimeout:
            return "handshake timeout";
        case CloseOrigin::kStatelessReset:
            return "stateless reset";
        case CloseOrigin::kVersionMismatch:
            return "no shared QUIC version";
    }
    return "unknown";
}

// --- the facade ------------------------------------------------------------------------------

Result<std::unique_ptr<Connection>> Connection::create(Time now, Params params) {
    if (!params.tls || !params.random)
        return Error::transport(TransportErrorCode::kInternalError, "connection needs TLS and RNG");
    std::function<void()> wake = std::move(params.wake);
    auto impl = std::make_unique<ConnectionImpl>(now, std::move(params));
    QUIC_TRY(impl->start(now));
    std::unique_ptr<Connection> c(new Connection(std::move(impl)));
    c->wake_ = std::move(wake);
    return c;
}

Connection::Connection(std::unique_ptr<ConnectionImpl> impl) : impl_(std::move(impl)) {}
trace::Tracer* Connection::tracer() const {
    return impl_->tracer();
}
Connection::~Connection() = default;

void Connection::on_datagram(Time now, const Path& path, Ecn ecn, MutableByteSpan datagram) {
    impl_->on_datagram(now, path, ecn, datagram);
}
std::optional<Transmit> Connection::poll_transmit(Time now, MutableByteSpan buffer) {
    return impl_->poll_transmit(now, buffer);
}
std::optional<Time> Connection::next_timeout() const {
    return impl_->next_timeout();
}
void Connection::on_timeout(Time now) {
    impl_->on_timeout(now);
}
std::optional<ConnectionEvent> Connection::poll_event() {
    return impl_->poll_event();
}
// The calls below may give the connection something to send (or change its timers): each
// wakes the endpoint's bookkeeping for this connection.
Result<uint64_t> Connection::open_stream(bool bidi) {
    woken();
    return impl_->open_stream(bidi);
}
Result<size_t> Connection::write(uint64_t id, ByteSpan data, bool fin) {
    woken();
    return impl_->write(id, data, fin);
}
Status Connection::finish(uint64_t id) {
    woken();
    auto r = impl_->write(id, {}, true);
    if (!r.ok()) return std::move(r).error();
    return {};
}
Result<size_t> Connection::read(uint64_t id, MutableByteSpan out, bool* fin) {
    woken();  // reading may open flow-control credit (MAX_STREAM_DATA, MAX_DATA)
    return impl_->read(id, out, fin);
}
Status Connection::reset_stream(uint64_t id, uint64_t code) {
    woken();
    return impl_->reset_stream(id, code);
}
Status Connection::stop_sending(uint64_t id, uint64_t code) {
    woken();
    return impl_->stop_sending(id, code);
}
Status Connection::send_datagram(ByteSpan data) {
    woken();
    return impl_->send_datagram(data);
}
size_t Connection::max_datagram_size() const {
    return impl_->max_datagram_size();
}
Status Connection::initiate_key_update() {
    woken();
    return impl_->initiate_key_update();
}
void Connection::close(Time now, uint64_t code, std::string reason) {
    woken();
    impl_->close(now, code, std::move(reason));
}
ConnectionState Connection::state() const {
    return impl_->state();
}
bool Connection::is_handshake_complete() const {
    return impl_->handshake_complete();
}
Role Connection::role() const {
    return impl_->role();
}
const ConnectionInfo& Connection::info() const {
    return impl_->info();
}
ConnectionStats Connection::stats() const {
    return impl_->stats();
}
const Path& Connection::path() const {
    return impl_->path();
}
const ConnectionId& Connection::original_dcid() const {
    return impl_->original_dcid();
}
const std::optional<ConnectionClosed>& Connection::close_reason() const {
    return impl_->close_reason();
}
std::optional<Connection::CidEvent> Connection::poll_cid_event() {
    return impl_->poll_cid_event();
}
bool Connection::is_stateless_reset(ByteSpan d) const {
    return impl_->is_stateless_reset(d);
}
void Connection::on_stateless_reset(Time now) {
    impl_->on_stateless_reset(now);
}
std::optional<Connection::ResetTokenEvent> Connection::poll_reset_token_event() {
    return impl_->poll_reset_token_event();
}
bool Connection::is_address_validated() const {
    return impl_->address_validated();
}
void Connection::abandon(Time now) {
    impl_->abandon(now);
}

// --- construction --------------------------------------------------------------------------

namespace {}  // namespace

ConnectionImpl::ConnectionImpl(Time now, Connection::Params p)
    : role_(p.role),
      config_(std::move(p.config)),
      tls_context_(std::move(p.tls)),
      random_(*p.random),
      version_(p.version),
      path_(p.path),
      original_dcid_(p.original_dcid),
      initial_dcid_for_keys_(p.initial_keys_dcid.value_or(p.original_dcid)),
      retry_source_cid_(p.retry_source_cid),
      server_name_(std::move(p.server_name)),
      token_(std::move(p.token)),
      resumption_ticket_(std::move(p.resumption_ticket)),
      reset_token_for_(std::move(p.reset_token_for)),
      new_connection_id_(std::move(p.new_connection_id)),
      new_token_for_(std::move(p.new_token_for)),
      tracer_(std::move(p.tracer)),
      created_(now),
      last_now_(now),
      loss_(config_.initial_rtt),
      pacer_(),
      address_validated_(p.role == Role::kClient || p.address_validated),
      max_udp_payload_(config_.initial_max_udp_payload_size) {
    ReceivedPacketTracker::Config tracker;
    tracker.max_ack_delay = config_.max_ack_delay;
    tracker.ack_eliciting_threshold = config_.ack_eliciting_threshold;
    for (size_t i = 0; i < spaces_.size(); ++i)
        spaces_[i] = std::make_unique<PacketSpace>(static_cast<PacketNumberSpaceId>(i), tracker);
    cc_ = make_congestion_controller(to_algorithm(config_.congestion_control), max_udp_payload_);

    // Our first connection ID has sequence number 0 (RFC 9000 §5.1.1).
    LocalConnectionId first;
    first.cid = p.local_cid;
    if (reset_token_for_) first.token = reset_token_for_(p.local_cid);
    first.announced = true;
    local_cids_[0] = first;
    next_local_cid_seq_ = 1;

    // The client sends to its random original DCID until the server's SCID arrives (§7.2).
    peer_cid_ = role_ == Role::kServer ? p.peer_cid : p.original_dcid;
    peer_cids_[0] = PeerConnectionId{peer_cid_, std::nullopt};

    stream_limits_ = std::make_unique<StreamLimits>(
        initiator_of(role_), config_.max_incoming_streams, config_.max_incoming_uni_streams);
    recv_flow_ = std::make_unique<ReceiveFlowController>(config_.initial_connection_receive_window,
                                                         config_.max_connection_receive_window);
    if (!config_.enable_ecn) ecn_state_ = EcnState::kOff;
    info_.version = version_;
    info_.server_name = server_name_;
    handshake_deadline_ = now + config_.handshake_timeout;
    idle_deadline_ = now + config_.handshake_timeout;
}

ConnectionImpl::~ConnectionImpl() = default;

Status ConnectionImpl::start(Time now) {
    // Initial keys from the client's first DCID (RFC 9001 §5.2).
    InitialKeys keys = make_initial_keys(version_, initial_dcid_for_keys_);
    PacketSpace& initial = space(PacketNumberSpaceId::kInitial);
    if (role_ == Role::kClient) {
        initial.write = std::move(keys.client);
        initial.read = std::move(keys.server);
    } else {
        initial.write = std::move(keys.server);
        initial.read = std::move(keys.client);
    }
    auto session = TlsSession::create(*tls_context_, *this, server_name_);
    if (!session.ok()) return std::move(session).error();
    tls_ = std::move(session).value();
    if (config_.enable_0rtt) tls_->set_early_data_enabled(true);

    if (role_ == Role::kClient && !resumption_ticket_.empty()) QUIC_TRY(restore_from_ticket());

    auto params = encode_transport_parameters(local_transport_parameters(), role_, &random_);
    if (!params.ok()) return std::move(params).error();
    QUIC_TRY(tls_->set_transport_parameters(*params));
    if (role_ == Role::kServer && config_.enable_0rtt) {
        Bytes ctx = early_data_context();
        QUIC_TRY(tls_->set_early_data_context(ctx));
    }
    if (tracer_) {
        tracer_->connection_started(now, path_, version_, local_cids_.at(0).cid, peer_cid_);
        tracer_->parameters_set(now, true, local_transport_parameters());
        using trace::KeyKind;
        trace_key(now, KeyKind::kInitialClient, false, trace::KeyTrigger::kTls);
        trace_key(now, KeyKind::kInitialServer, false, trace::KeyTrigger::kTls);
    }
    if (role_ == Role::kClient) {
        QUIC_TRY(tls_->advance());  // produces the ClientHello (and 0-RTT keys on resumption)
    }
    return {};
}

// --- events ----------------------------------------------------------------------------------

// Events a peer can generate at will are bounded (conn/limits.h): received datagrams may be
// dropped (RFC 9221 §5), tokens and tickets beyond a few are redundant; a StreamReadable
// dropped at the cap is harmless (the stream stays readable). Lifecycle events always queue.
void ConnectionImpl::emit(ConnectionEvent ev) {
    if (std::holds_alternative<DatagramReceived>(ev)) {
        if (queued_datagram_events_ >= kMaxQueuedDatagrams) return;
        ++queued_datagram_events_;
    } else if (std::holds_alternative<NewTokenReceived>(ev) ||
               std::holds_alternative<SessionTicketReceived>(ev)) {
        if (queued_token_events_ >= kMaxQueuedTokenEvents) return;
        ++queued_token_events_;
    } else if (std::holds_alternative<StreamReadable>(ev) && events_.size() >= kMaxQueuedEvents) {
        return;
    }
    events_.push_back(std::move(ev));
}

std::optional<ConnectionEvent> ConnectionImpl::poll_event() {
    if (events_.empty()) return std::nullopt;
    ConnectionEvent ev = std::move(events_.front());
    events_.pop_front();
    if (auto* r = std::get_if<StreamReadable>(&ev))
        if (StreamRecord* s = find_stream(r->stream_id)) s->readable_announced = false;
    if (std::holds_alternative<DatagramReceived>(ev)) --queued_datagram_events_;
    if (std::holds_alternative<NewTokenReceived>(ev) ||
        std::holds_alternative<SessionTicketReceived>(ev))
        --queued_token_events_;
    return ev;
}

std::optional<Connection::CidEvent> ConnectionImpl::poll_cid_event() {
    if (cid_events_.empty()) return std::nullopt;
    auto ev = cid_events_.front();
    cid_events_.pop_front();
    return ev;
}

std::optional<Connection::ResetTokenEvent> ConnectionImpl::poll_reset_token_event() {
    if (reset_token_events_.empty()) return std::nullopt;
    auto ev = reset_token_events_.front();
    reset_token_events_.erase(reset_token_events_.begin());  // a handful at most
    return ev;
}

ConnectionStats ConnectionImpl::stats() const {
    ConnectionStats s = stats_;
    const RttEstimator& rtt = loss_.rtt();
    s.smoothed_rtt_ns = rtt.smoothed_rtt().count();
    s.min_rtt_ns = rtt.min_rtt().count();
    s.latest_rtt_ns = rtt.latest_rtt().count();
    s.congestion_window = cc_->congestion_window();
    s.bytes_in_flight = cc_->bytes_in_flight();
    s.pto_count = loss_.pto_count();
    static constexpr const char* kEcnNames[] = {"testing", "capable", "failed", "off"};
    s.ecn = kEcnNames[static_cast<size_t>(ecn_state_)];
    if (handshake_completed_at_)
        s.handshake_duration_ns = (*handshake_completed_at_ - created_).count();
    return s;
}

// --- streams: the application side ----------------------------------------------------------

StreamRecord* ConnectionImpl::find_stream(StreamId id) {
    auto it = streams_.find(id);
    return it == streams_.end() ? nullptr : it->second.get();
}

StreamRecord& ConnectionImpl::create_stream(StreamId id) {
    const StreamInitiator local = initiator_of(role_);
    const bool local_init = is_locally_initiated(id, local);
    // Our send limit is the peer's initial_max_stream_data_* for that stream type (§18.2):
    // bidi_remote for streams we open (remote from the peer's view), bidi_local for theirs.
    uint64_t send_limit = 0;
    if (has_send_part(id, local)) {
        if (is_unidirectional(id))
            send_limit = peer_params_.initial_max_stream_data_uni;
        else if (local_init)
            send_limit = peer_params_.initial_max_stream_data_bidi_remote;
        else
            send_limit = peer_params_.initial_max_stream_data_bidi_local;
    }
    auto rec = std::make_unique<StreamRecord>(
        id, has_send_part(id, local), has_receive_part(id, local), send_limit,
        config_.initial_stream_receive_window, config_.max_stream_receive_window);
    StreamRecord& ref = *rec;
    streams_[id] = std::move(rec);
    if (tracer_) tracer_->stream_state_updated(last_now_, id, "open");
    return ref;
}

Result<uint64_t> ConnectionImpl::open_stream(bool bidirectional) {
    if (state_ != ConnectionState::kHandshaking && state_ != ConnectionState::kEstablished)
        return Error::application(0, "connection is closed");
    // Before the handshake completes a client may open streams only for 0-RTT with remembered
    // limits; otherwise the peer's limits are still 0.
    const StreamDirection dir =
        bidirectional ? StreamDirection::kBidirectional : StreamDirection::kUnidirectional;
    LocalStreamLimits& limits = stream_limits_->local_limits(dir);
    auto id = limits.open();
    if (!id) {
        streams_blocked_pending_[bidirectional ? 0 : 1] = limits.blocked_at().has_value();
        return Error::transport(TransportErrorCode::kStreamLimitError,
                                "the peer's stream limit is reached");
    }
    create_stream(*id);
    return *id;
}

Result<size_t> ConnectionImpl::write(StreamId id, ByteSpan data, bool fin) {
    StreamRecord* s = find_stream(id);
    if (!s || !s->has_send)
        return Error::transport(TransportErrorCode::kStreamStateError, "no such sending stream");
    if (s->send.finished() || s->reset_code)
        return Error::transport(TransportErrorCode::kStreamStateError,
                                "stream is finished or reset");
    if (state_ != ConnectionState::kHandshaking && state_ != ConnectionState::kEstablished)
        return Error::application(0, "connection is closed");
    const uint64_t buffered = s->send.buffered_bytes();
    const uint64_t room =
        buffered >= config_.max_stream_send_buffer ? 0 : config_.max_stream_send_buffer - buffered;
    const size_t accepted = static_cast<size_t>(std::min<uint64_t>(room, data.size()));
    if (accepted) s->send.write(data.first(accepted));
    if (accepted < data.size()) s->write_refused = true;
    if (fin && accepted == data.size()) s->send.finish();
    if (accepted || (fin && accepted == data.size())) {
        s->send_state.on_send_data();
        streams_with_data_.insert(id);
    }
    return accepted;
}

Result<size_t> ConnectionImpl::read(StreamId id, MutableByteSpan out, bool* fin) {
    StreamRecord* s = find_stream(id);
    if (fin) *fin = false;
    if (!s || !s->has_recv)
        return Error::transport(TransportErrorCode::kStreamStateError, "no such receiving stream");
    if (s->recv_state.was_reset()) {
        const uint64_t code = s->stop_sending_code.value_or(0);
        s->recv_state.on_app_read_reset();
        maybe_retire_stream(*s);  // may free *s
        return Error::application(code, "stream was reset by the peer");
    }
    size_t n = s->recv.read(out);
    if (n) {
        // The application reads between calls that carry time: the last time we saw stands in.
        s->recv_flow.on_data_consumed(n, last_now_, loss_.rtt().smoothed_rtt());
        recv_flow_->on_data_consumed(n, last_now_, loss_.rtt().smoothed_rtt());
        if (s->recv_state.can_send_max_stream_data() && s->recv_flow.should_send_update()) {
            s->max_stream_data_pending = true;
            streams_with_control_.insert(id);
        }
        if (recv_flow_->should_send_update()) max_data_pending_ = true;
    }
    if (s->recv.is_finished()) {
        if (fin) *fin = true;
        s->recv_state.on_app_read_all();
        maybe_retire_stream(*s);
    }
    return n;
}

Status ConnectionImpl::reset_stream(StreamId id, uint64_t code) {
    StreamRecord* s = find_stream(id);
    if (!s || !s->has_send)
        return Error::transport(TransportErrorCode::kStreamStateError, "no such sending stream");
    if (!s->send_state.can_send_reset() || s->reset_code) return {};
    s->send_state.on_send_reset();
    s->reset_code = code;
    s->reset_pending = true;
    streams_with_control_.insert(id);
    streams_with_data_.erase(id);
    return {};
}

Status ConnectionImpl::stop_sending(StreamId id, uint64_t code) {
    StreamRecord* s = find_stream(id);
    if (!s || !s->has_recv)
        return Error::transport(TransportErrorCode::kStreamStateError, "no such receiving stream");
    if (!s->recv_state.can_send_stop_sending() || s->stop_sending_code) return {};
    s->stop_sending_code = code;
    s->stop_sending_pending = true;
    s->recv.discard();
    streams_with_control_.insert(id);
    return {};
}

// A stream whose both halves reached a terminal state is forgotten; a peer-initiated one
// returns its credit (RFC 9000 §4.6: MAX_STREAMS only for closed streams).
void ConnectionImpl::maybe_retire_stream(StreamRecord& s) {
    if (!s.send_done() || !s.recv_done()) return;
    const StreamInitiator local = initiator_of(role_);
    if (!is_locally_initiated(s.id, local) && !s.credit_returned) {
        s.credit_returned = true;
        PeerStreamLimits& pl = stream_limits_->peer_limits(stream_direction(s.id));
        pl.on_stream_closed();
        if (pl.should_send_max_streams())
            max_streams_pending_[is_bidirectional(s.id) ? 0 : 1] = true;
    }
    streams_with_data_.erase(s.id);
    streams_with_control_.erase(s.id);
    if (tracer_) tracer_->stream_state_updated(last_now_, s.id, "closed");
    streams_.erase(s.id);
}

void ConnectionImpl::deliver_readable(StreamRecord& s) {
    if (s.readable_announced) return;
    s.readable_announced = true;
    emit(StreamReadable{s.id});
}

// --- datagrams (RFC 9221) ---------------------------------------------------------------------

size_t ConnectionImpl::max_datagram_size() const {
    if (!peer_params_.max_datagram_frame_size || *peer_params_.max_datagram_frame_size == 0)
        return 0;
    // Room in a 1-RTT packet: header (1 + CID + 4) + AEAD tag + frame type and length.
    size_t overhead = 1 + peer_cid_.size() + 4 + kAeadTagLength + 1 + 2;
    size_t room = max_udp_payload_ > overhead ? max_udp_payload_ - overhead : 0;
    return std::min<uint64_t>(room, *peer_params_.max_datagram_frame_size);
}

Status ConnectionImpl::send_datagram(ByteSpan data) {
    if (config_.max_datagram_frame_size == 0 || max_datagram_size() == 0)
        return Error::transport(TransportErrorCode::kProtocolViolation,
                                "datagrams were not negotiated");
    if (data.size() > max_datagram_size())
        return Error::transport(TransportErrorCode::kProtocolViolation, "datagram too large");
    if (datagrams_out_.size() >= kMaxQueuedDatagrams) datagrams_out_.pop_front();
    datagrams_out_.emplace_back(data.begin(), data.end());
    return {};
}

}  // namespace quic
