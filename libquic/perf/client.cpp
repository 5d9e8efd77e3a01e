// The perf protocol's client side (quic/perf.h): one stream per request
// (draft-banks-quic-performance-00 §2.3), its response read on the same stream, or on a
// unidirectional stream of the server's for a unidirectional request (§2.3.2).
//
// The draft does not say how a unidirectional response names its request. The server opens
// them in the order the requests ended, which need not be the order they were sent, so a
// finished response is matched with the oldest waiting request of its size; an unlimited
// response (which has no size) is matched with the oldest waiting unlimited request when its
// stream appears.
#include <algorithm>

#include "perf/zeros.h"
#include "quic/overloaded.h"
#include "quic/perf.h"

namespace quic::perf {
namespace {

// RFC 9000 §2.1: the two low bits of a stream ID.
bool server_initiated(uint64_t id) {
    return (id & 0x1) == 1;
}
bool bidirectional(uint64_t id) {
    return (id & 0x2) == 0;
}

}  // namespace

struct Client::Pending {
    Request spec;
    size_t prefix_written = 0;
    uint64_t uploaded = 0;
    bool upload_done = false;    // our FIN was handed to the connection (or the upload ended)
    bool download_done = false;  // the response's FIN was read (or none is expected)
    uint64_t downloaded = 0;
    std::optional<Time> first_byte;
    std::optional<uint64_t> response_stream;  // uni: the server's stream, once matched
    bool awaiting_ack = false;                // uni without a response: see check_acked()
};

struct Client::Incoming {
    uint64_t downloaded = 0;
    std::optional<Time> first_byte;
    std::optional<uint64_t> request;  // matched when it appeared (unlimited responses)
};

Client::Client(std::shared_ptr<Connection> connection) : conn_(std::move(connection)) {}

Client::~Client() = default;

Result<uint64_t> Client::request(Time now, const Request& r) {
    if (requests_.size() >= kMaxClientRequests)
        return Error::of_kind(ErrorKind::kWouldBlock, "too many perf requests in flight");
    auto id = conn_->open_stream(r.bidirectional);
    if (!id.ok()) return id;
    Pending p;
    p.spec = r;
    // §2.3.2: "If no data is requested ... the server need take no action".
    p.download_done = !r.bidirectional && r.download == 0;
    auto [it, inserted] = requests_.emplace(*id, p);
    ++stats_.requests;
    pump_upload(now, *id, it->second);
    return id;
}

Status Client::stop(Time now, uint64_t stream_id) {
    auto it = requests_.find(stream_id);
    if (it == requests_.end())
        return Error::of_kind(ErrorKind::kInvalidArgument, "no such perf request");
    Pending& p = it->second;
    const bool was_uploading = !p.upload_done;
    if (was_uploading) {
        (void)conn_->finish(stream_id);
        p.upload_done = true;
    }
    if (p.download_done) {
        maybe_complete(now, stream_id);
        return {};
    }
    // The server answers once it has the FIN (§2.3): a finite response is still worth having.
    if (was_uploading && p.spec.download != kUnlimited) return {};
    end(now, stream_id, RequestEnd::kStopped);
    return {};
}

std::optional<ClientEvent> Client::poll_event(Time now) {
    check_acked(now);
    while (events_.empty()) {
        auto ev = conn_->poll_event();
        if (!ev) break;
        handle(now, *ev);
    }
    if (events_.empty()) return std::nullopt;
    ClientEvent ev = std::move(events_.front());
    events_.pop_front();
    return ev;
}

void Client::handle(Time now, const ConnectionEvent& ev) {
    std::visit(Overloaded{
                   [&](const HandshakeCompleted& e) { events_.push_back(e); },
                   [&](const HandshakeConfirmed& e) { events_.push_back(e); },
                   [&](const StreamsAvailable& e) { events_.push_back(e); },
                   [&](const SessionTicketReceived& e) { events_.push_back(e); },
                   [&](const ZeroRttRejected& e) { events_.push_back(e); },
                   [&](const StreamOpened& e) {
                       if (!server_initiated(e.stream_id)) return;
                       if (bidirectional(e.stream_id)) {
                           // The protocol has no use for server-initiated bidirectional streams.
                           ++stats_.unexpected;
                           (void)conn_->stop_sending(e.stream_id, kUnexpectedStream);
                           (void)conn_->reset_stream(e.stream_id, kUnexpectedStream);
                           draining_.insert(e.stream_id);
                           return;
                       }
                       if (orphaned_unlimited_ > 0) {
                           --orphaned_unlimited_;
                           (void)conn_->stop_sending(e.stream_id, kNoError);
                           draining_.insert(e.stream_id);
                           return;
                       }
                       auto [in, inserted] = incoming_.emplace(e.stream_id, Incoming{});
                       match_uni(now, e.stream_id, in->second, false);
                   },
                   [&](const StreamReadable& e) {
                       if (draining_.count(e.stream_id)) {
                           bool fin = false;
                           for (;;) {
                               auto n = conn_->read(e.stream_id, scratch(), &fin);
                               if (!n.ok() || fin) {
                                   draining_.erase(e.stream_id);
                                   return;
                               }
                               if (*n == 0) return;
                           }
                       }
                       if (incoming_.count(e.stream_id)) return read_uni(now, e.stream_id);
                       read_response(now, e.stream_id);
                   },
                   [&](const StreamWritable& e) {
                       auto it = requests_.find(e.stream_id);
                       if (it != requests_.end()) pump_upload(now, e.stream_id, it->second);
                   },
                   // The server stopped our upload (it refused the request): the connection reset
                   // our side. The request ends with its response stream, reset as well.
                   [&](const StopSendingReceived& e) {
                       auto it = requests_.find(e.stream_id);
                       if (it != requests_.end()) it->second.upload_done = true;
                   },
                   [&](const ConnectionClosed& e) {
                       std::vector<uint64_t> ids;
                       for (const auto& [id, p] : requests_) ids.push_back(id);
                       for (uint64_t id : ids) end(now, id, RequestEnd::kConnectionClosed);
                       incoming_.clear();
                       draining_.clear();
                       events_.push_back(e);
                   },
                   [](const auto&) {},
               },
               ev);
}

// The prefix, then the payload, then FIN, as the connection takes them.
void Client::pump_upload(Time now, uint64_t id, Pending& p) {
    while (!p.upload_done) {
        if (p.prefix_written < kRequestPrefixSize) {
            const auto prefix = encode_request_prefix(p.spec.download);
            const bool fin = p.spec.upload == 0;
            auto n = conn_->write(id, ByteSpan(prefix).subspan(p.prefix_written), fin);
            if (!n.ok()) {
                p.upload_done = true;  // stopped or closed: its event ends the request
                return;
            }
            p.prefix_written += *n;
            written_ += *n;
            if (p.prefix_written < kRequestPrefixSize) return;
            if (fin) p.upload_done = true;
            continue;
        }
        const bool unlimited = p.spec.upload == kUnlimited;
        const uint64_t left = p.spec.upload - p.uploaded;
        const size_t chunk =
            unlimited ? kChunkSize : static_cast<size_t>(std::min<uint64_t>(left, kChunkSize));
        const bool last = !unlimited && chunk == left;
        auto n = conn_->write(id, zeros(chunk), last);
        if (!n.ok()) {
            p.upload_done = true;
            return;
        }
        p.uploaded += *n;
        stats_.bytes_sent += *n;
        written_ += *n;
        if (*n < chunk) return;  // StreamWritable follows
        if (last) p.upload_done = true;
    }
    maybe_complete(now, id);
}

void Client::read_response(Time now, uint64_t id) {
    auto it = requests_.find(id);
    if (it == requests_.end() || !it->second.spec.bidirectional) return;
    Pending& p = it->second;
    while (!p.download_done) {
        bool fin = false;
        auto n = conn_->read(id, scratch(), &fin);
        if (!n.ok()) return end(now, id, RequestEnd::kReset, n.error().code);
        if (*n && !p.first_byte) p.first_byte = now;
        p.downloaded += *n;
        stats_.bytes_received += *n;
        if (fin) {
            p.download_done = true;
            if (p.downloaded != p.spec.download) return end(now, id, RequestEnd::kWrongSize);
            return maybe_complete(now, id);
        }
        if (*n == 0) return;
    }
}

void Client::read_uni(Time now, uint64_t id) {
    auto it = incoming_.find(id);
    Incoming& in = it->second;
    for (;;) {
        bool fin = false;
        auto n = conn_->read(id, scratch(), &fin);
        if (!n.ok()) {
            // A reset response; one reset before any byte with kRefused is the server's
            // refusal of a request it will not answer (quic/perf.h), given to the oldest
            // unanswered request that asked for data.
            std::optional<uint64_t> request = in.request;
            const bool refusal = n.error().code == kRefused && in.downloaded == 0;
            incoming_.erase(it);
            if (!request && refusal) request = oldest_unanswered_uni();
            if (request)
                end(now, *request, RequestEnd::kReset, n.error().code);
            else
                ++stats_.unexpected;
            return;
        }
        if (*n && !in.first_byte) in.first_byte = now;
        in.downloaded += *n;
        stats_.bytes_received += *n;
        if (fin) return match_uni(now, id, in, true);
        if (*n == 0) return;
    }
}

// A server uni stream appeared (at_end false) or ended (true): give it to its request.
void Client::match_uni(Time now, uint64_t stream_id, Incoming& in, bool at_end) {
    if (!in.request) {
        for (auto& [id, p] : requests_) {
            if (p.spec.bidirectional || p.response_stream || p.download_done) continue;
            const bool fits =
                at_end ? p.spec.download == in.downloaded : p.spec.download == kUnlimited;
            if (!fits) continue;
            p.response_stream = stream_id;
            in.request = id;
            break;
        }
    }
    if (!at_end) return;
    const std::optional<uint64_t> request = in.request;
    const Incoming done = in;
    incoming_.erase(stream_id);
    if (!request) {
        ++stats_.unexpected;
        return;
    }
    Pending& p = requests_.at(*request);
    p.downloaded = done.downloaded;
    p.first_byte = done.first_byte;
    p.download_done = true;
    if (p.downloaded != p.spec.download) return end(now, *request, RequestEnd::kWrongSize);
    maybe_complete(now, *request);
}

std::optional<uint64_t> Client::oldest_unanswered_uni() const {
    for (const auto& [id, p] : requests_)
        if (!p.spec.bidirectional && !p.response_stream && !p.download_done) return id;
    return std::nullopt;
}

void Client::maybe_complete(Time now, uint64_t id) {
    auto it = requests_.find(id);
    if (it == requests_.end() || !it->second.upload_done || !it->second.download_done) return;
    Pending& p = it->second;
    // §2.3.2: no response comes for a unidirectional request of 0 bytes, so nothing the server
    // says ends it: it is done once the peer has acknowledged our bytes (check_acked), not
    // when they are handed to the connection, or an upload would be timed by our buffer.
    if (!p.spec.bidirectional && p.spec.download == 0 && !p.awaiting_ack) {
        p.awaiting_ack = true;
        ++awaiting_ack_;
        return check_acked(now);
    }
    end(now, id, RequestEnd::kComplete);
}

// The connection does not tell when a stream's data is acknowledged; its counters do, for
// all of them at once: nothing in flight and at least every byte we wrote sent (the counter
// includes retransmissions, so this errs only while retransmitted bytes stand in for unsent
// ones with nothing in flight, which loss recovery does not leave for long). HTTP/3's
// graceful shutdown uses the same test.
void Client::check_acked(Time now) {
    if (awaiting_ack_ == 0) return;
    const ConnectionStats st = conn_->stats();
    if (st.bytes_in_flight != 0 || st.stream_bytes_sent < written_) return;
    std::vector<uint64_t> ids;
    for (const auto& [id, p] : requests_)
        if (p.awaiting_ack) ids.push_back(id);
    for (uint64_t id : ids) end(now, id, RequestEnd::kComplete);
}

void Client::end(Time now, uint64_t id, RequestEnd how, uint64_t code) {
    auto it = requests_.find(id);
    if (it == requests_.end()) return;
    Pending& p = it->second;
    RequestDone done{id, how, code, p.uploaded, p.downloaded, p.first_byte, now};
    if (how == RequestEnd::kStopped) {
        // The response goes on until the server sees STOP_SENDING: read it to its end.
        std::optional<uint64_t> stream =
            p.spec.bidirectional ? std::optional(id) : p.response_stream;
        if (stream) {
            if (auto in = incoming_.find(*stream); in != incoming_.end()) {
                done.downloaded = in->second.downloaded;
                done.first_byte = in->second.first_byte;
                incoming_.erase(in);
            }
            (void)conn_->stop_sending(*stream, kNoError);
            draining_.insert(*stream);
        } else if (p.spec.download == kUnlimited) {
            ++orphaned_unlimited_;
        }
    }
    // A request that ends before its upload does (reset, wrong size, closed): abandon it.
    if (!p.upload_done && how != RequestEnd::kConnectionClosed)
        (void)conn_->reset_stream(id, kRequestAborted);
    if (how == RequestEnd::kComplete) ++stats_.completed;
    if (p.awaiting_ack) --awaiting_ack_;
    requests_.erase(it);
    events_.push_back(done);
}

}  // namespace quic::perf
