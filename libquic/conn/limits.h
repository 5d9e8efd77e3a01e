// Named caps on everything a peer can make a connection hold (docs/architecture.md, "Errors and
// limits"). Each has the reason for its value. Stream and recovery caps live in stream/limits.h and
// recovery/limits.h; frame-decoding caps in wire/limits.h.
#pragma once

#include <cstddef>
#include <cstdint>

namespace quic {

// Packets that arrive before their keys (Handshake or 1-RTT during the handshake) are kept
// for later (RFC 9001 §5.7). A handful covers one reordered flight; more is an attack.
inline constexpr size_t kMaxUndecryptablePackets = 16;

// A client's Initial that repeats CRYPTO data we have already received tells a server that its
// own first flight was lost: the server then resends its unacknowledged Initial and Handshake
// CRYPTO at once instead of at the PTO (RFC 9002 §6.2.3). Once per connection: it shortens a
// lossy handshake by a PTO (a second without an RTT sample); later losses wait for the PTO as
// before. (With 2 or 3, the simulator's 50 handshakes under 30 % bursty loss saw a connection
// idle out, 1 in about 800; not understood yet, so one.)
inline constexpr unsigned kMaxCryptoResendsOnDuplicate = 1;

// Connection IDs the peer may have outstanding with us. We advertise
// active_connection_id_limit; a peer exceeding it gets CONNECTION_ID_LIMIT_ERROR (§5.1.1).
// This caps what we ever advertise.
inline constexpr uint64_t kMaxActiveConnectionIdLimit = 8;

// Quiet-path PINGs (conn_timers.cpp, quiet_probe_at) sent while the peer sends nothing
// ack-eliciting, each a doubled PTO after the last packet received: 6 span 63 PTOs (6.3 s at a
// 100 ms PTO), ample for a rebound NAT to be seen, and then the idle timeout ends a wait on a
// peer that acknowledges but never answers, as it would without them.
inline constexpr unsigned kMaxQuietProbes = 6;

// RETIRE_CONNECTION_ID frames waiting to be sent. A peer raising retire_prior_to by a huge
// amount makes us retire many IDs at once; beyond this we close with
// CONNECTION_ID_LIMIT_ERROR rather than queue without bound (§5.1.2).
inline constexpr size_t kMaxPendingRetireConnectionIds = 64;

// PATH_RESPONSE frames waiting to be sent. Only the latest challenges matter (§8.2.2 allows
// answering just the most recent); older ones are dropped.
inline constexpr size_t kMaxPendingPathResponses = 4;

// Received DATAGRAM frames the application has not read yet (RFC 9221 §5: datagrams may be
// dropped when the receiver is overwhelmed). The oldest is dropped beyond this.
inline constexpr size_t kMaxQueuedDatagrams = 256;

// Frames a test tool injected (Connection::inject_frame) waiting for a packet, and the size of
// one: the application's own queue, bounded so that a script cannot grow it without end, and
// small enough that a frame always fits a packet.
inline constexpr size_t kMaxInjectedFrames = 16;
inline constexpr size_t kMaxInjectedFrameSize = 1024;

// NEW_TOKEN tokens and session tickets not yet polled: a client needs only the latest, and a
// peer could send them without end.
inline constexpr size_t kMaxQueuedTokenEvents = 8;

// Application events not yet polled. Events are derived from peer actions (streams opened,
// data readable); an application that never polls must not make us grow without bound, so
// beyond this cap StreamReadable events are coalesced (the stream stays readable).
inline constexpr size_t kMaxQueuedEvents = 4096;

// A closing endpoint answers further packets with CONNECTION_CLOSE, but not for every one
// (§10.2.1: "SHOULD limit the rate"): once per this many packets received.
inline constexpr uint64_t kClosingPacketsPerClose = 4;

// The CONNECTION_CLOSE reason phrase we send is truncated to this many bytes so the frame
// always fits in a packet.
inline constexpr size_t kMaxCloseReasonLength = 256;

// A peer's NEW_TOKEN token that we keep for the application; longer ones are ignored.
inline constexpr size_t kMaxNewTokenLength = 512;

// The initial packet size floor (RFC 9000 §14.1): client Initials are padded to this.
inline constexpr size_t kMinInitialDatagramSize = 1200;

// Glitch budget (conn/glitch.h, checklist 20): useless frames a peer may send in a burst. A
// legitimate peer's duplicates come from spurious retransmissions, at most a congestion window
// of packets at once (~hundreds of frames); a flood of tiny useless frames is thousands per
// second. Refilled at kGlitchRefillPerSecond, plus kGlitchRefundPerUsefulFrame for each frame
// carrying new data, so a long lossy transfer never drains it.
inline constexpr uint64_t kGlitchBudget = 1000;
inline constexpr uint64_t kGlitchRefillPerSecond = 100;
inline constexpr uint64_t kGlitchRefundPerUsefulFrame = 1;

// Control frames a peer can make us queue while it keeps our congestion window full (checklist
// 21: RESET_STREAM answering STOP_SENDING, MAX_STREAM_DATA, RETIRE_CONNECTION_ID, PATH_RESPONSE,
// ...). Each kind has its own cap (one per stream and kind, kMaxPendingRetireConnectionIds,
// kMaxPendingPathResponses); with a large stream limit the per-stream ones could still add up to
// many thousands, so beyond this total the connection closes with PROTOCOL_VIOLATION.
inline constexpr size_t kMaxQueuedControlFrames = 1024;
// Disjoint received ranges (gaps) buffered over all streams of a connection (checklist 19).
// Each stream has its own kMaxReassemblyFragments, but a peer with a high stream limit could
// open that many gaps on every stream (1-byte STREAM frames with 1-byte holes: 2 bytes of
// flow-control credit per tree node). Real loss makes one gap per lost packet, and 16384 lost
// packets within one window is far beyond any congestion controller's tolerance. Beyond it,
// data opening a new gap is dropped and its packet not acknowledged, so a real peer resends.
inline constexpr size_t kMaxReassemblyFragmentsPerConnection = 16384;

// Candidate paths held at once (RFC 9000 §9: a peer probing or moving to a new 4-tuple, our
// own probes). Each costs one validation (a padded PATH_CHALLENGE datagram, and on a peer's
// path at most 3x what arrived there, §8.1, §9.3.1); a peer sending from ever more new
// addresses only replaces the oldest candidate (adversarial checklist 23).
inline constexpr size_t kMaxCandidatePaths = 4;

// RFC 9000 §8.1: before address validation a server sends at most 3x what it received.
inline constexpr uint64_t kAntiAmplificationFactor = 3;

}  // namespace quic
