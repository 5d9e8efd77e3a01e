// What the endpoint does with a client's Initial before any connection exists (RFC 9001 §5.2,
// §5.4): it opens the packet with the Initial keys derived from the packet's own Destination
// Connection ID, so that only Initials that decrypt (a real client's, or a real QUIC stack's)
// ever get state; and it can answer one with a server Initial carrying CONNECTION_CLOSE
// (RFC 9000 §10.2.3), e.g. CONNECTION_REFUSED or INVALID_TOKEN, still without state.
#pragma once

#include <optional>
#include <string_view>

#include "crypto/initial_secrets.h"
#include "quic/bytes.h"
#include "quic/error.h"
#include "wire/packet_header.h"

namespace quic {

// Opens a copy of the datagram's first packet (`packet`: exactly header.packet_size bytes, a
// client Initial of a supported version) in `scratch`: header protection removed, payload
// authenticated. Returns the Initial keys on success (the server's half seals a reply), nullopt
// when the packet does not decrypt. The datagram itself is left untouched for the connection.
std::optional<InitialKeys> open_client_initial(const PacketHeader& header, ByteSpan packet,
                                               Bytes& scratch);

// A protected Initial packet (RFC 9000 §17.2.2, RFC 9001 §5) carrying `frames` (encoded),
// followed by PADDING frames until the packet is at least `min_size` bytes (a client pads its
// Initial datagrams to 1200, §14.1) and the header-protection sample fits (§5.4.2). Sealed with
// `keys` (the client's half of the Initial keys for a client Initial). Empty on failure. The
// endpoint uses it for its CONNECTION_CLOSE replies; tests and tools for client Initials.
Bytes seal_initial(Version version, const ConnectionId& dcid, const ConnectionId& scid,
                   ByteSpan token, uint64_t packet_number, ByteSpan frames, size_t min_size,
                   DirectionalKeys& keys);

// A server Initial with only a CONNECTION_CLOSE frame (type 0x1c, a transport error), sealed
// with the server's Initial keys. `dcid` is the client's Source Connection ID, `scid` the
// Destination Connection ID it used. Small (no padding is needed: CONNECTION_CLOSE is not
// ack-eliciting, RFC 9000 §14.1), so it never amplifies. Empty on failure.
Bytes build_initial_close(Version version, const ConnectionId& dcid, const ConnectionId& scid,
                          TransportErrorCode code, std::string_view reason,
                          DirectionalKeys& server_keys);

}  // namespace quic
