#include "sim/file_transfer.h"
#include "quic/overloaded.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <type_traits>

#include "quic/certificate.h"
#include "quic/tls_context.h"

namespace quic::sim {

namespace {

uint64_t name_hash(std::string_view name) {
    uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a
    for (char c : name) {
        h ^= static_cast<uint8_t>(c);
        h *= 0x100000001b3ull;
    }
    return h;
}

// A fixed 8-byte block of a file, so any offset can be produced without the bytes before it.
uint64_t content_block(uint64_t h, uint64_t block) {
    return derive_seed(h, block);
}

std::string closed_text(const ConnectionClosed& c) {
    return std::string(close_origin_name(c.origin)) + ": " + c.error.to_string();
}

}  // namespace

std::string file_name(size_t index, uint64_t size) {
    return "f" + std::to_string(index) + "-" + std::to_string(size);
}

std::optional<uint64_t> file_size_from_name(std::string_view name) {
    const size_t dash = name.rfind('-');
    if (dash == std::string_view::npos || dash + 1 >= name.size()) return std::nullopt;
    uint64_t size = 0;
    const char* first = name.data() + dash + 1;
    const char* last = name.data() + name.size();
    auto [ptr, ec] = std::from_chars(first, last, size);
    if (ec != std::errc() || ptr != last) return std::nullopt;
    return size;
}

void file_content(std::string_view name, uint64_t offset, MutableByteSpan out) {
    const uint64_t h = name_hash(name);
    size_t i = 0;
    while (i < out.size()) {
        const uint64_t pos = offset + i;
        const uint64_t block = content_block(h, pos / 8);
        for (unsigned b = pos % 8; b < 8 && i < out.size(); ++b, ++i)
            out[i] = static_cast<uint8_t>(block >> (8 * b));
    }
}

// --- client ----------------------------------------------------------------------------------

FileTransferClient::FileTransferClient(Endpoint& endpoint, Path path, ConnectOptions connect,
                                       std::vector<uint64_t> file_sizes)
    : FileTransferClient(endpoint, std::move(path), std::move(connect), std::move(file_sizes),
                         Options{}) {}

FileTransferClient::FileTransferClient(Endpoint& endpoint, Path path, ConnectOptions connect,
                                       std::vector<uint64_t> file_sizes, Options options)
    : endpoint_(endpoint),
      path_(std::move(path)),
      connect_(std::move(connect)),
      options_(options),
      read_buf_(64 * 1024) {
    files_.reserve(file_sizes.size());
    for (size_t i = 0; i < file_sizes.size(); ++i) {
        File f;
        f.name = file_name(i, file_sizes[i]);
        f.size = file_sizes[i];
        files_.push_back(std::move(f));
    }
}

void FileTransferClient::fail(std::string why) {
    if (failure_.empty()) failure_ = std::move(why);
}

void FileTransferClient::step(Time now) {
    if (!conn_) {
        if (failed() || started_at_) return;
        started_at_ = now;
        auto r = endpoint_.connect(now, path_, connect_);
        if (!r) return fail("connect: " + r.error().to_string());
        conn_ = std::move(r).value();
    }
    while (auto ev = conn_->poll_event()) handle(now, *ev);
    if (failed()) return;
    open_streams(now);
    if (done() && options_.close_when_done && !close_sent_) {
        close_sent_ = true;
        conn_->close(now, 0, "done");
    }
}

void FileTransferClient::handle(Time now, const ConnectionEvent& event) {
    std::visit(Overloaded{
                   [&](const HandshakeCompleted&) {
                       handshake_complete_ = true;
                       handshake_completed_at_ = now;
                       // The peer's stream limit is known now.
                       streams_blocked_ = false;
                   },
                   [&](const StreamsAvailable& e) {
                       if (e.bidirectional) streams_blocked_ = false;
                   },
                   [&](const StreamReadable& e) { read_stream(now, e.stream_id); },
                   [&](const StreamWritable& e) {
                       auto it = by_stream_.find(e.stream_id);
                       if (it != by_stream_.end()) send_request(files_[it->second]);
                   },
                   [&](const StreamResetReceived& e) {
                       auto it = by_stream_.find(e.stream_id);
                       if (it != by_stream_.end() && !files_[it->second].complete)
                           fail("server reset the stream of " + files_[it->second].name +
                                " with error " + std::to_string(e.error_code));
                   },
                   [&](const StopSendingReceived& e) {
                       auto it = by_stream_.find(e.stream_id);
                       if (it != by_stream_.end())
                           fail("server sent STOP_SENDING for " + files_[it->second].name +
                                " with error " + std::to_string(e.error_code));
                   },
                   [&](const SessionTicketReceived& e) { session_ticket_ = e.ticket; },
                   [&](const NewTokenReceived& e) { new_token_ = e.token; },
                   [&](const ConnectionClosed& e) {
                       if (!done())
                           fail("connection closed after " + std::to_string(completed_) + " of " +
                                std::to_string(files_.size()) + " files: " + closed_text(e));
                   },
                   [](const auto&) {},
               },
               event);
}

void FileTransferClient::open_streams(Time now) {
    if (!handshake_complete_ && !options_.open_before_handshake) return;
    while (next_to_open_ < files_.size() && !streams_blocked_ && !failed()) {
        auto r = conn_->open_stream(true);
        if (!r) {
            // Not a connection error: wait for MAX_STREAMS (StreamsAvailable).
            if (r.error().is_transport(TransportErrorCode::kStreamLimitError)) {
                streams_blocked_ = true;
                return;
            }
            return fail("open_stream: " + r.error().to_string());
        }
        File& f = files_[next_to_open_];
        by_stream_[*r] = next_to_open_++;
        f.stream_id = *r;
        f.requested_at = now;
        send_request(f);
    }
}

void FileTransferClient::send_request(File& f) {
    const std::string request = "GET /" + f.name + "\r\n";
    if (!f.stream_id || f.request_sent >= request.size()) return;
    const auto rest = ByteSpan(reinterpret_cast<const uint8_t*>(request.data()), request.size())
                          .subspan(f.request_sent);
    auto r = conn_->write(*f.stream_id, rest, /*fin=*/true);
    if (!r) return fail("write request for " + f.name + ": " + r.error().to_string());
    // Fewer bytes accepted: StreamWritable follows and we write the rest (with the FIN).
    f.request_sent += *r;
}

void FileTransferClient::read_stream(Time now, uint64_t stream_id) {
    auto it = by_stream_.find(stream_id);
    if (it == by_stream_.end()) return;  // not a request stream of ours
    File& f = files_[it->second];
    while (!f.complete && !failed()) {
        bool fin = false;
        auto r = conn_->read(stream_id, read_buf_, &fin);
        if (!r) return fail("read " + f.name + ": " + r.error().to_string());
        const size_t n = *r;
        if (n > 0) {
            if (f.received + n > f.size)
                return fail(f.name + ": more than " + std::to_string(f.size) + " bytes");
            expected_buf_.resize(n);
            file_content(f.name, f.received, expected_buf_);
            if (std::memcmp(read_buf_.data(), expected_buf_.data(), n) != 0) {
                size_t at = 0;
                while (read_buf_[at] == expected_buf_[at]) ++at;
                return fail(f.name + ": wrong byte at offset " + std::to_string(f.received + at));
            }
            f.received += n;
            bytes_received_ += n;
        }
        if (fin) {
            if (f.received != f.size)
                return fail(f.name + ": FIN after " + std::to_string(f.received) + " of " +
                            std::to_string(f.size) + " bytes");
            f.complete = true;
            f.completed_at = now;
            if (++completed_ == files_.size()) completed_at_ = now;
            return;
        }
        if (n == 0) return;  // StreamReadable follows
    }
}

// --- server ----------------------------------------------------------------------------------

FileTransferServer::FileTransferServer(Endpoint& endpoint)
    : FileTransferServer(endpoint, Options{}) {}

FileTransferServer::FileTransferServer(Endpoint& endpoint, Options options)
    : endpoint_(endpoint), options_(options), buf_(64 * 1024) {}

void FileTransferServer::step(Time) {
    while (auto c = endpoint_.accept()) {
        ++accepted_;
        accepted_connections_.push_back(c);
        conns_.push_back(Conn{std::move(c), {}, {}});
    }
    for (auto& c : conns_)
        while (auto ev = c.conn->poll_event()) handle(c, *ev);
    std::erase_if(conns_, [](const Conn& c) { return c.conn->is_closed(); });
}

void FileTransferServer::error(const Conn& c, uint64_t stream_id, const std::string& why) {
    errors_.push_back("connection " + std::to_string(&c - conns_.data()) + " stream " +
                      std::to_string(stream_id) + ": " + why);
}

void FileTransferServer::handle(Conn& c, const ConnectionEvent& event) {
    std::visit(
        Overloaded{
            [&](const HandshakeCompleted&) { ++handshakes_; },
            [&](const StreamReadable& e) { read_request(c, e.stream_id); },
            [&](const StreamWritable& e) {
                auto it = c.requests.find(e.stream_id);
                if (it != c.requests.end() && it->second.responding) respond(c, e.stream_id);
            },
            [&](const StreamResetReceived& e) {
                if (c.requests.erase(e.stream_id))
                    error(c, e.stream_id,
                          "client reset the request, error " + std::to_string(e.error_code));
                c.finished.insert(e.stream_id);
            },
            [&](const StopSendingReceived& e) {
                if (c.requests.erase(e.stream_id))
                    error(c, e.stream_id,
                          "client stopped the response, error " + std::to_string(e.error_code));
                c.finished.insert(e.stream_id);
            },
            [](const auto&) {},
        },
        event);
}

void FileTransferServer::read_request(Conn& c, uint64_t stream_id) {
    // hq-interop requests come on client-initiated bidirectional streams (id % 4 == 0).
    if (stream_id % 4 != 0 || c.finished.count(stream_id)) return;
    Request& q = c.requests[stream_id];
    while (!q.fin) {
        bool fin = false;
        auto r = c.conn->read(stream_id, buf_, &fin);
        if (!r) {
            error(c, stream_id, "read: " + r.error().to_string());
            c.requests.erase(stream_id);
            c.finished.insert(stream_id);
            return;
        }
        q.text.append(reinterpret_cast<const char*>(buf_.data()), *r);
        if (q.text.size() > options_.max_request_bytes) {
            error(c, stream_id,
                  "request longer than " + std::to_string(options_.max_request_bytes) + " bytes");
            (void)c.conn->stop_sending(stream_id, kFileTransferBadRequest);
            (void)c.conn->reset_stream(stream_id, kFileTransferBadRequest);
            c.requests.erase(stream_id);
            c.finished.insert(stream_id);
            return;
        }
        if (fin) q.fin = true;
        if (*r == 0 && !fin) return;  // StreamReadable follows
    }

    // "GET /<name>\r\n" (a bare "\n" is tolerated).
    std::string_view text = q.text;
    if (text.ends_with("\r\n")) {
        text.remove_suffix(2);
    } else if (text.ends_with("\n")) {
        text.remove_suffix(1);
    }
    std::optional<uint64_t> size;
    if (text.starts_with("GET /")) {
        text.remove_prefix(5);
        size = file_size_from_name(text);
    }
    if (!size || *size > options_.max_file_size) {
        const uint64_t code = size ? kFileTransferTooLarge : kFileTransferBadRequest;
        error(c, stream_id, "bad request \"" + q.text.substr(0, 64) + "\"");
        (void)c.conn->reset_stream(stream_id, code);
        c.requests.erase(stream_id);
        c.finished.insert(stream_id);
        return;
    }
    q.name = std::string(text);
    q.size = *size;
    q.responding = true;
    respond(c, stream_id);
}

void FileTransferServer::respond(Conn& c, uint64_t stream_id) {
    Request& q = c.requests.at(stream_id);
    if (options_.from_source) {
        const std::optional<uint64_t> fails_at = options_.source_fails_at;
        auto source = [name = q.name, fails_at, read = source_bytes_read_](uint64_t offset,
                                                                           MutableByteSpan out) {
            if (fails_at && offset + out.size() > *fails_at) return false;
            file_content(name, offset, out);
            *read += out.size();
            return true;
        };
        Status st = c.conn->write_source(stream_id, {}, q.size, source, kFileTransferSourceFailed);
        if (!st.ok()) error(c, stream_id, "write_source: " + st.error().to_string());
        if (st.ok()) ++served_, bytes_sent_ += q.size;
        c.requests.erase(stream_id);
        c.finished.insert(stream_id);
        return;
    }
    for (;;) {
        const uint64_t left = q.size - q.sent;
        const size_t chunk = static_cast<size_t>(std::min<uint64_t>(left, buf_.size()));
        const MutableByteSpan data = MutableByteSpan(buf_).first(chunk);
        file_content(q.name, q.sent, data);
        const bool last = chunk == left;
        auto r = c.conn->write(stream_id, data, last);
        if (!r) {
            error(c, stream_id, "write: " + r.error().to_string());
            c.requests.erase(stream_id);
            c.finished.insert(stream_id);
            return;
        }
        q.sent += *r;
        bytes_sent_ += *r;
        if (*r < chunk) return;  // the send buffer is full: StreamWritable follows
        if (last) {
            ++served_;
            c.requests.erase(stream_id);
            c.finished.insert(stream_id);
            return;
        }
    }
}

// --- scenarios -------------------------------------------------------------------------------

Result<SimTls> make_sim_tls(std::vector<std::string> alpn) {
    auto key = make_self_signed(KeyType::kEd25519, {"server", "server4", "server6", "localhost"});
    if (!key) return key.error();
    TlsConfig server_config;
    server_config.is_server = true;
    server_config.alpn = alpn;
    server_config.certificate = std::move(key).value();
    auto server = TlsContext::create(std::move(server_config));
    if (!server) return server.error();
    TlsConfig client_config;
    client_config.alpn = std::move(alpn);
    client_config.verification = CertificateVerification::kNone;
    auto client = TlsContext::create(std::move(client_config));
    if (!client) return client.error();
    return SimTls{std::shared_ptr<TlsContext>(std::move(client).value()),
                  std::shared_ptr<TlsContext>(std::move(server).value())};
}

std::string TransferOutcome::describe() const {
    size_t complete_files = 0;
    for (const auto& f : files) complete_files += f.complete;
    std::string s = "seed " + std::to_string(seed) + ": " + run.message + "; " +
                    std::to_string(complete_files) + "/" + std::to_string(files.size()) +
                    " files, " + std::to_string(bytes_received) + " bytes";
    if (!failure.empty()) s += "; failure: " + failure;
    for (const auto& e : server_errors) s += "; server: " + e;
    if (client_stats)
        s += "; client: " + std::to_string(client_stats->packets_sent) + " packets sent, " +
             std::to_string(client_stats->packets_lost) + " lost, pto " +
             std::to_string(client_stats->pto_count) + ", srtt " +
             format_duration(Duration(client_stats->smoothed_rtt_ns));
    s += "; client->server: " + client_to_server.to_string();
    s += "; server->client: " + server_to_client.to_string();
    return s;
}

TransferScenario sim_scenario(uint64_t seed, std::vector<uint64_t> file_sizes) {
    auto tls = make_sim_tls();
    REQUIRE(tls.ok());
    TransferScenario s;
    s.seed = seed;
    s.client.client_tls = tls->client;
    s.server.server_tls = tls->server;
    s.file_sizes = std::move(file_sizes);
    return s;
}

TransferOutcome run_file_transfer(const TransferScenario& s) {
    Simulation sim(s.seed, s.client_to_server, s.server_to_client);
    sim.set_ecn_passthrough(s.ecn_passthrough);
    Endpoint& server_endpoint = sim.add_server(s.server);
    Endpoint& client_endpoint = sim.add_client(s.client);
    for (const auto& r : s.rebindings) sim.add_rebinding(r);
    if (s.rebinding_rule) sim.set_rebinding_rule(*s.rebinding_rule);

    ConnectOptions connect = s.connect;
    if (connect.server_name.empty()) connect.server_name = "server";
    FileTransferServer server(server_endpoint, s.server_options);
    FileTransferClient client(client_endpoint, sim.client_path(client_endpoint), std::move(connect),
                              s.file_sizes, s.client_options);
    sim.set_on_step(server_endpoint, [&](Time t) { server.step(t); });
    sim.set_on_step(client_endpoint, [&](Time t) { client.step(t); });

    TransferOutcome out;
    out.seed = s.seed;
    out.run = sim.run_until([&] { return client.finished(); }, s.max_time);
    out.complete = client.done();
    out.failure = client.failure();
    if (out.failure.empty() && !out.run.done()) out.failure = out.run.message;
    out.files = client.files();
    out.handshake_completed_at = client.handshake_completed_at();
    out.completed_at = client.completed_at();
    out.bytes_received = client.bytes_received();
    out.server_source_bytes_read = server.source_bytes_read();
    if (client.connection()) out.client_stats = client.connection()->stats();
    out.server_connections = server.connections_accepted();
    out.server_errors = server.errors();
    out.client_to_server = sim.network().stats(Direction::kClientToServer);
    out.server_to_client = sim.network().stats(Direction::kServerToClient);
    out.trace_digest = sim.network().trace_digest();
    return out;
}

TransferOutcome check_file_transfer(const TransferScenario& s) {
    INFO("seed " << s.seed);
    TransferOutcome out = run_file_transfer(s);
    INFO(out.describe());
    CHECK_MESSAGE(out.run.done(), out.run.message);
    CHECK(out.failure.empty());
    CHECK(out.complete);
    CHECK(out.server_errors.empty());
    return out;
}

}  // namespace quic::sim
