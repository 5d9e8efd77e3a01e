#include "quic/transport_parameters.h"

#include <algorithm>
#include <bitset>
#include <cstdio>
#include <string>
#include <string_view>

namespace quic {

namespace {

using Id = TransportParameterId;

// The ids this file understands, for duplicate tracking and names.
constexpr Id kKnownIds[] = {
    Id::kOriginalDestinationConnectionId,
    Id::kMaxIdleTimeout,
    Id::kStatelessResetToken,
    Id::kMaxUdpPayloadSize,
    Id::kInitialMaxData,
    Id::kInitialMaxStreamDataBidiLocal,
    Id::kInitialMaxStreamDataBidiRemote,
    Id::kInitialMaxStreamDataUni,
    Id::kInitialMaxStreamsBidi,
    Id::kInitialMaxStreamsUni,
    Id::kAckDelayExponent,
    Id::kMaxAckDelay,
    Id::kDisableActiveMigration,
    Id::kPreferredAddress,
    Id::kActiveConnectionIdLimit,
    Id::kInitialSourceConnectionId,
    Id::kRetrySourceConnectionId,
    Id::kVersionInformation,
    Id::kMaxDatagramFrameSize,
    Id::kGreaseQuicBit,
};
constexpr size_t kNumKnownIds = sizeof(kKnownIds) / sizeof(kKnownIds[0]);

// Index into kKnownIds, or kNumKnownIds for an id we do not know.
size_t known_index(uint64_t id) {
    for (size_t i = 0; i < kNumKnownIds; ++i)
        if (static_cast<uint64_t>(kKnownIds[i]) == id) return i;
    return kNumKnownIds;
}

// RFC 9000 §18.2 (and the registry) names, used in error reasons.
const char* parameter_name(uint64_t id) {
    switch (static_cast<Id>(id)) {
        case Id::kOriginalDestinationConnectionId:
            return "original_destination_connection_id";
        case Id::kMaxIdleTimeout:
            return "max_idle_timeout";
        case Id::kStatelessResetToken:
            return "stateless_reset_token";
        case Id::kMaxUdpPayloadSize:
            return "max_udp_payload_size";
        case Id::kInitialMaxData:
            return "initial_max_data";
        case Id::kInitialMaxStreamDataBidiLocal:
            return "initial_max_stream_data_bidi_local";
        case Id::kInitialMaxStreamDataBidiRemote:
            return "initial_max_stream_data_bidi_remote";
        case Id::kInitialMaxStreamDataUni:
            return "initial_max_stream_data_uni";
        case Id::kInitialMaxStreamsBidi:
            return "initial_max_streams_bidi";
        case Id::kInitialMaxStreamsUni:
            return "initial_max_streams_uni";
        case Id::kAckDelayExponent:
            return "ack_delay_exponent";
        case Id::kMaxAckDelay:
            return "max_ack_delay";
        case Id::kDisableActiveMigration:
            return "disable_active_migration";
        case Id::kPreferredAddress:
            return "preferred_address";
        case Id::kActiveConnectionIdLimit:
            return "active_connection_id_limit";
        case Id::kInitialSourceConnectionId:
            return "initial_source_connection_id";
        case Id::kRetrySourceConnectionId:
            return "retry_source_connection_id";
        case Id::kVersionInformation:
            return "version_information";
        case Id::kMaxDatagramFrameSize:
            return "max_datagram_frame_size";
        case Id::kGreaseQuicBit:
            return "grease_quic_bit";
    }
    return nullptr;
}

// "transport parameter max_ack_delay (0xb): <what>"
Error param_error(TransportErrorCode code, uint64_t id, std::string_view what) {
    char hex[24];
    std::snprintf(hex, sizeof hex, "0x%llx", static_cast<unsigned long long>(id));
    const char* name = parameter_name(id);
    std::string reason = "transport parameter ";
    if (name) {
        reason += name;
        reason += " (";
        reason += hex;
        reason += ")";
    } else {
        reason += hex;
    }
    reason += ": ";
    reason += what;
    return Error::transport(code, std::move(reason));
}
Error decode_error(Id id, std::string_view what) {
    return param_error(TransportErrorCode::kTransportParameterError, static_cast<uint64_t>(id),
                       what);
}
Error encode_error(Id id, std::string_view what) {
    return param_error(TransportErrorCode::kInternalError, static_cast<uint64_t>(id), what);
}

// RFC 9000 §18.2: "A client MUST NOT include any server-only transport parameter".
bool is_server_only(Id id) {
    return id == Id::kOriginalDestinationConnectionId || id == Id::kPreferredAddress ||
           id == Id::kRetrySourceConnectionId || id == Id::kStatelessResetToken;
}

// Why integer parameter `id` cannot carry `v`, or nullptr when it can. Shared by encode and
// decode so that both sides agree on the ranges.
const char* integer_problem(Id id, uint64_t v) {
    if (v > kVarintMax) return "value exceeds 2^62-1 (RFC 9000 §16)";
    switch (id) {
        case Id::kMaxUdpPayloadSize:
            // §18.2: "Values below 1200 are invalid."
            return v < kMinMaxUdpPayloadSize ? "value below 1200 (RFC 9000 §18.2)" : nullptr;
        case Id::kAckDelayExponent:
            // §18.2: "Values above 20 are invalid."
            return v > kMaxAckDelayExponent ? "value above 20 (RFC 9000 §18.2)" : nullptr;
        case Id::kMaxAckDelay:
            // §18.2: "Values of 2^14 or greater are invalid."
            return v >= kMaxAckDelayLimitMs ? "value 2^14 or greater (RFC 9000 §18.2)" : nullptr;
        case Id::kActiveConnectionIdLimit:
            // §18.2: "MUST be at least 2 ... TRANSPORT_PARAMETER_ERROR".
            return v < kMinActiveConnectionIdLimit ? "value below 2 (RFC 9000 §18.2)" : nullptr;
        case Id::kInitialMaxStreamsBidi:
        case Id::kInitialMaxStreamsUni:
            // §4.6: above 2^60 the stream IDs would not fit a varint; TRANSPORT_PARAMETER_ERROR
            // when received in a transport parameter.
            return v > kMaxInitialMaxStreams ? "value above 2^60 (RFC 9000 §4.6)" : nullptr;
        default:
            return nullptr;
    }
}

// RFC 9368 §4's parsing failures, given facts gathered over the whole Available Versions list
// (the decoder may keep only part of it).
const char* version_information_problem(Version chosen, bool any_available_zero,
                                        bool chosen_in_available, Role sender) {
    if (chosen == 0) return "Chosen Version is zero (RFC 9368 §4)";
    if (any_available_zero) return "an Available Version is zero (RFC 9368 §4)";
    // §4: "If a server receives Version Information where the Chosen Version is not included
    // in Available Versions, it MUST treat it as a parsing failure." (§3: a client's list
    // MUST include it; a server's need not.)
    if (sender == Role::kClient && !chosen_in_available)
        return "client's Chosen Version is not in its Available Versions (RFC 9368 §4)";
    return nullptr;
}

// ---- Encoding ----

class Encoder {
  public:
    void varint(uint64_t v) {
        // Callers check v <= kVarintMax first, so the write cannot fail.
        std::array<uint8_t, 8> tmp;
        ByteWriter w(tmp);
        w.write_varint(v);
        out_.insert(out_.end(), w.written().begin(), w.written().end());
    }
    void bytes(ByteSpan b) { out_.insert(out_.end(), b.begin(), b.end()); }
    void u8(uint8_t v) { out_.push_back(v); }
    void u16(uint16_t v) {
        out_.push_back(static_cast<uint8_t>(v >> 8));
        out_.push_back(static_cast<uint8_t>(v));
    }
    void u32(uint32_t v) {
        for (int shift = 24; shift >= 0; shift -= 8)
            out_.push_back(static_cast<uint8_t>(v >> shift));
    }

    void header(uint64_t id, size_t length) {
        varint(id);
        varint(length);
    }
    void integer_param(Id id, uint64_t v) {
        header(static_cast<uint64_t>(id), varint_size(v));
        varint(v);
    }
    void bytes_param(Id id, ByteSpan b) {
        header(static_cast<uint64_t>(id), b.size());
        bytes(b);
    }

    Bytes take() { return std::move(out_); }

  private:
    Bytes out_;
};

// The grease parameter's value length is drawn from [0, kMaxGreaseValueLength]: short, since
// it rides in the ClientHello/EncryptedExtensions (§18.1 allows any value).
constexpr uint64_t kMaxGreaseValueLength = 16;

}  // namespace

Result<Bytes> encode_transport_parameters(const TransportParameters& p, Role sender,
                                          Random* grease_rng) {
    if (sender == Role::kClient) {
        // §18.2: a client MUST NOT include a server-only parameter. Sending one would make the
        // server close the connection, so refuse here where the bug is.
        if (p.original_destination_connection_id)
            return encode_error(Id::kOriginalDestinationConnectionId,
                                "server-only, sender is a client");
        if (p.stateless_reset_token)
            return encode_error(Id::kStatelessResetToken, "server-only, sender is a client");
        if (p.preferred_address)
            return encode_error(Id::kPreferredAddress, "server-only, sender is a client");
        if (p.retry_source_connection_id)
            return encode_error(Id::kRetrySourceConnectionId, "server-only, sender is a client");
    }

    // Integer parameters in id order: (id, value, default).
    struct IntegerParam {
        Id id;
        uint64_t value;
        uint64_t default_value;
    };
    const IntegerParam integers[] = {
        {Id::kMaxIdleTimeout, p.max_idle_timeout_ms, 0},
        {Id::kMaxUdpPayloadSize, p.max_udp_payload_size, kDefaultMaxUdpPayloadSize},
        {Id::kInitialMaxData, p.initial_max_data, 0},
        {Id::kInitialMaxStreamDataBidiLocal, p.initial_max_stream_data_bidi_local, 0},
        {Id::kInitialMaxStreamDataBidiRemote, p.initial_max_stream_data_bidi_remote, 0},
        {Id::kInitialMaxStreamDataUni, p.initial_max_stream_data_uni, 0},
        {Id::kInitialMaxStreamsBidi, p.initial_max_streams_bidi, 0},
        {Id::kInitialMaxStreamsUni, p.initial_max_streams_uni, 0},
        {Id::kAckDelayExponent, p.ack_delay_exponent, kDefaultAckDelayExponent},
        {Id::kMaxAckDelay, p.max_ack_delay_ms, kDefaultMaxAckDelayMs},
        {Id::kActiveConnectionIdLimit, p.active_connection_id_limit, kMinActiveConnectionIdLimit},
    };
    for (const IntegerParam& ip : integers)
        if (const char* why = integer_problem(ip.id, ip.value)) return encode_error(ip.id, why);
    if (p.max_datagram_frame_size)
        if (const char* why =
                integer_problem(Id::kMaxDatagramFrameSize, *p.max_datagram_frame_size))
            return encode_error(Id::kMaxDatagramFrameSize, why);
    if (p.preferred_address && p.preferred_address->connection_id.empty())
        return encode_error(Id::kPreferredAddress, "zero-length connection ID (RFC 9000 §18.2)");
    if (const auto& vi = p.version_information) {
        if (vi->available_versions.size() > kMaxAvailableVersions)
            return encode_error(Id::kVersionInformation,
                                "more than kMaxAvailableVersions versions");
        bool any_zero = std::find(vi->available_versions.begin(), vi->available_versions.end(),
                                  Version{0}) != vi->available_versions.end();
        bool chosen_in = std::find(vi->available_versions.begin(), vi->available_versions.end(),
                                   vi->chosen_version) != vi->available_versions.end();
        if (const char* why =
                version_information_problem(vi->chosen_version, any_zero, chosen_in, sender))
            return encode_error(Id::kVersionInformation, why);
    }

    Encoder e;
    auto integer_at = [&](Id id) {
        for (const IntegerParam& ip : integers)
            if (ip.id == id && ip.value != ip.default_value) e.integer_param(id, ip.value);
    };
    // Ascending id order: not required (§18 sets no order), but stable output is easier to
    // compare in tests and traces.
    if (p.original_destination_connection_id)
        e.bytes_param(Id::kOriginalDestinationConnectionId,
                      p.original_destination_connection_id->bytes());
    integer_at(Id::kMaxIdleTimeout);
    if (p.stateless_reset_token) e.bytes_param(Id::kStatelessResetToken, *p.stateless_reset_token);
    for (Id id : {Id::kMaxUdpPayloadSize, Id::kInitialMaxData, Id::kInitialMaxStreamDataBidiLocal,
                  Id::kInitialMaxStreamDataBidiRemote, Id::kInitialMaxStreamDataUni,
                  Id::kInitialMaxStreamsBidi, Id::kInitialMaxStreamsUni, Id::kAckDelayExponent,
                  Id::kMaxAckDelay})
        integer_at(id);
    // §18.2: "This parameter is a zero-length value."
    if (p.disable_active_migration) e.header(static_cast<uint64_t>(Id::kDisableActiveMigration), 0);
    if (const auto& pa = p.preferred_address) {
        // §18.2, Figure 22: 4 + 2 + 16 + 2 + 1 + cid + 16 bytes.
        e.header(static_cast<uint64_t>(Id::kPreferredAddress),
                 4 + 2 + 16 + 2 + 1 + pa->connection_id.size() + kStatelessResetTokenLength);
        e.bytes(pa->ipv4_address);
        e.u16(pa->ipv4_port);
        e.bytes(pa->ipv6_address);
        e.u16(pa->ipv6_port);
        e.u8(static_cast<uint8_t>(pa->connection_id.size()));
        e.bytes(pa->connection_id.bytes());
        e.bytes(pa->stateless_reset_token);
    }
    integer_at(Id::kActiveConnectionIdLimit);
    if (p.initial_source_connection_id)
        e.bytes_param(Id::kInitialSourceConnectionId, p.initial_source_connection_id->bytes());
    if (p.retry_source_connection_id)
        e.bytes_param(Id::kRetrySourceConnectionId, p.retry_source_connection_id->bytes());
    if (const auto& vi = p.version_information) {
        // RFC 9368 §3, Figure 3: Chosen Version (32), Available Versions (32) ...
        e.header(static_cast<uint64_t>(Id::kVersionInformation),
                 4 * (1 + vi->available_versions.size()));
        e.u32(vi->chosen_version);
        for (Version v : vi->available_versions) e.u32(v);
    }
    if (p.max_datagram_frame_size)
        e.integer_param(Id::kMaxDatagramFrameSize, *p.max_datagram_frame_size);
    // RFC 9287 §3: a zero-length value.
    if (p.grease_quic_bit) e.header(static_cast<uint64_t>(Id::kGreaseQuicBit), 0);

    if (grease_rng) {
        // §18.1: ids 31*N+27 are reserved to exercise §7.4.2's "MUST ignore". N is drawn so that
        // the id still fits a varint. None of them collides with an id we know.
        uint64_t n = grease_rng->uniform((kVarintMax - 27) / 31 + 1);
        std::array<uint8_t, kMaxGreaseValueLength> value;
        size_t len = static_cast<size_t>(grease_rng->uniform(kMaxGreaseValueLength + 1));
        grease_rng->fill(std::span<uint8_t>(value.data(), len));
        e.header(31 * n + 27, len);
        e.bytes(ByteSpan(value.data(), len));
    }
    return e.take();
}

namespace {

// ---- Decoding: one parameter's value ----

Status decode_connection_id(Id id, ByteSpan value, std::optional<ConnectionId>& out) {
    ConnectionId cid;
    // §17.2 (v1 and v2): connection IDs MUST NOT exceed 20 bytes.
    if (!ConnectionId::from_bytes(value, cid))
        return decode_error(id, "connection ID longer than 20 bytes (RFC 9000 §17.2)");
    out = cid;
    return {};
}

Status decode_integer(Id id, ByteSpan value, uint64_t& out) {
    // §18.2: integer parameters are one varint; the Length must be exactly its size, so
    // neither an empty value nor trailing bytes are accepted.
    ByteReader r(value);
    uint64_t v;
    if (!r.read_varint(v) || !r.empty())
        return decode_error(id, "value is not exactly one varint (RFC 9000 §18.2)");
    if (const char* why = integer_problem(id, v)) return decode_error(id, why);
    out = v;
    return {};
}

Status decode_empty(Id id, ByteSpan value, bool& out) {
    // §18.2 (disable_active_migration) and RFC 9287 §3 (grease_quic_bit): zero-length values.
    if (!value.empty()) return decode_error(id, "value must be empty");
    out = true;
    return {};
}

Status decode_preferred_address(ByteSpan value, std::optional<PreferredAddress>& out) {
    constexpr Id id = Id::kPreferredAddress;
    // §18.2, Figure 22. Any length other than the one the fields imply is malformed.
    ByteReader r(value);
    PreferredAddress pa;
    uint8_t cid_len = 0;
    ByteSpan cid;
    if (!r.copy_bytes(pa.ipv4_address) || !r.read_u16(pa.ipv4_port) ||
        !r.copy_bytes(pa.ipv6_address) || !r.read_u16(pa.ipv6_port) || !r.read_u8(cid_len))
        return decode_error(id, "value too short (RFC 9000 §18.2)");
    // §18.2: "a server MUST NOT include a zero-length connection ID in this transport
    // parameter. A client MUST treat a violation ... as ... TRANSPORT_PARAMETER_ERROR."
    if (cid_len == 0) return decode_error(id, "zero-length connection ID (RFC 9000 §18.2)");
    if (cid_len > kMaxConnectionIdLength)
        return decode_error(id, "connection ID longer than 20 bytes (RFC 9000 §17.2)");
    if (!r.read_bytes(cid_len, cid) || !r.copy_bytes(pa.stateless_reset_token))
        return decode_error(id, "value too short (RFC 9000 §18.2)");
    if (!r.empty()) return decode_error(id, "trailing bytes after the stateless reset token");
    pa.connection_id = ConnectionId(cid);
    out = pa;
    return {};
}

Status decode_version_information(ByteSpan value, Role sender,
                                  std::optional<VersionInformation>& out) {
    constexpr Id id = Id::kVersionInformation;
    // RFC 9368 §4: a parsing failure ("for example, if it is too short or if its length is
    // not divisible by four") MUST close a v1 connection with TRANSPORT_PARAMETER_ERROR. The
    // Chosen Version is mandatory (§3, Figure 3), so an empty value is too short. (In v2,
    // RFC 9369 keeps v1's transport parameters and error codes.)
    if (value.empty() || value.size() % 4 != 0)
        return decode_error(id, "length is not a positive multiple of 4 (RFC 9368 §4)");
    ByteReader r(value);
    VersionInformation vi;
    r.read_u32(vi.chosen_version);
    bool any_zero = false;
    bool chosen_in = false;
    // Look at every version (so the cap never changes the verdict), keep the first few.
    for (uint32_t v; r.read_u32(v);) {
        any_zero |= v == 0;
        chosen_in |= v == vi.chosen_version;
        if (vi.available_versions.size() < kMaxAvailableVersions)
            vi.available_versions.push_back(v);
    }
    if (const char* why =
            version_information_problem(vi.chosen_version, any_zero, chosen_in, sender))
        return decode_error(id, why);
    // A Chosen Version listed only past the cap takes the last kept place: what we keep must
    // itself be valid Version Information (a client's list includes its choice, §3), so that
    // it re-encodes (tests/fuzz/transport_parameters_fuzzer.cpp).
    auto& kept = vi.available_versions;
    if (chosen_in && std::find(kept.begin(), kept.end(), vi.chosen_version) == kept.end())
        kept.back() = vi.chosen_version;
    out = std::move(vi);
    return {};
}

Status decode_one(Id id, ByteSpan value, Role sender, TransportParameters& p) {
    switch (id) {
        case Id::kOriginalDestinationConnectionId:
            return decode_connection_id(id, value, p.original_destination_connection_id);
        case Id::kInitialSourceConnectionId:
            return decode_connection_id(id, value, p.initial_source_connection_id);
        case Id::kRetrySourceConnectionId:
            return decode_connection_id(id, value, p.retry_source_connection_id);
        case Id::kStatelessResetToken: {
            // §18.2: "This parameter is a sequence of 16 bytes."
            if (value.size() != kStatelessResetTokenLength)
                return decode_error(id, "length is not 16 (RFC 9000 §18.2)");
            StatelessResetToken token;
            std::copy(value.begin(), value.end(), token.begin());
            p.stateless_reset_token = token;
            return {};
        }
        case Id::kMaxIdleTimeout:
            return decode_integer(id, value, p.max_idle_timeout_ms);
        case Id::kMaxUdpPayloadSize:
            return decode_integer(id, value, p.max_udp_payload_size);
        case Id::kInitialMaxData:
            return decode_integer(id, value, p.initial_max_data);
        case Id::kInitialMaxStreamDataBidiLocal:
            return decode_integer(id, value, p.initial_max_stream_data_bidi_local);
        case Id::kInitialMaxStreamDataBidiRemote:
            return decode_integer(id, value, p.initial_max_stream_data_bidi_remote);
        case Id::kInitialMaxStreamDataUni:
            return decode_integer(id, value, p.initial_max_stream_data_uni);
        case Id::kInitialMaxStreamsBidi:
            return decode_integer(id, value, p.initial_max_streams_bidi);
        case Id::kInitialMaxStreamsUni:
            return decode_integer(id, value, p.initial_max_streams_uni);
        case Id::kAckDelayExponent:
            return decode_integer(id, value, p.ack_delay_exponent);
        case Id::kMaxAckDelay:
            return decode_integer(id, value, p.max_ack_delay_ms);
        case Id::kActiveConnectionIdLimit:
            return decode_integer(id, value, p.active_connection_id_limit);
        case Id::kMaxDatagramFrameSize: {
            // RFC 9221 §3: "an integer value (represented as a variable-length integer)".
            uint64_t v = 0;
            QUIC_TRY(decode_integer(id, value, v));
            p.max_datagram_frame_size = v;
            return {};
        }
        case Id::kDisableActiveMigration:
            return decode_empty(id, value, p.disable_active_migration);
        case Id::kGreaseQuicBit:
            return decode_empty(id, value, p.grease_quic_bit);
        case Id::kPreferredAddress:
            return decode_preferred_address(value, p.preferred_address);
        case Id::kVersionInformation:
            return decode_version_information(value, sender, p.version_information);
    }
    return {};  // unreachable: only known ids get here
}

}  // namespace

Result<TransportParameters> decode_transport_parameters(ByteSpan data, Role sender) {
    TransportParameters p;
    std::bitset<kNumKnownIds> seen;
    // Ids we ignore, kept only to find duplicates (§7.4). At most data.size() / 2 entries
    // (each parameter takes at least 2 bytes), and the TLS extension is at most 64 KiB.
    std::vector<uint64_t> unknown_ids;
    ByteReader r(data);
    while (!r.empty()) {
        // §18, Figure 21: Transport Parameter ID (i), Length (i), Value (..).
        uint64_t id = 0;
        uint64_t length = 0;
        ByteSpan value;
        if (!r.read_varint(id))
            return Error::transport(TransportErrorCode::kTransportParameterError,
                                    "transport parameters: truncated parameter id");
        if (!r.read_varint(length))
            return param_error(TransportErrorCode::kTransportParameterError, id,
                               "truncated length");
        if (length > r.remaining() || !r.read_bytes(static_cast<size_t>(length), value))
            return param_error(TransportErrorCode::kTransportParameterError, id,
                               "value truncated (length exceeds the remaining bytes)");

        size_t index = known_index(id);
        if (index == kNumKnownIds) {
            // §7.4.2: "An endpoint MUST ignore transport parameters that it does not support",
            // including the reserved ids of §18.1.
            unknown_ids.push_back(id);
            continue;
        }
        Id known = static_cast<Id>(id);
        // §18.2: "A server MUST treat receipt of any of these transport parameters as a
        // connection error of type TRANSPORT_PARAMETER_ERROR."
        if (sender == Role::kClient && is_server_only(known))
            return decode_error(known, "server-only parameter sent by a client (RFC 9000 §18.2)");
        // §7.4: "An endpoint SHOULD treat receipt of duplicate transport parameters as a
        // connection error of type TRANSPORT_PARAMETER_ERROR."
        if (seen[index]) return decode_error(known, "duplicate parameter (RFC 9000 §7.4)");
        seen.set(index);
        QUIC_TRY(decode_one(known, value, sender, p));
    }
    std::sort(unknown_ids.begin(), unknown_ids.end());
    auto dup = std::adjacent_find(unknown_ids.begin(), unknown_ids.end());
    if (dup != unknown_ids.end())
        return param_error(TransportErrorCode::kTransportParameterError, *dup,
                           "duplicate parameter (RFC 9000 §7.4)");
    return p;
}

Status validate_connection_id_parameters(const TransportParameters& peer, Role peer_role,
                                         const ConnectionId& expected_initial_scid,
                                         const ConnectionId* expected_odcid,
                                         const ConnectionId* expected_retry_scid) {
    // All failures use TRANSPORT_PARAMETER_ERROR; see the header for why.
    auto mismatch = [](Id id, const ConnectionId& got, const ConnectionId& want) {
        return decode_error(id, "is " + got.to_hex() + ", the Initial packets had " +
                                    want.to_hex() + " (RFC 9000 §7.3)");
    };
    // §7.3: "An endpoint MUST treat the absence of the initial_source_connection_id transport
    // parameter from either endpoint ... as a connection error of type
    // TRANSPORT_PARAMETER_ERROR."
    if (!peer.initial_source_connection_id)
        return decode_error(Id::kInitialSourceConnectionId, "missing (RFC 9000 §7.3)");
    if (*peer.initial_source_connection_id != expected_initial_scid)
        return mismatch(Id::kInitialSourceConnectionId, *peer.initial_source_connection_id,
                        expected_initial_scid);
    // The server-only parameters cannot be present from a client: decode rejects them.
    if (peer_role == Role::kClient) return {};

    if (!expected_odcid)
        return Error::transport(TransportErrorCode::kInternalError,
                                "validate_connection_id_parameters: no expected "
                                "original_destination_connection_id for a server peer");
    // §7.3: "... or the absence of the original_destination_connection_id transport parameter
    // from the server as a connection error of type TRANSPORT_PARAMETER_ERROR."
    if (!peer.original_destination_connection_id)
        return decode_error(Id::kOriginalDestinationConnectionId, "missing (RFC 9000 §7.3)");
    if (*peer.original_destination_connection_id != *expected_odcid)
        return mismatch(Id::kOriginalDestinationConnectionId,
                        *peer.original_destination_connection_id, *expected_odcid);
    // §7.3: absence after a Retry, or presence without one, is TRANSPORT_PARAMETER_ERROR or
    // PROTOCOL_VIOLATION.
    if (expected_retry_scid) {
        if (!peer.retry_source_connection_id)
            return decode_error(Id::kRetrySourceConnectionId,
                                "missing although a Retry was received (RFC 9000 §7.3)");
        if (*peer.retry_source_connection_id != *expected_retry_scid)
            return mismatch(Id::kRetrySourceConnectionId, *peer.retry_source_connection_id,
                            *expected_retry_scid);
    } else if (peer.retry_source_connection_id) {
        return decode_error(Id::kRetrySourceConnectionId,
                            "present although no Retry was received (RFC 9000 §7.3)");
    }
    return {};
}

}  // namespace quic
