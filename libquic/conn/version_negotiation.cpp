#include "conn/version_negotiation.h"

#include <algorithm>
#include <cstdio>
#include <string>

namespace quic {
namespace {

bool contains(std::span<const Version> list, Version v) {
    return std::find(list.begin(), list.end(), v) != list.end();
}

Error version_negotiation_error(const char* what, Version expected, Version got) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "%s: 0x%08x, expected 0x%08x", what, got, expected);
    return Error::transport(TransportErrorCode::kVersionNegotiationError, buf);
}

}  // namespace

bool is_compatible_version(Version from, Version to) {
    if (!is_supported_version(from) || !is_supported_version(to)) return false;
    return true;  // v1 <-> v2 both ways (RFC 9369 §4), and each with itself
}

VersionInformation client_version_information(Version chosen, std::span<const Version> ours) {
    VersionInformation vi;
    vi.chosen_version = chosen;
    for (Version v : ours)
        if (is_compatible_version(chosen, v) && !contains(vi.available_versions, v))
            vi.available_versions.push_back(v);
    // §3: the Chosen Version MUST be in the list (last if the caller's list lacks it).
    if (!contains(vi.available_versions, chosen)) vi.available_versions.push_back(chosen);
    return vi;
}

VersionInformation server_version_information(Version negotiated, std::span<const Version> ours) {
    VersionInformation vi;
    vi.chosen_version = negotiated;
    for (Version v : ours)
        if (v != 0 && !contains(vi.available_versions, v)) vi.available_versions.push_back(v);
    return vi;
}

Version negotiate_compatible_version(Version original,
                                     const std::optional<VersionInformation>& client,
                                     std::span<const Version> ours) {
    if (!client) return original;
    for (Version v : ours) {
        if (!is_supported_version(v) || !is_compatible_version(original, v)) continue;
        if (v == original || contains(client->available_versions, v)) return v;
    }
    return original;
}

std::optional<Version> version_after_version_negotiation(std::span<const Version> ours,
                                                         std::span<const Version> theirs) {
    for (Version v : ours)
        if (is_supported_version(v) && contains(theirs, v)) return v;
    return std::nullopt;
}

Status validate_client_version_information(const std::optional<VersionInformation>& client,
                                           Version first_flight_version) {
    if (client && client->chosen_version != first_flight_version)
        return version_negotiation_error("the client's Chosen Version does not match its packets",
                                         first_flight_version, client->chosen_version);
    return {};
}

Status validate_server_version_information(const std::optional<VersionInformation>& server,
                                           Version negotiated, std::span<const Version> ours,
                                           bool acted_on_version_negotiation, bool switched) {
    if (!server) {
        if (acted_on_version_negotiation)
            return Error::transport(TransportErrorCode::kVersionNegotiationError,
                                    "no Version Information after Version Negotiation");
        if (switched)
            return Error::transport(TransportErrorCode::kVersionNegotiationError,
                                    "the server switched versions without Version Information");
        return {};
    }
    if (server->chosen_version != negotiated)
        return version_negotiation_error("the server's Chosen Version is not the negotiated one",
                                         negotiated, server->chosen_version);
    if (!contains(ours, negotiated))
        return version_negotiation_error("the server chose a version we did not offer", negotiated,
                                         server->chosen_version);
    if (acted_on_version_negotiation && server->available_versions.empty())
        return Error::transport(TransportErrorCode::kVersionNegotiationError,
                                "no Available Versions after Version Negotiation");
    if (acted_on_version_negotiation) {
        // §4: would a Version Negotiation packet listing the server's Available Versions (plus
        // the negotiated one) have made us pick the same version?
        std::vector<Version> theirs = server->available_versions;
        theirs.push_back(negotiated);
        std::optional<Version> would = version_after_version_negotiation(ours, theirs);
        if (would != negotiated)
            return version_negotiation_error(
                "downgrade: the server's Available Versions would have led to another version",
                would.value_or(0), negotiated);
    }
    return {};
}

}  // namespace quic
