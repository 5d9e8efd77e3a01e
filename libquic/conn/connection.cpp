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
    auto ev = impl_->poll_event();
    if (ev && observer_) observer_(*ev);
    return ev;
}

void Connection::set_event_observer(std::function<void(const ConnectionEvent&)> observer) {
    observer_ = std::move(observer);
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
Status Connection::write_source(uint64_t id, ByteSpan prefix, uint64_t length, StreamSource source,
                                uint64_t reset_code) {
    woken();
    return impl_->write_source(id, prefix, length, std::move(source), reset_code);
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
Status Connection::inject_frame(const Frame& frame) {
    woken();
    return impl_->inject_frame(frame);
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
Status Connection::migrate(Time now, const SocketAddress& new_local) {
    woken();
    return impl_->migrate(now, new_local);
}

void Connection::on_packet_too_big(Time now, size_t max_udp_payload) {
    impl_->on_packet_too_big(now, max_udp_payload);
    woken();
}

// --- construction --------------------------------------------------------------------------

ConnectionImpl::ConnectionImpl(Time now, Connection::Params p)
    : role_(p.role),
      config_(std::move(p.config)),
      tls_context_(std::move(p.tls)),
      random_(*p.random),
      version_(p.version),
      chosen_version_(p.version),
      original_dcid_(p.original_dcid),
      initial_dcid_for_keys_(p.initial_keys_dcid.value_or(p.original_dcid)),
      retry_source_cid_(p.retry_source_cid),
      server_name_(std::move(p.server_name)),
      token_(std::move(p.token)),
      resumption_ticket_(std::move(p.resumption_ticket)),
      new_token_for_(std::move(p.new_token_for)),
      tracer_(std::move(p.tracer)),
      created_(now),
      last_now_(now),
      loss_(config_.initial_rtt),
      pacer_(),
      path_(p.path, p.role == Role::kClient || p.address_validated, config_.enable_ecn),
      pmtud_(config_.enable_pmtud ? static_cast<size_t>(config_.max_udp_payload_size) : 0),
      spin_(role_, config_.spin_bit, random_),
      // The client sends to its random original DCID until the server's SCID arrives (§7.2).
      cids_(pending_, p.local_cid, p.role == Role::kServer ? p.peer_cid : p.original_dcid,
            std::move(p.reset_token_for), std::move(p.new_connection_id)),
      glitches_(now),
      streams_(role_, config_, pending_, events_, glitches_, tracer_.get()),
      max_udp_payload_(config_.initial_max_udp_payload_size) {
    ReceivedPacketTracker::Config tracker;
    tracker.max_ack_delay = config_.max_ack_delay;
    tracker.ack_eliciting_threshold = config_.ack_eliciting_threshold;
    for (size_t i = 0; i < spaces_.size(); ++i)
        spaces_[i] = std::make_unique<PacketSpace>(static_cast<PacketNumberSpaceId>(i), tracker);
    cc_ = make_congestion_controller(to_algorithm(config_.congestion_control), max_udp_payload_,
                                     random_);

    info_.version = version_;
    info_.server_name = server_name_;
    handshake_deadline_ = now + config_.handshake_timeout;
    idle_deadline_ = now + config_.handshake_timeout;
}

ConnectionImpl::~ConnectionImpl() = default;

Status ConnectionImpl::start(Time now) {
    if (role_ == Role::kClient && !resumption_ticket_.empty()) adopt_ticket_version();
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

    if (role_ == Role::kServer &&
        (config_.preferred_address_ipv4 || config_.preferred_address_ipv6)) {
        // §9.6, §18.2: our preferred address comes with connection ID sequence number 1.
        const LocalConnectionId& l = cids_.issue_preferred_address_cid();
        PreferredAddress pa;
        if (const auto& a = config_.preferred_address_ipv4;
            a && a->family() == SocketAddress::Family::kIpv4) {
            std::copy(a->ip(), a->ip() + 4, pa.ipv4_address.begin());
            pa.ipv4_port = a->port();
        }
        if (const auto& a = config_.preferred_address_ipv6;
            a && a->family() == SocketAddress::Family::kIpv6) {
            std::copy(a->ip(), a->ip() + 16, pa.ipv6_address.begin());
            pa.ipv6_port = a->port();
        }
        pa.connection_id = l.cid;
        pa.stateless_reset_token = l.token;
        preferred_address_ = pa;
    }
    auto params = encode_transport_parameters(local_transport_parameters(), role_, &random_);
    if (!params.ok()) return std::move(params).error();
    if (config_.transport_parameters_override_for_testing)
        *params = config_.transport_parameters_override_for_testing(local_transport_parameters());
    QUIC_TRY(tls_->set_transport_parameters(*params));
    if (role_ == Role::kServer && config_.enable_0rtt) {
        Bytes ctx = early_data_context();
        QUIC_TRY(tls_->set_early_data_context(ctx));
    }
    if (tracer_) {
        tracer_->connection_started(now, path_.addresses(), version_, cids_.first_local().cid,
                                    cids_.peer_cid());
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

void ConnectionImpl::emit(ConnectionEvent ev) {
    events_.emit(std::move(ev));
}

std::optional<ConnectionEvent> ConnectionImpl::poll_event() {
    std::optional<ConnectionEvent> ev = events_.poll();
    if (!ev) return ev;
    if (auto* r = std::get_if<StreamReadable>(&*ev)) streams_.on_readable_polled(r->stream_id);
    return ev;
}

std::optional<Connection::CidEvent> ConnectionImpl::poll_cid_event() {
    return cids_.poll_event();
}

std::optional<Connection::ResetTokenEvent> ConnectionImpl::poll_reset_token_event() {
    return cids_.poll_reset_token_event();
}

ConnectionStats ConnectionImpl::stats() const {
    ConnectionStats s = stats_;
    s.stream_bytes_sent = streams_.bytes_sent();
    s.stream_bytes_received = streams_.bytes_received();
    s.glitches = glitches_.glitches();
    const RttEstimator& rtt = loss_.rtt();
    s.smoothed_rtt_ns = rtt.smoothed_rtt().count();
    s.min_rtt_ns = rtt.min_rtt().count();
    s.latest_rtt_ns = rtt.latest_rtt().count();
    s.congestion_window = cc_->congestion_window();
    s.bytes_in_flight = cc_->bytes_in_flight();
    s.pto_count = loss_.pto_count();
    s.ecn = path_.ecn().state_name();
    s.pmtu = max_udp_payload_;
    s.pmtu_black_holes = pmtud_.black_holes();
    s.spin_bit = spin_.enabled();
    if (handshake_completed_at_)
        s.handshake_duration_ns = (*handshake_completed_at_ - created_).count();
    return s;
}

// --- streams: the application side ----------------------------------------------------------

Result<uint64_t> ConnectionImpl::open_stream(bool bidirectional) {
    if (state_ != ConnectionState::kHandshaking && state_ != ConnectionState::kEstablished)
        return Error::application(0, "connection is closed");
    return streams_.open_stream(last_now_, bidirectional);
}

Result<size_t> ConnectionImpl::write(StreamId id, ByteSpan data, bool fin) {
    const bool open =
        state_ == ConnectionState::kHandshaking || state_ == ConnectionState::kEstablished;
    return streams_.write(id, data, fin, open);
}

Status ConnectionImpl::write_source(StreamId id, ByteSpan prefix, uint64_t length,
                                    StreamSource source, uint64_t reset_code) {
    const bool open =
        state_ == ConnectionState::kHandshaking || state_ == ConnectionState::kEstablished;
    return streams_.write_source(id, prefix, length, std::move(source), reset_code, open);
}

// The application reads between calls that carry time: the last time we saw stands in.
Result<size_t> ConnectionImpl::read(StreamId id, MutableByteSpan out, bool* fin) {
    return streams_.read(last_now_, loss_.rtt().smoothed_rtt(), id, out, fin);
}

Status ConnectionImpl::reset_stream(StreamId id, uint64_t code) {
    return streams_.reset_stream(id, code);
}

Status ConnectionImpl::stop_sending(StreamId id, uint64_t code) {
    return streams_.stop_sending(id, code);
}

// --- datagrams (RFC 9221) ---------------------------------------------------------------------

size_t ConnectionImpl::max_datagram_size() const {
    if (!peer_params_.max_datagram_frame_size || *peer_params_.max_datagram_frame_size == 0)
        return 0;
    // Room in a 1-RTT packet: header (1 + CID + 4) + AEAD tag + frame type and length.
    size_t overhead = 1 + cids_.peer_cid().size() + 4 + kAeadTagLength + 1 + 2;
    size_t room = max_udp_payload_ > overhead ? max_udp_payload_ - overhead : 0;
    return std::min<uint64_t>(room, *peer_params_.max_datagram_frame_size);
}

// RFC 9221 §3: DATAGRAM without having advertised support, or larger than we allow, is a
// PROTOCOL_VIOLATION.
Status ConnectionImpl::on_datagram_frame(Time now, const DatagramFrame& f) {
    constexpr auto kType = to_underlying(FrameType::kDatagram);
    if (config_.max_datagram_frame_size == 0)
        return Error::transport(TransportErrorCode::kProtocolViolation, "DATAGRAM not negotiated",
                                kType);
    if (f.data.size() > config_.max_datagram_frame_size)
        return Error::transport(TransportErrorCode::kProtocolViolation,
                                "DATAGRAM larger than max_datagram_frame_size", kType);
    if (tracer_) tracer_->datagram_received(now, f.data.size());
    emit(DatagramReceived{Bytes(f.data.begin(), f.data.end())});
    return {};
}

Status ConnectionImpl::send_datagram(ByteSpan data) {
    if (config_.max_datagram_frame_size == 0 || max_datagram_size() == 0)
        return Error::transport(TransportErrorCode::kProtocolViolation,
                                "datagrams were not negotiated");
    if (data.size() > max_datagram_size())
        return Error::transport(TransportErrorCode::kProtocolViolation, "datagram too large");
    if (pending_.datagrams.size() >= kMaxQueuedDatagrams) pending_.datagrams.pop_front();
    pending_.datagrams.emplace_back(data.begin(), data.end());
    return {};
}

Status ConnectionImpl::inject_frame(const Frame& frame) {
    const bool allowed = std::holds_alternative<PingFrame>(frame) ||
                         std::holds_alternative<MaxDataFrame>(frame) ||
                         std::holds_alternative<MaxStreamDataFrame>(frame) ||
                         std::holds_alternative<MaxStreamsFrame>(frame) ||
                         std::holds_alternative<DataBlockedFrame>(frame) ||
                         std::holds_alternative<StreamDataBlockedFrame>(frame) ||
                         std::holds_alternative<StreamsBlockedFrame>(frame) ||
                         std::holds_alternative<StreamFrame>(frame) ||
                         std::holds_alternative<ResetStreamFrame>(frame) ||
                         std::holds_alternative<StopSendingFrame>(frame) ||
                         std::holds_alternative<RetireConnectionIdFrame>(frame);
    if (!allowed)
        return Error::of_kind(ErrorKind::kInvalidArgument, "this frame type cannot be injected");
    if (pending_.injected.size() >= kMaxInjectedFrames)
        return Error::of_kind(ErrorKind::kInvalidArgument, "too many injected frames waiting");
    const size_t size = encoded_size(frame);
    if (size > kMaxInjectedFrameSize)
        return Error::of_kind(ErrorKind::kInvalidArgument, "injected frame too large");
    Bytes bytes(size + 16);
    ByteWriter w(bytes);
    // MAX_STREAMS and STREAMS_BLOCKED are written by hand: their encoder refuses counts above
    // 2^60 (RFC 9000 §19.11, §19.14), which is what a test injects them for.
    if (const auto* m = std::get_if<MaxStreamsFrame>(&frame)) {
        w.write_varint(m->bidirectional ? 0x12 : 0x13).write_varint(m->maximum_streams);
    } else if (const auto* b = std::get_if<StreamsBlockedFrame>(&frame)) {
        w.write_varint(b->bidirectional ? 0x16 : 0x17).write_varint(b->maximum_streams);
    } else if (!encode_frame(w, frame)) {
        return Error::of_kind(ErrorKind::kInvalidArgument, "the frame cannot be encoded");
    }
    if (!w.ok()) return Error::of_kind(ErrorKind::kInvalidArgument, "the frame cannot be encoded");
    bytes.resize(w.size());
    pending_.injected.push_back(std::move(bytes));
    return {};
}

}  // namespace quic
