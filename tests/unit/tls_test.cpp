// The BoringSSL adapter (RFC 9001 §4): two in-memory sessions exchange CRYPTO data by level.
#include <doctest/doctest.h>

#include <unistd.h>
#include <array>
#include <cstdio>
#include <map>
#include <set>

#include "tls/tls_session.h"

using namespace quic;

namespace {

struct Endpoint : TlsSession::Handler {
    std::array<Bytes, 4> outgoing;                  // handshake bytes per level, not yet delivered
    std::map<std::pair<int, bool>, Bytes> secrets;  // (level, write) -> secret
    std::vector<Bytes> tickets;
    bool early_rejected = false;

    bool on_secret(EncryptionLevel level, bool write, uint16_t suite, ByteSpan secret) override {
        CHECK((suite >= 0x1301 && suite <= 0x1303));
        secrets[{int(level), write}] = Bytes(secret.begin(), secret.end());
        return true;
    }
    void on_handshake_data(EncryptionLevel level, ByteSpan data) override {
        auto& q = outgoing[size_t(level)];
        q.insert(q.end(), data.begin(), data.end());
    }
    void on_session_ticket(Bytes s) override { tickets.push_back(std::move(s)); }
    void on_early_data_rejected() override { early_rejected = true; }
};

// Moves each side's pending handshake bytes to the other until both are quiet.
Status pump(TlsSession& a, Endpoint& ea, TlsSession& b, Endpoint& eb) {
    for (int round = 0; round < 10; ++round) {
        bool moved = false;
        for (auto [from, to, ses] : {std::tuple{&ea, &eb, &b}, std::tuple{&eb, &ea, &a}}) {
            for (size_t l = 0; l < 4; ++l) {
                if (from->outgoing[l].empty()) continue;
                Bytes data = std::move(from->outgoing[l]);
                from->outgoing[l].clear();
                QUIC_TRY(ses->provide_data(EncryptionLevel(l), data));
                QUIC_TRY(ses->advance());
                moved = true;
            }
        }
        if (!moved) return {};
    }
    return {};
}

TlsConfig server_config(KeyType type = KeyType::kEcdsaP256) {
    TlsConfig c;
    c.is_server = true;
    c.alpn = {"h3", "hq-interop"};
    auto ck = make_self_signed(type, {"localhost", "127.0.0.1"});
    REQUIRE(ck.ok());
    c.certificate = std::move(ck).value();
    return c;
}

TlsConfig client_config(std::vector<std::string> alpn = {"hq-interop"}) {
    TlsConfig c;
    c.alpn = std::move(alpn);
    c.verification = CertificateVerification::kNone;
    return c;
}

struct Pair {
    std::unique_ptr<TlsContext> sctx, cctx;
    Endpoint se, ce;
    std::unique_ptr<TlsSession> server, client;

    Pair(TlsConfig s, TlsConfig c, std::string name = "localhost") {
        auto sc = TlsContext::create(std::move(s));
        REQUIRE(sc.ok());
        sctx = std::move(sc).value();
        auto cc = TlsContext::create(std::move(c));
        REQUIRE(cc.ok());
        cctx = std::move(cc).value();
        start(name);
    }
    void start(const std::string& name, ByteSpan ticket = {}) {
        se = Endpoint{};
        ce = Endpoint{};
        auto ss = TlsSession::create(*sctx, se);
        REQUIRE(ss.ok());
        server = std::move(ss).value();
        auto cs = TlsSession::create(*cctx, ce, name);
        REQUIRE(cs.ok());
        client = std::move(cs).value();
        const uint8_t ctp[] = {0x01, 0x02, 0x03}, stp[] = {0x04, 0x05};
        REQUIRE(client->set_transport_parameters(ctp).ok());
        REQUIRE(server->set_transport_parameters(stp).ok());
        const uint8_t context[] = {'c', 't', 'x'};
        REQUIRE(server->set_early_data_context(context).ok());
        if (!ticket.empty()) REQUIRE(client->set_resumption_session(ticket));
    }
    Status handshake() {
        QUIC_TRY(client->advance());
        return pump(*client, ce, *server, se);
    }
};

}  // namespace

TEST_CASE("tls: full handshake installs secrets at every level and exchanges parameters") {
    Pair p(server_config(), client_config());
    REQUIRE(p.handshake().ok());
    CHECK(p.client->handshake_complete());
    CHECK(p.server->handshake_complete());
    CHECK(p.client->alpn() == "hq-interop");
    CHECK(p.server->alpn() == "hq-interop");
    CHECK(p.server->server_name() == "localhost");
    CHECK(p.client->peer_transport_parameters().size() == 2);
    CHECK(p.server->peer_transport_parameters().size() == 3);
    for (int level : {2, 3}) {  // handshake and application, both directions, equal
        CHECK(p.ce.secrets.at({level, true}) == p.se.secrets.at({level, false}));
        CHECK(p.ce.secrets.at({level, false}) == p.se.secrets.at({level, true}));
    }
    CHECK_FALSE(p.client->session_resumed());
    CHECK(p.client->cipher_name().rfind("TLS_", 0) == 0);
}

TEST_CASE("tls: no common ALPN fails with no_application_protocol (RFC 9001 §8.1)") {
    Pair p(server_config(), client_config({"nope"}));
    Status st = p.handshake();
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().code == 0x100 + 120);
}

TEST_CASE("tls: Ed25519 certificates work (the simulator's fixed-size signatures)") {
    Pair p(server_config(KeyType::kEd25519), client_config());
    REQUIRE(p.handshake().ok());
    CHECK(p.client->handshake_complete());
}

TEST_CASE("tls: every self-signed certificate has the same size (8-byte serial)") {
    // A serial with a leading zero byte would be one byte shorter in DER, and so would the
    // handshake: the simulator compares traces of runs that each make a certificate.
    std::set<int> sizes;
    for (int i = 0; i < 400; ++i) {
        auto ck = make_self_signed(KeyType::kEd25519, {"server"});
        REQUIRE(ck.ok());
        const ASN1_INTEGER* serial = X509_get0_serialNumber(ck->chain[0].get());
        REQUIRE(serial);
        CHECK(ASN1_STRING_length(serial) == 8);
        sizes.insert(i2d_X509(ck->chain[0].get(), nullptr));
    }
    CHECK(sizes.size() == 1);
}

TEST_CASE("tls: certificate verification against a CA file and the host name") {
    TlsConfig s = server_config();
    char path[] = "/tmp/quiver-tls-test-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    close(fd);
    std::string cert = std::string(path) + ".pem", key = std::string(path) + ".key";
    REQUIRE(write_pem(*s.certificate, cert, key).ok());
    auto loaded = load_certified_key(cert, key);
    REQUIRE(loaded.ok());
    CHECK(certificate_fingerprint(*loaded->chain[0]) ==
          certificate_fingerprint(*s.certificate->chain[0]));

    TlsConfig c = client_config();
    c.verification = CertificateVerification::kCaFile;
    c.ca_file = cert;
    {
        Pair p(server_config(), c);  // another self-signed cert: not trusted
        Status st = p.handshake();
        REQUIRE_FALSE(st.ok());
        CHECK(st.error().code > 0x100);
    }
    {
        TlsConfig s2;
        s2.is_server = true;
        s2.alpn = {"hq-interop"};
        s2.certificate = *loaded;
        Pair p(std::move(s2), c);
        REQUIRE(p.handshake().ok());
        CHECK(p.client->handshake_complete());
    }
    {
        TlsConfig s3;
        s3.is_server = true;
        s3.alpn = {"hq-interop"};
        s3.certificate = *loaded;
        Pair p(std::move(s3), c, "example.com");  // trusted, but the name does not match
        REQUIRE_FALSE(p.handshake().ok());
    }
    std::remove(cert.c_str());
    std::remove(key.c_str());
    std::remove(path);
}

TEST_CASE("tls: resumption with 0-RTT accepted, then rejected when the context changes") {
    TlsConfig s = server_config();
    s.enable_early_data = true;
    TlsConfig c = client_config();
    c.enable_early_data = true;
    std::vector<std::string> keylog;
    c.keylog = [&](std::string_view line) { keylog.emplace_back(line); };
    Pair p(std::move(s), std::move(c));
    REQUIRE(p.handshake().ok());
    // NewSessionTicket travels after the handshake, at the application level.
    REQUIRE(pump(*p.client, p.ce, *p.server, p.se).ok());
    REQUIRE_FALSE(p.ce.tickets.empty());
    CHECK(keylog.size() >= 4);
    bool has_handshake_secret = false;
    for (const auto& line : keylog)
        if (line.rfind("CLIENT_HANDSHAKE_TRAFFIC_SECRET ", 0) == 0) has_handshake_secret = true;
    CHECK(has_handshake_secret);
    Bytes ticket = p.ce.tickets.back();
    CHECK(TlsSession::session_allows_early_data(*p.cctx, ticket));

    p.start("localhost", ticket);
    REQUIRE(p.client->advance().ok());
    CHECK(p.ce.secrets.count({int(EncryptionLevel::kEarlyData), true}) == 1);  // 0-RTT write key
    REQUIRE(pump(*p.client, p.ce, *p.server, p.se).ok());
    CHECK(p.client->session_resumed());
    CHECK(p.client->early_data_accepted());
    CHECK(p.server->early_data_accepted());

    // Same ticket, but the server's context changed: resumption yes, 0-RTT no.
    p.start("localhost", ticket);
    const uint8_t other[] = {'n', 'e', 'w'};
    REQUIRE(p.server->set_early_data_context(other).ok());
    REQUIRE(p.handshake().ok());
    CHECK(p.client->session_resumed());
    CHECK_FALSE(p.client->early_data_accepted());
    CHECK(p.ce.early_rejected);
}
