// Packet assembly: one datagram per poll_transmit, with Initial, Handshake and 1-RTT (or
// 0-RTT) packets coalesced (RFC 9000 §12.2), client Initials padded to 1200 bytes (§14.1),
// congestion control and pacing (RFC 9002 §7), anti-amplification (§8.1).
#include "conn/connection_impl.h"
#include "wire/packet_number.h"

namespace quic {
namespace {

constexpr size_t kTagLength = kAeadTagLength;
// A long header's Length field is written in 2 bytes and patched once the payload is known
// (2 bytes hold up to 16383, more than any datagram we send).
constexpr size_t kLengthFieldSize = 2;
// Below this many bytes a datagram cannot carry a useful packet (header, a frame, the tag).
constexpr size_t kMinUsefulDatagram = 64;
// Smallest payload that leaves room for the header protection sample (RFC 9001 §5.4.2):
// pn_length + payload >= 4.
constexpr size_t kMinPnAndPayload = 4;

}  // namespace

// A packet written into the datagram but not yet sealed: sealing waits until padding is
// decided for the whole datagram.
struct ConnectionImpl::PacketPlan {
    PacketType type;
    size_t start = 0;      // offset of the first byte in the datagram
    size_t pn_offset = 0;  // relative to start
    size_t pn_length = 0;
    size_t end = 0;  // end of the plaintext payload, before the tag
    uint64_t pn = 0;
    PacketProtector* packet = nullptr;
    HeaderProtector* header = nullptr;
    SentPacket sent;
};

size_t ConnectionImpl::current_max_udp_payload() const {
    return max_udp_payload_;
}

// §8.1: before the client's address is validated, a server sends at most three times what
// it received.
std::optional<size_t> ConnectionImpl::amplification_budget() const {
    if (role_ != Role::kServer) return std::nullopt;
    const std::optional<uint64_t> room = path_.amplification_room();
    if (!room) return std::nullopt;
    const uint64_t left = *room;
    // Less than a minimal packet is as good as nothing (and must not keep timers spinning).
    return left < kMinUsefulDatagram ? 0 : left;
}

bool ConnectionImpl::has_data_to_send(const PacketSpace& sp) const {
    if (sp.crypto_send.has_pending() || sp.probes_pending || sp.ping_pending) return true;
    if (sp.id != PacketNumberSpaceId::kApplicationData) return false;
    return pending_.any_application_frames() || path_.has_frames_to_send() ||
           streams_.has_frames_to_send();
}

std::optional<Transmit> ConnectionImpl::poll_transmit(Time now, MutableByteSpan buffer) {
    last_now_ = now;
    if (state_ == ConnectionState::kClosed || state_ == ConnectionState::kDraining)
        return std::nullopt;
    if (state_ == ConnectionState::kClosing) {
        if (!pending_.connection_close) return std::nullopt;
        return build_close_datagram(now, buffer);
    }
    if (pending_.connection_close) return build_close_datagram(now, buffer);
    // A candidate path's PATH_CHALLENGE or PATH_RESPONSE goes first, on its own path.
    if (auto t = poll_probe_transmit(now, buffer)) return t;
    // A DPLPMTUD probe (RFC 9000 §14.4) on the active path.
    if (auto probe = build_pmtu_probe(now, buffer)) return probe;

    size_t max = std::min(buffer.size(), current_max_udp_payload());
    if (auto budget = amplification_budget()) max = std::min(max, *budget);
    // RFC 8899 §4.3: a PTO may be the only sign that the path stopped carrying datagrams of
    // the PLPMTU (a black hole); its probes are of the base size, so that they get through and
    // their ACK reveals the larger packets as lost (PmtuDiscovery's black-hole detection).
    if (space(PacketNumberSpaceId::kApplicationData).probes_pending > 0)
        max = std::min(max, PmtuDiscovery::kBase);
    if (max < kMinUsefulDatagram) return std::nullopt;

    ByteWriter dw(buffer.first(max));
    std::vector<PacketPlan> plans;
    bool ack_eliciting = false, has_initial = false, discard_initial = false;

    struct Level {
        PacketNumberSpaceId id;
        PacketType type;
    };
    const bool zero_rtt = role_ == Role::kClient && !has_one_rtt_write_ && zero_rtt_keys_.valid();
    const Level levels[] = {
        {PacketNumberSpaceId::kInitial, PacketType::kInitial},
        {PacketNumberSpaceId::kHandshake, PacketType::kHandshake},
        {PacketNumberSpaceId::kApplicationData,
         zero_rtt ? PacketType::kZeroRtt : PacketType::kOneRtt},
    };
    for (const Level& lv : levels) {
        PacketSpace& sp = space(lv.id);
        if (sp.discarded) continue;
        const bool keys = lv.type == PacketType::kOneRtt    ? has_one_rtt_write_
                          : lv.type == PacketType::kZeroRtt ? zero_rtt_keys_.valid()
                                                            : sp.write.valid();
        if (!keys) continue;
        if (dw.remaining() < 48) break;
        PacketPlan plan;
        bool eliciting = false;
        // A datagram that will be padded must not end with a STREAM frame without Length:
        // the padding would become stream data (§19.8).
        may_be_padded_ = has_initial || (role_ == Role::kClient && lv.type == PacketType::kInitial);
        if (!build_packet(now, sp, lv.type, dw, plan, eliciting)) continue;
        plans.push_back(std::move(plan));
        ack_eliciting |= eliciting;
        if (lv.type == PacketType::kInitial) has_initial = true;
        // RFC 9001 §4.9.1: a client discards Initial keys when it first sends Handshake.
        if (lv.type == PacketType::kHandshake && role_ == Role::kClient) discard_initial = true;
    }
    if (plans.empty()) {
        // Nothing to send although the window and pacer allow: application-limited (§7.8).
        // Data held back by the pacer (or the window) is not: that is the path's limit.
        if (state_ == ConnectionState::kEstablished &&
            cc_->available_window() >= max_udp_payload_ &&
            !has_data_to_send(space(PacketNumberSpaceId::kApplicationData)))
            cc_->on_app_limited(now);
        return std::nullopt;
    }

    // §14.1: datagrams with a client Initial, and server datagrams with an ack-eliciting
    // Initial, are padded to 1200 bytes; so are PATH_CHALLENGE and PATH_RESPONSE datagrams
    // (§8.2.1, within the anti-amplification limit).
    const bool pad = (has_initial && (role_ == Role::kClient || ack_eliciting)) || pad_datagram_;
    pad_datagram_ = false;
    if (pad) pad_last_packet(dw, plans.back(), max);

    return seal_datagram(now, buffer, plans, discard_initial, path_);
}

// A datagram on a candidate path (conn/migration.cpp): one 1-RTT packet with its
// PATH_RESPONSE and PATH_CHALLENGE frames only (probing frames, §9.1), padded to 1200 bytes
// within the path's anti-amplification limit (§8.2.1, §9.3.1), sent with the path's own
// connection ID (§9.5). It counts in flight like any packet: a lost challenge is sent again.
std::optional<Transmit> ConnectionImpl::poll_probe_transmit(Time now, MutableByteSpan buffer) {
    if (!has_one_rtt_write_ || !handshake_complete_) return std::nullopt;
    for (PathState& c : candidates_) {
        if (!c.has_frames_to_send()) continue;
        size_t max = std::min(buffer.size(), current_max_udp_payload());
        if (auto room = c.amplification_room()) max = std::min<uint64_t>(max, *room);
        if (max < kMinUsefulDatagram) continue;
        PacketSpace& sp = space(PacketNumberSpaceId::kApplicationData);
        ByteWriter dw(buffer.first(max));
        std::vector<PacketPlan> plans(1);
        PacketPlan& plan = plans.back();
        tx_path_ = &c;  // its connection ID, until the packet is sealed
        if (!write_header(dw, sp, PacketType::kOneRtt, sp.next_packet_number, plan)) {
            tx_path_ = nullptr;
            return std::nullopt;
        }
        const size_t payload_start = dw.size();
        ByteWriter w(dw.buffer().subspan(payload_start, dw.remaining() - kTagLength));
        plan.sent.packet_number = plan.pn;
        plan.sent.time_sent = now;
        FrameWriter out(w, plan.sent);
        c.write_frames(out, now + pto_duration());
        if (plan.pn_length + w.size() < kMinPnAndPayload)
            w.write_zeros(kMinPnAndPayload - plan.pn_length - w.size());
        dw.advance(w.size());
        plan.end = dw.size();
        dw.write_zeros(kTagLength);
        plan.sent.ack_eliciting = true;
        plan.sent.in_flight = true;
        sp.next_packet_number = plan.pn + 1;
        pad_last_packet(dw, plan, max);
        auto t = seal_datagram(now, buffer, plans, false, c);
        tx_path_ = nullptr;
        return t;
    }
    return std::nullopt;
}

// Seals every packet of the datagram in order and accounts for what was sent.
std::optional<Transmit> ConnectionImpl::seal_datagram(Time now, MutableByteSpan buffer,
                                                      std::vector<PacketPlan>& plans,
                                                      bool discard_initial, PathState& on) {
    for (PacketPlan& p : plans) {
        if (!seal_packet(now, buffer, p)) {
            close_with_error(now, Error::transport(TransportErrorCode::kInternalError,
                                                   "packet protection failed"));
            return std::nullopt;
        }
        p.sent.sent_bytes = p.end + kTagLength - p.start;
        p.sent.ect0 = on.ecn().codepoint() == Ecn::kEct0;
        on_packet_sent(now, space(space_of(p.type)), std::move(p.sent));
    }
    const size_t total = plans.back().end + kTagLength;
    if (discard_initial) discard_space(now, PacketNumberSpaceId::kInitial);
    stats_.bytes_sent += total;
    on.on_datagram_sent(total);
    trace_recovery(now);
    return Transmit{on.addresses(), on.ecn().codepoint(), total, 0};
}

// Writes a packet header for packet number `pn` at the writer's position, and fills the plan's
// header fields and keys. The Length of a long header is patched when the packet is sealed.
bool ConnectionImpl::write_header(ByteWriter& dw, PacketSpace& sp, PacketType type, uint64_t pn,
                                  PacketPlan& plan, size_t min_pn_length) {
    plan.type = type;
    plan.start = dw.size();
    plan.pn = pn;
    plan.pn_length = std::max(packet_number_length(pn, loss_.largest_acked(sp.id)), min_pn_length);
    const uint64_t truncated = truncate_packet_number(pn, plan.pn_length);
    size_t pn_offset = 0;
    bool ok = false;
    if (type == PacketType::kOneRtt) {
        ok = write_short_header(dw, sending_dcid(), one_rtt_.write_phase, spin_.value(),
                                plan.pn_length, truncated, &pn_offset);
        plan.packet = one_rtt_.write_packet.get();
        plan.header = one_rtt_.write_header.get();
    } else {
        LongHeaderFields f;
        f.type = type;
        // 0-RTT stays in the client's Chosen Version (RFC 9369 §4).
        f.version = type == PacketType::kZeroRtt ? chosen_version_ : version_;
        f.dcid = cids_.peer_cid();
        f.scid = cids_.source_cid();
        if (type == PacketType::kInitial && role_ == Role::kClient) f.token = token_;
        f.pn_length = plan.pn_length;
        f.truncated_pn = truncated;
        f.length_field_size = kLengthFieldSize;
        ok = write_long_header(dw, f, 0, &pn_offset);
        DirectionalKeys& keys = type == PacketType::kZeroRtt ? zero_rtt_keys_ : sp.write;
        plan.packet = keys.packet.get();
        plan.header = keys.header.get();
    }
    plan.pn_offset = pn_offset;  // relative to the packet start
    if (!ok || !plan.packet || !plan.header) {
        dw.rewind(plan.start);
        return false;
    }
    return true;
}

// Grows the datagram to 1200 bytes (or `max`) by making the last packet longer: its tag room
// and the new bytes are all zeros, so moving its end turns the first of them into PADDING
// frames and the last 16 into the tag room again.
void ConnectionImpl::pad_last_packet(ByteWriter& dw, PacketPlan& last, size_t max) {
    const size_t target = std::min(kMinInitialDatagramSize, max);
    if (dw.size() >= target) return;
    dw.write_zeros(target - dw.size());
    last.end = dw.size() - kTagLength;
    last.sent.in_flight = true;  // padding counts in flight (RFC 9002 §2)
}

// Patches the Length, traces, and seals one planned packet in place (RFC 9001 §5.3, §5.4).
bool ConnectionImpl::seal_packet(Time now, MutableByteSpan datagram, const PacketPlan& p) {
    MutableByteSpan pkt(datagram.data() + p.start, p.end + kTagLength - p.start);
    if (p.type != PacketType::kOneRtt)
        patch_long_header_length(pkt, p.pn_offset, kLengthFieldSize,
                                 p.end + kTagLength - (p.start + p.pn_offset));
    const size_t payload_len = p.end - (p.start + p.pn_offset + p.pn_length);
    trace_packet(now, true, p.type, p.pn, nullptr, pkt.size(),
                 p.type == PacketType::kOneRtt && one_rtt_.write_phase,
                 ByteSpan(pkt.data() + p.pn_offset + p.pn_length, payload_len));
    return protect_packet(pkt, p.pn_offset, p.pn_length, payload_len, p.pn, *p.packet, *p.header);
}

// Writes one packet of `type` at the writer's position; false when there was nothing to send.
bool ConnectionImpl::build_packet(Time now, PacketSpace& sp, PacketType type, ByteWriter& dw,
                                  PacketPlan& plan, bool& ack_eliciting_out) {
    const bool ack_due =
        type != PacketType::kZeroRtt && sp.received.has_new_packets() &&
        (sp.received.ack_needed(now) || sp.id != PacketNumberSpaceId::kApplicationData);
    const bool probe = sp.probes_pending > 0;
    bool want_data = has_data_to_send(sp);
    // Congestion control and pacing gate ack-eliciting packets, never ACKs or probes (§7).
    bool data_allowed = probe || sp.ping_pending;
    if (!data_allowed && want_data) {
        data_allowed = cc_->can_send(max_udp_payload_);
        if (data_allowed && config_.pacing && sp.id == PacketNumberSpaceId::kApplicationData)
            data_allowed = pacer_.next_send_time(now, max_udp_payload_) <= now;
    }
    // §8.2.1, §9.3: a new path's PATH_CHALLENGE (and a PATH_RESPONSE) go out with the next
    // packet even when the congestion window is full, so that the first packet on a new
    // 4-tuple carries the challenge; they are a few bytes, and the path's anti-amplification
    // limit still holds.
    const bool path_frames_only = !(want_data && data_allowed) &&
                                  sp.id == PacketNumberSpaceId::kApplicationData &&
                                  type == PacketType::kOneRtt && path_.has_frames_to_send();
    if (!ack_due && !(want_data && data_allowed) && !path_frames_only) return false;

    uint64_t pn = sp.next_packet_number;
    // RFC 9000 §21.4: now and then skip a number so that an ACK for it exposes a peer that
    // acknowledges packets it never received.
    const bool skip = config_.skip_packet_numbers &&
                      sp.id == PacketNumberSpaceId::kApplicationData && handshake_confirmed_ &&
                      random_.uniform(512) == 0;
    if (skip) ++pn;
    if (!write_header(dw, sp, type, pn, plan)) return false;
    if (dw.remaining() < kTagLength + kMinPnAndPayload) {
        dw.rewind(plan.start);
        return false;
    }

    // Frames go into the space left before the tag.
    const size_t payload_start = dw.size();
    MutableByteSpan frame_room = dw.buffer().subspan(payload_start, dw.remaining() - kTagLength);
    ByteWriter w(frame_room);
    plan.sent.packet_number = pn;
    plan.sent.time_sent = now;
    if (ack_due) {
        if (auto ack = sp.received.build_ack_frame(now, config_.ack_delay_exponent)) {
            if (encode_frame(w, *ack)) {
                plan.sent.frames.push_back(SentAck{ack->largest_acknowledged});
                sp.received.on_ack_sent();
            }
        }
    }
    const size_t after_ack = w.size();
    if (want_data && data_allowed) {
        write_frames(sp, type, w, plan.sent, true);
    } else if (path_frames_only) {
        FrameWriter out(w, plan.sent);
        if (path_.write_frames(out, now + pto_duration())) pad_datagram_ = true;
    }
    bool eliciting = w.size() > after_ack;
    if (!eliciting && (probe || sp.ping_pending)) {
        encode_frame(w, PingFrame{});
        plan.sent.frames.push_back(SentControlFrame{to_underlying(FrameType::kPing), 0, 0});
        eliciting = true;
    }
    if (w.size() == 0) {
        dw.rewind(plan.start);
        return false;
    }
    if (skip) loss_.on_packet_number_skipped(sp.id, pn - 1);
    if (probe && eliciting) sp.probes_pending--;
    sp.ping_pending = false;
    // Enough bytes for the header protection sample (RFC 9001 §5.4.2).
    if (plan.pn_length + w.size() < kMinPnAndPayload)
        w.write_zeros(kMinPnAndPayload - plan.pn_length - w.size());
    dw.advance(w.size());  // the frames were written in place
    plan.end = dw.size();
    dw.write_zeros(kTagLength);  // room reserved above
    plan.sent.ack_eliciting = eliciting;
    plan.sent.in_flight = eliciting;
    sp.next_packet_number = pn + 1;
    ack_eliciting_out = eliciting;
    return true;
}

size_t ConnectionImpl::write_frames(PacketSpace& sp, PacketType type, ByteWriter& w,
                                    SentPacket& sent, bool allow_data) {
    const size_t start = w.size();
    // CRYPTO data (never in 0-RTT).
    if (type != PacketType::kZeroRtt) {
        while (w.remaining() > 16) {
            auto chunk = sp.crypto_send.next_chunk(w.remaining() - 16);
            if (!chunk || chunk->data.empty()) break;
            CryptoFrame f{chunk->offset, chunk->data};
            // Shrink to fit: the frame header takes up to 16 bytes.
            size_t room = w.remaining();
            size_t len = chunk->data.size();
            while (len > 0 &&
                   encoded_size(CryptoFrame{chunk->offset, chunk->data.first(len)}) > room)
                len -= std::min<size_t>(len, 8);
            if (len == 0) break;
            f.data = chunk->data.first(len);
            if (!encode_frame(w, f)) break;
            sp.crypto_send.on_sent(chunk->offset, len, false);
            sent.frames.push_back(SentCryptoData{chunk->offset, len});
        }
    }
    if (sp.id == PacketNumberSpaceId::kApplicationData) {
        FrameWriter out(w, sent);
        if (type == PacketType::kOneRtt) write_control_frames(out);
        // DATAGRAM frames (RFC 9221), before stream data: they are latency-sensitive.
        while (!pending_.datagrams.empty() &&
               out.put(DatagramFrame{pending_.datagrams.front(), true}, SentDatagram{}))
            pending_.datagrams.pop_front();
        // Injected frames (Connection::inject_frame) go as they are and are never resent: they
        // are recorded like a datagram, which neither acknowledgment nor loss acts on.
        while (type == PacketType::kOneRtt && !pending_.injected.empty() &&
               pending_.injected.front().size() <= w.remaining()) {
            w.write_bytes(pending_.injected.front());
            sent.frames.push_back(SentDatagram{});
            pending_.injected.pop_front();
        }
        // A datagram that may be padded must not end with a STREAM frame without Length: the
        // padding would become stream data (§19.8).
        const bool keep_length = may_be_padded_ || pad_datagram_ || type == PacketType::kZeroRtt;
        if (allow_data) streams_.write_stream_frames(out, keep_length);
    }
    return w.size() - start;
}

void ConnectionImpl::write_control_frames(FrameWriter& out) {
    auto control = [](FrameType t, uint64_t a = 0) { return FrameWriter::control(t, a); };
    if (pending_.handshake_done &&
        out.put(HandshakeDoneFrame{}, control(FrameType::kHandshakeDone))) {
        pending_.handshake_done = false;
        handshake_done_sent_ = true;
    }
    if (path_.write_frames(out, last_now_ + pto_duration()))
        pad_datagram_ = true;  // §8.2.1, §8.2.2
    streams_.write_flow_control_frames(out);
    cids_.write_frames(out);
    if (pending_.new_token &&
        out.put(NewTokenFrame{*pending_.new_token}, SentNewToken{*pending_.new_token}))
        pending_.new_token.reset();
    streams_.write_stream_control_frames(out);
}

void ConnectionImpl::on_packet_sent(Time now, PacketSpace& sp, SentPacket&& sent) {
    stats_.packets_sent++;
    const bool eliciting = sent.ack_eliciting;
    const size_t bytes = sent.sent_bytes;
    const bool in_flight = sent.in_flight;
    if (sp.id == PacketNumberSpaceId::kApplicationData && has_one_rtt_write_) {
        if (!one_rtt_.first_pn_written_in_phase)
            one_rtt_.first_pn_written_in_phase = sent.packet_number;
        one_rtt_.packets_written_in_phase++;
    }
    // RFC 9000 §14.4: a DPLPMTUD probe is not congestion controlled: the controller neither
    // counts it in flight nor hears of its fate (loss detection still tracks it).
    const bool probe = sent.is_pmtu_probe;
    sent.delivery = cc_->on_packet_sent(now, bytes, in_flight && !probe);  // back with the ACK
    loss_.on_packet_sent(sp.id, std::move(sent), now);
    if (eliciting) {
        if (config_.pacing && sp.id == PacketNumberSpaceId::kApplicationData && !probe)
            pacer_.on_packet_sent(now, bytes);
        // §10.1: the idle timer restarts on the first ack-eliciting packet after receiving.
        if (!ack_eliciting_since_last_receive_) reset_idle_timer(now);
        ack_eliciting_since_last_receive_ = true;
        last_ack_eliciting_sent_ = now;
    }
    // Key update after N packets (RFC 9001 §6: e.g. to stay below the AEAD limits).
    if (config_.key_update_interval_packets && sp.id == PacketNumberSpaceId::kApplicationData &&
        one_rtt_.packets_written_in_phase >= config_.key_update_interval_packets &&
        handshake_confirmed_ && one_rtt_.update_acknowledged)
        (void)initiate_key_update();
    if (sp.id == PacketNumberSpaceId::kApplicationData && has_one_rtt_write_)
        check_confidentiality_limit(now);
    loss_.on_context_changed(recovery_context(), now);
}

// A datagram carrying CONNECTION_CLOSE at every level we still have write keys for
// (RFC 9000 §10.2.3: during the handshake the peer may not have 1-RTT keys).
std::optional<Transmit> ConnectionImpl::build_close_datagram(Time now, MutableByteSpan buffer) {
    pending_.connection_close = false;
    if (!local_close_) return std::nullopt;
    size_t max = std::min(buffer.size(), current_max_udp_payload());
    if (auto budget = amplification_budget()) max = std::min(max, *budget);
    ByteWriter dw(buffer.first(max));
    std::vector<PacketPlan> plans;
    const Error& e = *local_close_;
    std::string reason = e.reason.substr(0, kMaxCloseReasonLength);
    ByteSpan reason_bytes(reinterpret_cast<const uint8_t*>(reason.data()), reason.size());
    for (int i = 0; i < 3; ++i) {
        PacketSpace& sp = *spaces_[i];
        PacketType type = i == 0   ? PacketType::kInitial
                          : i == 1 ? PacketType::kHandshake
                                   : PacketType::kOneRtt;
        if (sp.discarded) continue;
        bool keys = type == PacketType::kOneRtt
                        ? has_one_rtt_write_ && (role_ == Role::kClient || handshake_complete_)
                        : sp.write.valid();
        if (!keys) continue;
        PacketPlan plan;
        if (!write_header(dw, sp, type, sp.next_packet_number, plan)) break;
        sp.next_packet_number++;
        // §10.2.3: an application close is sent as APPLICATION_ERROR outside 1-RTT.
        ConnectionCloseFrame cf;
        if (e.space == ErrorSpace::kApplication && type == PacketType::kOneRtt) {
            cf = ConnectionCloseFrame{true, e.code, 0, reason_bytes};
        } else if (e.space == ErrorSpace::kApplication) {
            cf = ConnectionCloseFrame{
                false, static_cast<uint64_t>(TransportErrorCode::kApplicationError), 0, {}};
        } else {
            cf = ConnectionCloseFrame{false, e.code, e.frame_type, reason_bytes};
        }
        if (dw.remaining() < encoded_size(cf) + kTagLength + kMinPnAndPayload) {
            dw.rewind(plan.start);
            break;
        }
        size_t frame_start = dw.size();
        encode_frame(dw, cf);
        if (plan.pn_length + dw.size() - frame_start < kMinPnAndPayload)
            dw.write_zeros(kMinPnAndPayload - plan.pn_length - (dw.size() - frame_start));
        plan.end = dw.size();
        dw.write_zeros(kTagLength);
        plans.push_back(std::move(plan));
    }
    if (plans.empty()) return std::nullopt;
    // A client's close in an Initial must still be padded (§14.1).
    if (role_ == Role::kClient && plans.front().type == PacketType::kInitial)
        pad_last_packet(dw, plans.back(), max);
    for (const PacketPlan& p : plans) seal_packet(now, buffer, p);
    const size_t total = plans.back().end + kTagLength;
    stats_.bytes_sent += total;
    stats_.packets_sent += plans.size();
    path_.on_datagram_sent(total);
    return Transmit{path_.addresses(), path_.ecn().codepoint(), total, 0};
}

// A DPLPMTUD probe (RFC 9000 §14.4, RFC 8899 §4.1): a 1-RTT packet of exactly the probed
// size holding PING and PADDING only, so that its loss loses no data. Sent when the search
// asks for one, outside congestion control (on_packet_sent).
std::optional<Transmit> ConnectionImpl::build_pmtu_probe(Time now, MutableByteSpan buffer) {
    if (!handshake_confirmed_ || !has_one_rtt_write_ || state_ != ConnectionState::kEstablished)
        return std::nullopt;
    // RFC 9000 §14.3: probes are 1-RTT packets the peer acknowledges, so the search waits for
    // the handshake to be confirmed; and it pays only for a sender with data to carry (RFC 8899
    // §5.1.1 leaves when to probe to the sender): ConnectionConfig::pmtud_start_after_bytes.
    if (!pmtud_.started()) {
        if (!config_.enable_pmtud || streams_.bytes_sent() < config_.pmtud_start_after_bytes)
            return std::nullopt;
        pmtud_.start(now);
    }
    // Only on a validated path: a probe is not worth spending an unvalidated path's
    // anti-amplification allowance on (§8.1, §9.3).
    if (!path_.validated()) return std::nullopt;
    const std::optional<size_t> size = pmtud_.probe_due(now);
    if (!size || *size > buffer.size()) return std::nullopt;
    PacketSpace& sp = space(PacketNumberSpaceId::kApplicationData);
    ByteWriter dw(buffer.first(*size));
    PacketPlan plan;
    if (!write_header(dw, sp, PacketType::kOneRtt, sp.next_packet_number, plan))
        return std::nullopt;
    if (dw.remaining() < kTagLength + kMinPnAndPayload) return std::nullopt;
    encode_frame(dw, PingFrame{});
    dw.write_zeros(dw.remaining() - kTagLength);  // PADDING up to the probed size
    plan.end = dw.size();
    dw.write_zeros(kTagLength);
    plan.sent.packet_number = plan.pn;
    plan.sent.time_sent = now;
    plan.sent.ack_eliciting = true;
    plan.sent.in_flight = true;
    plan.sent.is_pmtu_probe = true;
    plan.sent.frames.push_back(SentControlFrame{to_underlying(FrameType::kPing), 0, 0});
    sp.next_packet_number = plan.pn + 1;
    pmtud_.on_probe_sent(now, *size);
    stats_.pmtu_probes_sent++;
    std::vector<PacketPlan> plans;
    plans.push_back(std::move(plan));
    return seal_datagram(now, buffer, plans, false, path_);
}

// Tests (ConnectionTestAccess::seal_packet): a packet of `type` with exactly `payload` (which
// may be empty: a 4-byte packet number leaves room for the header protection sample, RFC 9001
// §5.4.2) and `first_byte_bits` set before header protection (e.g. the reserved bits of
// RFC 9000 §17.2, §17.3.1). It is recorded as sent, not in flight, so that the peer's ACK of it
// is no ACK of a skipped number (§21.4). Empty when the keys of `type` are gone.
Bytes ConnectionImpl::seal_packet_for_testing(Time now, PacketType type, ByteSpan payload,
                                              uint8_t first_byte_bits) {
    // A long header: 7 fixed bytes, two 20-byte CIDs, a token with its length, 2 + 4 more.
    const size_t header_room = 64 + token_.size();
    PacketSpace& sp = space(space_of(type));
    Bytes out(header_room + payload.size() + kTagLength);
    ByteWriter dw(out);
    PacketPlan plan;
    if (!write_header(dw, sp, type, sp.next_packet_number, plan, kMaxPacketNumberLength)) return {};
    out[plan.start] |= first_byte_bits;
    dw.write_bytes(payload);
    plan.end = dw.size();
    dw.write_zeros(kTagLength);
    if (!dw.ok()) return {};
    out.resize(dw.size());
    if (!seal_packet(now, out, plan)) return {};
    sp.next_packet_number = plan.pn + 1;
    plan.sent.packet_number = plan.pn;
    plan.sent.time_sent = now;
    plan.sent.sent_bytes = out.size();
    on_packet_sent(now, sp, std::move(plan.sent));
    return out;
}

void ConnectionImpl::update_pacer(Time now) {
    if (!config_.pacing) return;
    if (auto p = cc_->pacing()) {
        pacer_.set_rate(now, p->bytes_per_second, p->burst_bytes);  // the controller's own rate
        return;
    }
    pacer_.update(now, cc_->congestion_window(), loss_.rtt().smoothed_rtt(), max_udp_payload_);
}

}  // namespace quic
