// QUIC transport parameters: the body of the quic_transport_parameters TLS extension
// (RFC 9000 §7.4, §18; RFC 9001 §8.2), plus the extensions this library speaks:
// version_information (RFC 9368 §3), max_datagram_frame_size (RFC 9221 §3) and
// grease_quic_bit (RFC 9287 §3).
//
// The codec is pure: it checks each parameter on its own (ranges, lengths, who may send it).
// Rules that need connection state (are the required parameters present, do the connection
// IDs match the Initial packets, RFC 9000 §7.3; does the chosen version match the packets,
// RFC 9368 §4) belong to the connection; validate_connection_id_parameters() implements the
// §7.3 part for it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "quic/bytes.h"
#include "quic/connection_id.h"
#include "quic/random.h"
#include "quic/result.h"
#include "quic/version.h"

namespace quic {

// An endpoint's perspective: which side of the connection it is. Here it names the side that
// sent a set of transport parameters, since some are server-only (RFC 9000 §18.2).
// (Lives here until a more general header needs it.)
enum class Role : uint8_t { kClient, kServer };

// RFC 9000 §18.2 and the IANA registry (§22.3), plus the extensions named above.
enum class TransportParameterId : uint64_t {
    kOriginalDestinationConnectionId = 0x00,
    kMaxIdleTimeout = 0x01,
    kStatelessResetToken = 0x02,
    kMaxUdpPayloadSize = 0x03,
    kInitialMaxData = 0x04,
    kInitialMaxStreamDataBidiLocal = 0x05,
    kInitialMaxStreamDataBidiRemote = 0x06,
    kInitialMaxStreamDataUni = 0x07,
    kInitialMaxStreamsBidi = 0x08,
    kInitialMaxStreamsUni = 0x09,
    kAckDelayExponent = 0x0a,
    kMaxAckDelay = 0x0b,
    kDisableActiveMigration = 0x0c,
    kPreferredAddress = 0x0d,
    kActiveConnectionIdLimit = 0x0e,
    kInitialSourceConnectionId = 0x0f,
    kRetrySourceConnectionId = 0x10,
    kVersionInformation = 0x11,    // RFC 9368 §10.1
    kMaxDatagramFrameSize = 0x20,  // RFC 9221 §7.1
    kGreaseQuicBit = 0x2ab2,       // RFC 9287 §3
};

// Limits on values, RFC 9000 §18.2 unless noted.
inline constexpr uint64_t kMinMaxUdpPayloadSize = 1200;       // "Values below 1200 are invalid."
inline constexpr uint64_t kDefaultMaxUdpPayloadSize = 65527;  // "maximum permitted UDP payload"
inline constexpr uint64_t kMaxAckDelayExponent = 20;          // "Values above 20 are invalid."
inline constexpr uint64_t kDefaultAckDelayExponent = 3;
inline constexpr uint64_t kMaxAckDelayLimitMs = uint64_t{1} << 14;  // "2^14 or greater are invalid"
inline constexpr uint64_t kDefaultMaxAckDelayMs = 25;
inline constexpr uint64_t kMinActiveConnectionIdLimit = 2;  // "MUST be at least 2"
// §4.6: a larger stream count would allow a stream ID that no varint can carry.
inline constexpr uint64_t kMaxInitialMaxStreams = uint64_t{1} << 60;

// The versions of a peer's Version Information we keep. The TLS extension can carry ~16k
// versions (64 KiB / 4); no deployment has more than a handful, and we only ever compare
// them against our own short list. Decoding keeps the first kMaxAvailableVersions and drops
// the rest rather than failing (the Chosen Version, when listed past them, takes the last
// kept place): RFC 9368 §4 lists the parsing failures, and a long list is not one of them. (The
// whole list is still checked for zeros and, from a client, for the Chosen Version, so the cap
// never changes whether a blob is accepted.)
inline constexpr size_t kMaxAvailableVersions = 64;

// RFC 9000 §18.2, Figure 22.
struct PreferredAddress {
    std::array<uint8_t, 4> ipv4_address{};
    uint16_t ipv4_port = 0;
    std::array<uint8_t, 16> ipv6_address{};
    uint16_t ipv6_port = 0;
    ConnectionId connection_id;  // never empty (§18.2)
    StatelessResetToken stateless_reset_token{};

    bool operator==(const PreferredAddress&) const = default;
};

// RFC 9368 §3, Figure 3.
struct VersionInformation {
    Version chosen_version = 0;
    std::vector<Version> available_versions;  // at most kMaxAvailableVersions after decoding

    bool operator==(const VersionInformation&) const = default;
};

// Every field holds the RFC's default when the parameter is absent (§18.2: 0 unless stated).
// std::optional fields have no default: absence is meaningful (§7.3, RFC 9221 §3).
struct TransportParameters {
    std::optional<ConnectionId> original_destination_connection_id;  // server only
    uint64_t max_idle_timeout_ms = 0;
    std::optional<StatelessResetToken> stateless_reset_token;  // server only
    uint64_t max_udp_payload_size = kDefaultMaxUdpPayloadSize;
    uint64_t initial_max_data = 0;
    uint64_t initial_max_stream_data_bidi_local = 0;
    uint64_t initial_max_stream_data_bidi_remote = 0;
    uint64_t initial_max_stream_data_uni = 0;
    uint64_t initial_max_streams_bidi = 0;
    uint64_t initial_max_streams_uni = 0;
    uint64_t ack_delay_exponent = kDefaultAckDelayExponent;
    uint64_t max_ack_delay_ms = kDefaultMaxAckDelayMs;
    bool disable_active_migration = false;
    std::optional<PreferredAddress> preferred_address;  // server only
    uint64_t active_connection_id_limit = kMinActiveConnectionIdLimit;
    std::optional<ConnectionId> initial_source_connection_id;
    std::optional<ConnectionId> retry_source_connection_id;  // server only
    // RFC 9221 §3: absent means no DATAGRAM support; kept optional so that an explicit 0
    // round-trips.
    std::optional<uint64_t> max_datagram_frame_size;
    bool grease_quic_bit = false;                           // RFC 9287 §3
    std::optional<VersionInformation> version_information;  // RFC 9368 §3

    bool operator==(const TransportParameters&) const = default;
};

// Encodes the extension body (RFC 9000 §18), parameters in ascending id order. Integer and
// flag parameters equal to their default are omitted; optional ones are sent when present.
// With grease_rng, one reserved parameter (id 31*N+27, §18.1) with 0..16 random bytes is
// appended, so that peers keep ignoring unknown parameters (§7.4.2).
//
// Fails with INTERNAL_ERROR, rather than silently dropping or sending something the peer
// must reject, when `params` is not valid to send as `sender`: a server-only parameter from
// a client (§18.2), a value outside its range, a zero-length preferred-address connection ID,
// a Version Information the peer would fail to parse (RFC 9368 §4) or with more than
// kMaxAvailableVersions versions. Whatever encodes successfully decodes to the same value.
Result<Bytes> encode_transport_parameters(const TransportParameters& params, Role sender,
                                          Random* grease_rng = nullptr);

// Decodes and checks a peer's extension body; `sender` is the peer's role. Every failure is
// TRANSPORT_PARAMETER_ERROR with a reason naming the parameter (§7.4, §18.2, §4.6, RFC 9368
// §4, RFC 9221 §3, RFC 9287 §3). Unknown and reserved parameters are ignored (§7.4.2), but
// a duplicate of any id is an error (§7.4). Presence of required parameters is not checked
// here; see validate_connection_id_parameters().
Result<TransportParameters> decode_transport_parameters(ByteSpan data, Role sender);

// RFC 9000 §7.3: checks the connection-ID parameters of the peer (whose role is peer_role)
// against the connection IDs seen in Initial and Retry packets:
//  - expected_initial_scid: the Source Connection ID of the peer's first Initial packet;
//  - expected_odcid: when the peer is a server, the Destination Connection ID of the
//    client's first Initial packet (required then; ignored when the peer is a client);
//  - expected_retry_scid: when the peer is a server, the Source Connection ID of the Retry
//    packet the client received, or nullptr when it received none (ignored for a client).
// Every failure is TRANSPORT_PARAMETER_ERROR: §7.3 requires it for absent parameters and
// allows it (or PROTOCOL_VIOLATION) for the Retry and mismatch cases; one code keeps the
// peer's view simple, and the reason says which rule failed. A server peer with
// expected_odcid == nullptr is a caller bug: INTERNAL_ERROR.
Status validate_connection_id_parameters(const TransportParameters& peer, Role peer_role,
                                         const ConnectionId& expected_initial_scid,
                                         const ConnectionId* expected_odcid,
                                         const ConnectionId* expected_retry_scid);

}  // namespace quic
