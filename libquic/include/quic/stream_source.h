// Stream bytes the sender does not hold in memory: a file served as a response body, generated
// data. RFC 9000 §2.2 leaves buffering to the sender; §13.3 requires lost data to be sent again,
// so a source is read when a packet is built and read again for each retransmission, until the
// peer acknowledged everything (docs/architecture.md, "Stream data from a source").
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include "quic/bytes.h"

namespace quic {

// Fills `out` with the source's bytes at `offset` (counted from the source's first byte; a
// range inside the length it was attached with). Returns false when it cannot, e.g. a file that
// shrank or an I/O error: the connection then resets the stream (RFC 9000 §3.1) with the code
// given when the source was attached, and never sends bytes it did not read.
using StreamSource = std::function<bool(uint64_t offset, MutableByteSpan out)>;

// Most bytes Connection::write_source puts before a source. They are taken however full the
// stream's send buffer is, so they must stay small: an HTTP/3 DATA frame header (RFC 9114
// §7.2.1) takes at most 16.
inline constexpr size_t kMaxSourcePrefix = 64;

}  // namespace quic
