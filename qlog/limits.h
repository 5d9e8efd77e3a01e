// Named caps on what one qlog event may hold (docs/architecture.md, "Errors and limits": qlog is
// attack surface). Much of what the writer logs comes from the peer (reasons, tokens, ACK ranges,
// frame lists); each cap keeps one event small whatever the peer sends, and nothing here is
// a fixed-size buffer: a value over its cap is cut, and the cut is said in the output.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace qlog {

// Appended to a text value that was cut at its cap (UTF-8 "…" then "(truncated)").
inline constexpr std::string_view kTruncationMarker = "\xE2\x80\xA6(truncated)";

// CONNECTION_CLOSE reason phrases and close reasons. RFC 9000 §19.19 bounds them only by the
// packet (~1200 bytes); a reason longer than a line of text says nothing more for debugging.
inline constexpr size_t kMaxReasonBytes = 512;

// Opaque blobs logged as hex (NEW_TOKEN tokens): the first bytes identify a token, the rest is
// ciphertext. qlog's truncated-hexstring rule applies (main schema §11.4 "Truncated values"):
// raw.length keeps the full length and raw.data holds only the first kMaxHexBytes bytes.
inline constexpr size_t kMaxHexBytes = 32;

// ALPN identifiers: TLS allows up to 255 bytes (RFC 7301 §3.1); real ones are a few bytes.
inline constexpr size_t kMaxAlpnBytes = 64;

// Free-text state names handed in by the core (congestion and stream states): short words.
inline constexpr size_t kMaxStateNameBytes = 64;

// ACK ranges written per ACK frame. A peer can send thousands of ranges (one per missing
// packet); the first (newest) ranges are what a person debugging looks at. The rest are
// counted in "acked_ranges_omitted".
inline constexpr size_t kMaxAckRanges = 32;

// Frames written per packet. A 1500-byte packet can hold ~1500 one-byte PING frames; beyond
// this cap they are counted in "frames_omitted".
inline constexpr size_t kMaxFramesPerPacket = 64;

// Versions written per list (version_information, Version Negotiation packets, the
// version_information transport parameter). Real lists have a handful.
inline constexpr size_t kMaxVersions = 16;

// HTTP/3 header fields written per HEADERS frame (the rest counted in headers_omitted), and
// the bytes of each name or value: a peer controls both.
inline constexpr size_t kMaxHttp3Fields = 64;
inline constexpr size_t kMaxHttp3FieldBytes = 256;

// A tracer's buffer goes to its sink (the writer thread, or the file) when it reaches this
// size, on connection close and at destruction. One hand-over per 64 KiB (about 500 packets
// at the default level) keeps the queue's lock and the writes cheap next to the packets.
inline constexpr size_t kWriteBufferBytes = 64 * 1024;

// The writer thread's queue (qlog/trace_writer.h): bytes of trace handed over by every
// connection of the process and not yet on disk. A 4 Gbit/s download makes about 60 MB/s of
// default-level trace at the server (about 170 MB/s at --qlog-level full), so this absorbs a
// disk stall of a quarter of a second (a tenth at full); past it, whole buffers of events are
// dropped (and counted in the trace) rather than making the event loop wait or memory grow
// with a disk that cannot keep up.
inline constexpr size_t kMaxQueuedTraceBytes = size_t{16} << 20;

// Written buffers the writer thread keeps for the tracers to fill again, instead of freeing
// and allocating 64 KiB per buffer; more would only pin memory.
inline constexpr size_t kMaxSpareTraceBuffers = 8;

// A whole trace file. A long, busy connection makes a big trace (about 100 bytes per packet);
// past this size the writer logs one last event saying so and stops, so a peer cannot fill
// the disk by keeping a connection open.
inline constexpr uint64_t kMaxTraceFileBytes = uint64_t{1} << 30;

// The reader: files bigger than this are refused rather than loaded into memory.
inline constexpr uint64_t kMaxReadFileBytes = uint64_t{2} << 30;

}  // namespace qlog
