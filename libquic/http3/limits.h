// Caps of the HTTP/3 and QPACK module (docs/architecture.md, "Errors and limits"). Each says why it
// has its value; everything a peer can make us buffer is bounded by one of these.
#pragma once

#include <cstddef>
#include <cstdint>

namespace quic::h3 {

// Payload a control-stream frame (SETTINGS, and the one-varint frames) may have. SETTINGS is
// the only one of variable size; 16 KiB holds over 2000 settings, far more than any peer sends,
// while bounding what is buffered before the frame is parsed. Beyond it: H3_EXCESSIVE_LOAD
// (RFC 9114 §10.5: "activity that is suspicious").
inline constexpr uint64_t kMaxControlFramePayload = 16 * 1024;

// Default cap on a buffered HEADERS or PUSH_PROMISE payload (an encoded field section). The
// decoded section is bounded separately by max_field_section_size; an encoded section cannot
// usefully be much larger than the decoded one it produces, so 64 KiB covers the 16-64 KiB
// header limits of common servers. Configurable per reader. Beyond it: H3_EXCESSIVE_LOAD.
inline constexpr uint64_t kMaxHeadersFramePayload = 64 * 1024;

// A one-varint frame (CANCEL_PUSH, GOAWAY, MAX_PUSH_ID) cannot have more than 8 payload bytes;
// a longer Length is H3_FRAME_ERROR at once (RFC 9114 §7.1) instead of being buffered.
inline constexpr uint64_t kMaxVarintFramePayload = 8;

// Header deadlines (request_header_timeout) a server session queues before it drops those of
// requests no longer waiting for their headers. Entries leave the queue's front at their
// deadline, so behind one stalled request (slowloris) a client served quickly would otherwise
// pile up one per request for the whole timeout: with compaction whenever the queue reaches
// twice the streams held, or this floor, it stays within about twice the open requests (the
// peer's stream credit, max_incoming_streams), at an amortised constant cost per request.
inline constexpr size_t kMinHeaderDeadlineCompaction = 64;

// Largest value a QPACK prefix integer may carry. RFC 9204 §4.1.1 requires decoding up to 62
// bits; every QPACK integer is a count, index, length or stream ID that fits a varint.
inline constexpr uint64_t kMaxQpackInteger = (uint64_t{1} << 62) - 1;

// Encoder-stream bytes a QpackDecoder keeps while an instruction is incomplete, on top of what
// the largest legal instruction needs: string lengths are checked against the table capacity as
// soon as they are read (an entry cannot exceed it, RFC 9204 §3.2.2), so this only bounds the
// integer prefixes around them. The default QpackDecoder cap is 4 x capacity + this (Huffman
// can expand a string to 30/8 of its length).
inline constexpr size_t kQpackInstructionOverhead = 64;

// Unacknowledged field sections a QpackEncoder tracks per stream. A decoder that
// never acknowledges could otherwise make the encoder's reference lists grow without bound;
// once this many sections are outstanding on one stream, the encoder stops referencing the
// dynamic table for that stream (it still encodes, with literals and static references).
inline constexpr size_t kMaxUnackedSectionsPerStream = 16;

// Rapid reset (checklist H3 block; the HTTP/2 "rapid reset" attack, CVE-2023-44487): a client
// that opens requests and resets them at once makes the server parse and set up each request
// while never being limited by the concurrent-stream limit. Requests reset by the client before
// our response was complete cost a token from a bucket of this many, refilled at
// kRapidResetRefillPerSecond and by each response completed; beyond it the connection closes
// with H3_EXCESSIVE_LOAD (RFC 9114 §10.5). A browser cancelling a page's worth of requests on
// navigation stays well below.
inline constexpr uint64_t kMaxRapidResets = 200;
inline constexpr uint64_t kRapidResetRefillPerSecond = 20;

}  // namespace quic::h3
