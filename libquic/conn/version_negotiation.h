// Version negotiation decisions (RFC 9368): which versions are compatible, what each side puts
// in its version_information transport parameter, which version a server negotiates, the
// version a client retries with after a Version Negotiation packet, and the downgrade checks
// both sides apply to the peer's Version Information (§4). Pure functions: the connection
// (conn_crypto.cpp, conn_receive.cpp) holds the state and switches keys.
#pragma once

#include <optional>
#include <span>

#include "quic/result.h"
#include "quic/transport_parameters.h"
#include "quic/version.h"

namespace quic {

// RFC 9368 §2.2: "A is compatible with B" when a first flight of A converts into one of B.
// RFC 9369 §4: v1 and v2 are compatible in both directions; every version with itself.
bool is_compatible_version(Version from, Version to);

// Client (RFC 9368 §3): Chosen Version = `chosen` (the version of our first flight);
// Available Versions = our versions (in our order of preference) that this first flight is
// compatible with, `chosen` always among them.
VersionInformation client_version_information(Version chosen, std::span<const Version> ours);

// Server (RFC 9368 §3): Chosen Version = the negotiated version; Available Versions = every
// version we accept (a single server: Fully Deployed = Offered, §6).
VersionInformation server_version_information(Version negotiated, std::span<const Version> ours);

// Server, compatible negotiation (RFC 9368 §2.3): the first version in our order of
// preference that we support, the client lists in its Available Versions, and the client's
// Chosen Version `original` is compatible with. `original` when the client sent no Version
// Information or nothing better is shared.
Version negotiate_compatible_version(Version original,
                                     const std::optional<VersionInformation>& client,
                                     std::span<const Version> ours);

// Client, incompatible negotiation (RFC 9368 §2.1): the first of our versions (preference
// order) that we support and the server lists; nullopt when there is none.
std::optional<Version> version_after_version_negotiation(std::span<const Version> ours,
                                                         std::span<const Version> theirs);

// Server, RFC 9368 §4: the client's Chosen Version must be the version of the long headers
// that carried it (`first_flight_version`). VERSION_NEGOTIATION_ERROR otherwise. A missing
// Version Information is fine (servers MAY complete the handshake without it).
Status validate_client_version_information(const std::optional<VersionInformation>& client,
                                           Version first_flight_version);

// Client, RFC 9368 §4 (downgrade prevention): the server's Chosen Version must be the
// negotiated version (the one the long headers switched to, or our first flight's); a client
// that acted on a Version Negotiation packet requires the server's Version Information and
// must have picked the same version had the server's Available Versions been in that packet.
// `switched` says the long headers moved us to another version (RFC 9369 endpoints always
// send Version Information, so it must be there too). VERSION_NEGOTIATION_ERROR otherwise.
Status validate_server_version_information(const std::optional<VersionInformation>& server,
                                           Version negotiated, std::span<const Version> ours,
                                           bool acted_on_version_negotiation, bool switched);

}  // namespace quic
