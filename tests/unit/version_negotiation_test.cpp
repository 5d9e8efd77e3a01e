// RFC 9368's decisions (conn/version_negotiation.h): compatibility, what each side sends in
// Version Information, the server's choice, the client's choice after Version Negotiation and
// the downgrade checks, with the RFC's own example (§4: versions 10, 12, 14 stand in for
// versions we support: here v1 and v2 and a reserved one).
#include <doctest/doctest.h>

#include "conn/version_negotiation.h"

using namespace quic;

namespace {

constexpr Version kReserved = 0x1a2a3a4a;  // RFC 9000 §15: never selected
constexpr uint64_t kVersionNegotiationErrorCode =
    static_cast<uint64_t>(TransportErrorCode::kVersionNegotiationError);

}  // namespace

TEST_CASE("version negotiation: v1 and v2 are compatible both ways, nothing else is") {
    CHECK(is_compatible_version(kVersion1, kVersion2));
    CHECK(is_compatible_version(kVersion2, kVersion1));
    CHECK(is_compatible_version(kVersion1, kVersion1));
    CHECK_FALSE(is_compatible_version(kVersion1, kReserved));
    CHECK_FALSE(is_compatible_version(0x709a50c4, kVersion2));  // the v2 draft
}

TEST_CASE("version negotiation: the client's Version Information") {
    const std::vector<Version> ours{kVersion2, kVersion1};
    VersionInformation vi = client_version_information(kVersion1, ours);
    CHECK(vi.chosen_version == kVersion1);
    CHECK(vi.available_versions == std::vector<Version>{kVersion2, kVersion1});
    // The Chosen Version is always listed (RFC 9368 §3), even when the list lacks it.
    vi = client_version_information(kVersion1, std::vector<Version>{kVersion2});
    CHECK(vi.available_versions == std::vector<Version>{kVersion2, kVersion1});
    // Incompatible versions are not offered for compatible negotiation.
    vi = client_version_information(kVersion1, std::vector<Version>{kReserved, kVersion1});
    CHECK(vi.available_versions == std::vector<Version>{kVersion1});
}

TEST_CASE("version negotiation: the server's choice (RFC 9368 §2.3)") {
    const VersionInformation offers_both{kVersion1, {kVersion1, kVersion2}};
    const VersionInformation v1_only{kVersion1, {kVersion1}};
    const std::vector<Version> prefers_v2{kVersion2, kVersion1};
    const std::vector<Version> prefers_v1{kVersion1, kVersion2};
    CHECK(negotiate_compatible_version(kVersion1, offers_both, prefers_v2) == kVersion2);
    CHECK(negotiate_compatible_version(kVersion1, offers_both, prefers_v1) == kVersion1);
    CHECK(negotiate_compatible_version(kVersion1, v1_only, prefers_v2) == kVersion1);
    CHECK(negotiate_compatible_version(kVersion1, std::nullopt, prefers_v2) == kVersion1);
    // The other way: a client starting in v2 and offering v1, a server preferring v1.
    const VersionInformation from_v2{kVersion2, {kVersion2, kVersion1}};
    CHECK(negotiate_compatible_version(kVersion2, from_v2, prefers_v1) == kVersion1);
    CHECK(server_version_information(kVersion2, prefers_v2).available_versions == prefers_v2);
}

TEST_CASE("version negotiation: the client's choice after Version Negotiation (§2.1)") {
    const std::vector<Version> ours{kVersion2, kVersion1};
    CHECK(version_after_version_negotiation(ours, std::vector<Version>{kVersion1, kReserved}) ==
          kVersion1);
    CHECK(version_after_version_negotiation(ours, std::vector<Version>{kVersion1, kVersion2}) ==
          kVersion2);
    CHECK_FALSE(version_after_version_negotiation(ours, std::vector<Version>{kReserved}));
}

TEST_CASE("version negotiation: the server checks the client's Chosen Version (§4)") {
    CHECK(validate_client_version_information(std::nullopt, kVersion1).ok());
    CHECK(validate_client_version_information(VersionInformation{kVersion1, {kVersion1}}, kVersion1)
              .ok());
    // A v2 first flight rewritten into v1 by someone on the path.
    Status st =
        validate_client_version_information(VersionInformation{kVersion2, {kVersion2}}, kVersion1);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().code == kVersionNegotiationErrorCode);
}

TEST_CASE("version negotiation: the client's downgrade checks (§4)") {
    const std::vector<Version> ours{kVersion2, kVersion1};
    const VersionInformation server_both{kVersion1, {kVersion2, kVersion1}};
    const VersionInformation server_v1{kVersion1, {kVersion1}};
    // No Version Negotiation, no switch: the server may omit it.
    CHECK(validate_server_version_information(std::nullopt, kVersion1, ours, false, false).ok());
    // After Version Negotiation, or after the long headers switched, it must be there.
    CHECK_FALSE(
        validate_server_version_information(std::nullopt, kVersion1, ours, true, false).ok());
    CHECK_FALSE(
        validate_server_version_information(std::nullopt, kVersion2, ours, false, true).ok());
    // The Chosen Version must be the negotiated one.
    CHECK_FALSE(validate_server_version_information(VersionInformation{kVersion2, {kVersion2}},
                                                    kVersion1, ours, false, false)
                    .ok());
    // A genuine Version Negotiation: the server only has v1.
    CHECK(validate_server_version_information(server_v1, kVersion1, ours, true, false).ok());
    // A forged one: the server has v2, which we prefer (the RFC's second scenario).
    Status st = validate_server_version_information(server_both, kVersion1, ours, true, false);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().code == kVersionNegotiationErrorCode);
    CHECK(st.error().reason.find("downgrade") != std::string::npos);
    // An empty Available Versions after Version Negotiation is always an error (§4).
    CHECK_FALSE(validate_server_version_information(VersionInformation{kVersion2, {}}, kVersion2,
                                                    ours, true, false)
                    .ok());
}
