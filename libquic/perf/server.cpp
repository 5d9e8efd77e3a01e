// The perf protocol's server side (quic/perf.h): every client stream is a request
// (draft-banks-quic-performance-00 §2.3); the response goes back on the same stream or, for a
// unidirectional request, on a new unidirectional stream (§2.3.2).
#include <algorithm>
#include <cstring>

#include "perf/zeros.h"
#include "quic/overloaded.h"
#include "quic/perf.h"

namespace quic::perf {
namespace {

// RFC 9000 §2.1: the two low bits of a stream ID.
bool client_initiated(uint64_t id) {
    return (id & 0x1) == 0;
}
bool bidirectional(uint64_t id) {
    return (id & 0x2) == 0;
}

}  // namespace

ServerStats& ServerStats::operator+=(const ServerStats& o) {
    streams += o.streams;
    requests += o.requests;
    responses += o.responses;
    responses_stopped += o.responses_stopped;
    bytes_received += o.bytes_received;
    bytes_sent += o.bytes_sent;
    ignored += o.ignored;
    refused += o.refused;
    aborted += o.aborted;
    return *this;
}

// One stream being served: a client's request (its receive side, and for a bidirectional one
// the response), or a unidirectional response stream of ours.
struct Server::Stream {
    bool bidi = true;
    // The request: open until its FIN or reset was read.
    bool recv_open = true;
    std::array<uint8_t, kRequestPrefixSize> prefix{};
    size_t prefix_len = 0;
    bool refused = false;  // read and dropped to the end, never answered
    // The response: open until its FIN went out or the client stopped it.
    bool send_open = false;
    bool responding = false;
    uint64_t remaining = 0;  // kUnlimited: until STOP_SENDING
};

Server::Server(std::shared_ptr<Connection> connection, ServerConfig config)
    : conn_(std::move(connection)), config_(config) {}

Server::~Server() = default;

void Server::process(Time) {
    while (!closed_) {
        auto ev = conn_->poll_event();
        if (!ev) break;
        handle(*ev);
    }
}

void Server::handle(const ConnectionEvent& ev) {
    std::visit(Overloaded{
                   [&](const HandshakeCompleted&) {
                       handshake_complete_ = true;
                       open_uni_responses();  // the client's limits are known now
                   },
                   [&](const StreamOpened& e) { on_opened(e.stream_id); },
                   [&](const StreamReadable& e) { on_readable(e.stream_id); },
                   [&](const StreamWritable& e) {
                       auto it = streams_.find(e.stream_id);
                       if (it != streams_.end() && it->second.responding)
                           pump(e.stream_id, it->second);
                   },
                   // The connection answered with RESET_STREAM (RFC 9000 §3.5). For an
                   // unlimited response this is the normal end (§2.3.1).
                   [&](const StopSendingReceived& e) {
                       auto it = streams_.find(e.stream_id);
                       if (it == streams_.end() || !it->second.send_open) return;
                       it->second.send_open = false;
                       if (it->second.responding) ++stats_.responses_stopped;
                       forget_if_done(e.stream_id);
                   },
                   [&](const StreamsAvailable& e) {
                       if (!e.bidirectional) open_uni_responses();
                   },
                   [&](const ConnectionClosed& e) {
                       closed_ = e;
                       streams_.clear();
                       pending_uni_.clear();
                   },
                   [](const auto&) {},
               },
               ev);
}

// Streams are tracked from StreamOpened, which the connection gives once per stream (a late
// StreamReadable for a stream we are done with finds nothing).
void Server::on_opened(uint64_t id) {
    if (!client_initiated(id)) return;
    ++stats_.streams;
    Stream s;
    s.bidi = bidirectional(id);
    s.send_open = s.bidi;
    streams_.emplace(id, s);
}

void Server::on_readable(uint64_t id) {
    auto it = streams_.find(id);
    if (it == streams_.end() || !it->second.recv_open) return;
    Stream& s = it->second;
    for (;;) {
        bool fin = false;
        auto n = conn_->read(id, scratch(), &fin);
        if (!n.ok()) {
            // RESET_STREAM: the client abandoned its request; abandon the response too.
            s.recv_open = false;
            if (!s.refused) {
                ++stats_.aborted;
                if (s.send_open && !s.responding) {
                    (void)conn_->reset_stream(id, kRequestAborted);
                    s.send_open = false;
                }
            }
            return forget_if_done(id);
        }
        size_t payload = *n;
        if (!s.refused && s.prefix_len < kRequestPrefixSize) {
            const size_t take = std::min(kRequestPrefixSize - s.prefix_len, payload);
            std::memcpy(s.prefix.data() + s.prefix_len, scratch_.data(), take);
            s.prefix_len += take;
            payload -= take;
            if (s.prefix_len == kRequestPrefixSize) {
                ++stats_.requests;
                s.remaining = decode_request_prefix(s.prefix);
                if (s.remaining > config_.max_response_size) refuse(id, s);
            }
        }
        if (!s.refused) stats_.bytes_received += payload;
        if (fin) {
            s.recv_open = false;
            return on_request_end(id, s);
        }
        if (*n == 0) return;  // StreamReadable follows
    }
}

// The request's FIN was read: answer it, or ignore a stream without its 8 bytes (§2.3.1:
// "should just be ignored, and gracefully closed on its end").
void Server::on_request_end(uint64_t id, Stream& s) {
    if (s.refused) return forget_if_done(id);
    if (s.prefix_len < kRequestPrefixSize) {
        ++stats_.ignored;
        if (s.send_open) {
            (void)conn_->finish(id);
            s.send_open = false;
        }
        return forget_if_done(id);
    }
    start_response(id, s);
}

// A response above the cap: the upload is stopped and a bidirectional stream reset; what is
// still in flight is read and dropped until the stream ends.
// (RFC 9000 §3.5: STOP_SENDING only goes out while data may still arrive.)
void Server::refuse(uint64_t id, Stream& s) {
    ++stats_.refused;
    s.refused = true;
    (void)conn_->stop_sending(id, kRefused);
    if (!s.bidi) return queue_uni({0, true});
    if (s.send_open) {
        (void)conn_->reset_stream(id, kRefused);
        s.send_open = false;
    }
}

void Server::start_response(uint64_t id, Stream& s) {
    if (s.bidi) {
        // send_open is false when the client already stopped the response (STOP_SENDING).
        if (!s.send_open) return forget_if_done(id);
        s.responding = true;
        return pump(id, s);
    }
    // §2.3.2: a unidirectional request is answered on a new unidirectional stream; with no
    // data requested "the server need take no action".
    const uint64_t size = s.remaining;
    forget_if_done(id);
    if (size == 0) {
        ++stats_.responses;
        return;
    }
    queue_uni({size, false});
}

void Server::queue_uni(PendingUni p) {
    if (pending_uni_.size() >= kMaxPendingUniResponses) {
        if (!p.refusal) ++stats_.refused;
        return;
    }
    pending_uni_.push_back(p);
    open_uni_responses();
}

void Server::open_uni_responses() {
    while (!pending_uni_.empty() && !closed_) {
        auto id = conn_->open_stream(false);
        if (!id.ok()) return;  // no credit: StreamsAvailable (or the handshake) resumes
        const PendingUni p = pending_uni_.front();
        pending_uni_.pop_front();
        if (p.refusal) {
            (void)conn_->reset_stream(*id, kRefused);
            continue;
        }
        Stream s;
        s.bidi = false;
        s.recv_open = false;
        s.send_open = true;
        s.responding = true;
        s.remaining = p.size;
        auto [it, inserted] = streams_.emplace(*id, s);
        pump(*id, it->second);
    }
}

// Writes response bytes while the connection takes them; StreamWritable resumes.
void Server::pump(uint64_t id, Stream& s) {
    while (s.send_open) {
        const bool unlimited = s.remaining == kUnlimited;
        const size_t chunk = unlimited
                                 ? kChunkSize
                                 : static_cast<size_t>(std::min<uint64_t>(s.remaining, kChunkSize));
        const bool last = !unlimited && chunk == s.remaining;
        auto n = conn_->write(id, zeros(chunk), last);
        if (!n.ok()) {
            // The stream was reset after a STOP_SENDING whose event is still queued (or the
            // connection is closing): the client stopped this response.
            ++stats_.responses_stopped;
            s.send_open = false;
            break;
        }
        stats_.bytes_sent += *n;
        if (!unlimited) s.remaining -= *n;
        if (*n < chunk) return;
        if (last) {
            ++stats_.responses;
            s.send_open = false;
        }
    }
    forget_if_done(id);
}

void Server::forget_if_done(uint64_t id) {
    auto it = streams_.find(id);
    if (it != streams_.end() && !it->second.recv_open && !it->second.send_open) streams_.erase(it);
}

}  // namespace quic::perf
