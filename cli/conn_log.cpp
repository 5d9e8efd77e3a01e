#include "conn_log.h"

#include <cstdio>

namespace quiver {
std::string describe(const quic::Error& e) {
    using quic::ErrorKind;
    switch (e.kind) {
        case ErrorKind::kIdleTimeout:
            return "idle timeout";
        case ErrorKind::kHandshakeTimeout:
            return "handshake timeout";
        case ErrorKind::kStatelessReset:
            return "stateless reset by the peer";
        case ErrorKind::kVersionNegotiation:
            return "no shared QUIC version with the server";
        case ErrorKind::kProtocol:
            break;
        default:
            return e.reason.empty() ? e.to_string() : e.reason;
    }
    std::string what = e.to_string();
    const std::string alert =
        e.space == quic::ErrorSpace::kTransport ? quic::tls_alert_description(e.code) : "";
    if (!alert.empty()) what = "TLS alert " + alert + " (" + what + ")";
    return (e.remote ? "closed by the peer: " : "closed locally: ") + what;
}

std::string describe(const quic::ConnectionInfo& info) {
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "version 0x%08x, ALPN %s, cipher %s, resumed %s, early data %s, datagrams %s",
                  info.version, info.alpn.empty() ? "(none)" : info.alpn.c_str(),
                  info.cipher.c_str(), info.resumed ? "yes" : "no",
                  info.early_data_accepted ? "accepted" : "not accepted",
                  info.datagrams_supported ? "yes" : "no");
    return buf;
}

std::string describe(const quic::uv::SocketStats& s) {
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "sent %llu datagrams in %llu calls (%llu GSO batches), received %llu in %llu "
                  "calls (%llu GRO batches)",
                  (unsigned long long)s.datagrams_sent, (unsigned long long)s.send_calls,
                  (unsigned long long)s.gso_batches, (unsigned long long)s.datagrams_received,
                  (unsigned long long)s.receive_calls, (unsigned long long)s.gro_batches);
    return buf;
}

std::string describe(const quic::ConnectionStats& s) {
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "packets sent %llu received %llu lost %llu dropped %llu, bytes sent %llu "
                  "received %llu, PTOs %llu, key updates %llu, srtt %.3f ms, cwnd %llu, "
                  "pmtu %llu (%llu probes, %llu black holes), spin bit %s",
                  (unsigned long long)s.packets_sent, (unsigned long long)s.packets_received,
                  (unsigned long long)s.packets_lost, (unsigned long long)s.packets_dropped,
                  (unsigned long long)s.bytes_sent, (unsigned long long)s.bytes_received,
                  (unsigned long long)s.pto_count, (unsigned long long)s.key_updates,
                  s.smoothed_rtt_ns / 1e6, (unsigned long long)s.congestion_window,
                  (unsigned long long)s.pmtu, (unsigned long long)s.pmtu_probes_sent,
                  (unsigned long long)s.pmtu_black_holes, s.spin_bit ? "on" : "off");
    std::string out = buf;
    // Paths (RFC 9000 §9), only when something happened on them.
    if (s.paths_probed || s.path_migrations) {
        std::snprintf(buf, sizeof buf,
                      ", paths probed %llu, migrations %llu, validations failed %llu",
                      (unsigned long long)s.paths_probed, (unsigned long long)s.path_migrations,
                      (unsigned long long)s.path_validation_failures);
        out += buf;
    }
    return out;
}

}  // namespace quiver
