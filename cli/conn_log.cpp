#include "conn_log.h"
#include "quic/overloaded.h"

#include <openssl/ssl.h>

#include <cstdio>

namespace quiver {
namespace {

std::string format(const char* fmt, unsigned long long a, unsigned long long b = 0) {
    char buf[96];
    std::snprintf(buf, sizeof buf, fmt, a, b);
    return buf;
}

}  // namespace

std::string tls_alert_name(uint64_t code) {
    if (code < 0x100 || code > 0x1ff) return "";
    return SSL_alert_desc_string_long(static_cast<int>(code - 0x100));
}

std::string describe(const quic::ConnectionEvent& event) {
    using namespace quic;
    return std::visit(
        quic::Overloaded{
            [](const HandshakeCompleted&) -> std::string { return "handshake completed"; },
            [](const HandshakeConfirmed&) -> std::string { return "handshake confirmed"; },
            [](const StreamOpened& e) {
                return format("stream %llu opened by the peer", e.stream_id);
            },
            [](const StreamReadable& e) { return format("stream %llu readable", e.stream_id); },
            [](const StreamWritable& e) { return format("stream %llu writable", e.stream_id); },
            [](const StreamResetReceived& e) {
                return format("stream %llu reset by the peer (code 0x%llx)", e.stream_id,
                              e.error_code);
            },
            [](const StopSendingReceived& e) {
                return format("stream %llu: STOP_SENDING (code 0x%llx)", e.stream_id, e.error_code);
            },
            [](const StreamsAvailable& e) -> std::string {
                return e.bidirectional ? "more bidirectional streams allowed"
                                       : "more unidirectional streams allowed";
            },
            [](const DatagramReceived& e) {
                return format("datagram of %llu bytes", e.data.size());
            },
            [](const SessionTicketReceived& e) {
                return format("session ticket received (%llu bytes)", e.ticket.size());
            },
            [](const NewTokenReceived& e) {
                return format("NEW_TOKEN received (%llu bytes)", e.token.size());
            },
            [](const ZeroRttRejected&) -> std::string { return "0-RTT rejected by the server"; },
            [](const ConnectionClosed& e) { return "connection closed: " + describe(e); },
        },
        event);
}

std::string describe(const quic::ConnectionClosed& closed) {
    using quic::CloseOrigin;
    const quic::Error& e = closed.error;
    std::string what = e.to_string();
    const std::string alert = e.space == quic::ErrorSpace::kTransport ? tls_alert_name(e.code) : "";
    if (!alert.empty()) what = "TLS alert " + alert + " (" + what + ")";
    switch (closed.origin) {
        case CloseOrigin::kPeer:
            return "closed by the peer: " + what;
        case CloseOrigin::kLocal:
            return "closed locally: " + what;
        case CloseOrigin::kIdleTimeout:
            return "idle timeout";
        case CloseOrigin::kHandshakeTimeout:
            return "handshake timeout";
        case CloseOrigin::kStatelessReset:
            return "stateless reset by the peer";
        case CloseOrigin::kVersionMismatch:
            return "no shared QUIC version with the server";
    }
    return what;
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

std::string describe(const quic::uv::UdpSocket::Stats& s) {
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
    char buf[384];
    std::snprintf(buf, sizeof buf,
                  "packets sent %llu received %llu lost %llu dropped %llu, bytes sent %llu "
                  "received %llu, PTOs %llu, key updates %llu, srtt %.3f ms, cwnd %llu",
                  (unsigned long long)s.packets_sent, (unsigned long long)s.packets_received,
                  (unsigned long long)s.packets_lost, (unsigned long long)s.packets_dropped,
                  (unsigned long long)s.bytes_sent, (unsigned long long)s.bytes_received,
                  (unsigned long long)s.pto_count, (unsigned long long)s.key_updates,
                  s.smoothed_rtt_ns / 1e6, (unsigned long long)s.congestion_window);
    return buf;
}

}  // namespace quiver
