// Caps and tuning constants of the stream module (docs/architecture.md, "Errors and limits"). Each
// says why it has its value; the connection-wide caps live in conn/limits.h.
#pragma once

#include <cstddef>
#include <cstdint>

namespace quic {

// Disjoint received ranges a ReceiveBuffer keeps above its read offset (RFC 9000 §2.2). Each is
// a tree node, and a peer sending every other byte could otherwise create window/2 of them;
// real reordering makes one gap per lost packet on the stream, far fewer than 256 in a window.
inline constexpr size_t kMaxReassemblyFragments = 256;

// Out-of-order CRYPTO data buffered past the read offset at one encryption level (§7.5 asks
// for at least 4096 bytes). 64 KiB holds the largest certificate chains we expect (~20-30 KiB)
// several times over while bounding what a peer can pin: CRYPTO has no flow control.
inline constexpr uint64_t kMaxCryptoBufferBeyondRead = 64 * 1024;

// Size of one SendBuffer storage chunk: well above a packet's payload, so splitting a STREAM
// frame at a chunk boundary happens rarely, and small enough that a fully acknowledged chunk
// is returned to the allocator promptly.
inline constexpr size_t kSendBufferChunkSize = 16 * 1024;

// Largest flow-control limit or stream offset that can be expressed (§19.8, §19.9: offsets and
// limits are varints, at most 2^62-1). Windows and limits are clamped to it.
inline constexpr uint64_t kMaxStreamOffset = (uint64_t{1} << 62) - 1;

}  // namespace quic
