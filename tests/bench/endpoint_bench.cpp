// endpoint_bench: what the server endpoint costs per event with few and with many connections,
// in process (sans-IO: a client and a server Endpoint wired back to back in memory, on a
// virtual clock), and how much server memory an idle connection holds. Not a test: it prints
// numbers and judges none (issue 14: "work per datagram and per timer independent of the
// number of connections"; "<= 16 KiB of server memory per idle connection").
//
//   endpoint_bench [--connections 10,10000] [--events 20000]
//
// For each connection count N it establishes N connections (each client from its own
// address, in batches so that no Retry is needed), then times only the server endpoint's
// calls, averaged over --events events, twice: with the events spread over all N connections
// (each event touches another connection, whose state is then rarely in the CPU cache), and
// with 10 active connections among N idle ones (the endpoint's own cost, cache effects aside):
//   datagram   on_datagram for a 1-RTT datagram of one connection (a DATAGRAM frame), then
//              poll_transmit until it has nothing more, then next_timeout: what a driver does
//              for one received datagram
//   timer      on_timeout at next_timeout() when one connection's ACK timer is due, the polls,
//              next_timeout
//   unrouted   on_datagram for a short-header datagram with an unknown connection ID (the
//              stateless-reset check), the polls
// Memory: the heap in use (glibc mallinfo2: arena + mmapped) after N connections are
// established and idle, minus before, with the client side destroyed, divided by N.
//
// It compiles against the endpoint before its public header existed too (endpoint/endpoint.h),
// so that the same program measures an older tree.
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#if __has_include("quic/endpoint.h")
#include "quic/endpoint.h"
#else
#include "endpoint/endpoint.h"
#endif
#include "quic/certificate.h"
#include "quic/random.h"
#include "quic/tls_context.h"

using namespace quic;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

struct Tls {
    std::shared_ptr<TlsContext> client, server;
};

Tls make_tls() {
    auto key = make_self_signed(KeyType::kEcdsaP256, {"server"});
    if (!key.ok()) std::abort();
    TlsConfig s;
    s.is_server = true;
    s.alpn = {"bench"};
    s.certificate = std::move(key).value();
    TlsConfig c;
    c.alpn = {"bench"};
    c.verification = CertificateVerification::kNone;
    auto sc = TlsContext::create(std::move(s));
    auto cc = TlsContext::create(std::move(c));
    if (!sc.ok() || !cc.ok()) std::abort();
    return {std::shared_ptr<TlsContext>(std::move(cc).value()),
            std::shared_ptr<TlsContext>(std::move(sc).value())};
}

EndpointConfig config(const Tls& tls, bool server) {
    EndpointConfig c;
    if (server)
        c.server_tls = tls.server;
    else
        c.client_tls = tls.client;
    c.connection.max_idle_timeout = std::chrono::hours(1);
    c.connection.max_datagram_frame_size = 1200;
    // Ten ack-eliciting packets before an immediate ACK: a datagram arms the ACK timer, which
    // the timer phase then fires.
    c.connection.ack_eliciting_threshold = 10;
    return c;
}

SocketAddress client_address(size_t i) {
    return SocketAddress::ipv4({10, static_cast<uint8_t>(1 + (i >> 16)),
                                static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)},
                               4433);
}
const SocketAddress kServer = SocketAddress::ipv4({10, 0, 0, 2}, 443);

// Two endpoints back to back.
struct World {
    Tls tls;
    SeededRandom server_random{1}, client_random{2};
    std::unique_ptr<Endpoint> server, client;
    std::vector<std::shared_ptr<Connection>> clients, servers;
    Time now = Time{} + 1s;
    std::vector<uint8_t> buf = std::vector<uint8_t>(65536);
    std::vector<std::vector<uint8_t>> to_client;  // server output, delivered after timing
    std::vector<SocketAddress> to_client_addr;

    World() : tls(make_tls()) {
        server = std::make_unique<Endpoint>(config(tls, true), server_random);
        client = std::make_unique<Endpoint>(config(tls, false), client_random);
    }

    // Delivers everything both sides have to send, until neither has more.
    void flush() {
        for (int round = 0; round < 1000; ++round) {
            bool moved = false;
            while (auto t = client->poll_transmit(now, buf)) {
                moved = true;
                deliver_to_server(t->path.local, t->size, t->segment_size);
            }
            while (auto t = server->poll_transmit(now, buf)) {
                moved = true;
                deliver_to_client(t->path.remote, t->size, t->segment_size);
            }
            if (!moved) return;
        }
    }
    void deliver_to_server(const SocketAddress& from, size_t size, size_t seg) {
        if (!seg) seg = size;
        for (size_t off = 0; off < size; off += seg) {
            std::vector<uint8_t> d(buf.begin() + off, buf.begin() + std::min(size, off + seg));
            server->on_datagram(now, Path{kServer, from}, Ecn::kNotEct, d);
        }
    }
    void deliver_to_client(const SocketAddress& to, size_t size, size_t seg) {
        if (!seg) seg = size;
        for (size_t off = 0; off < size; off += seg) {
            std::vector<uint8_t> d(buf.begin() + off, buf.begin() + std::min(size, off + seg));
            client->on_datagram(now, Path{to, kServer}, Ecn::kNotEct, d);
        }
    }
    // Fires both sides' timers up to `until`, flushing after each.
    void run_until(Time until) {
        flush();
        for (;;) {
            std::optional<Time> t = server->next_timeout();
            if (auto c = client->next_timeout(); c && (!t || *c < *t)) t = c;
            if (!t || *t > until) break;
            now = std::max(now, *t);
            if (auto s = server->next_timeout(); s && *s <= now) server->on_timeout(now);
            if (auto c = client->next_timeout(); c && *c <= now) client->on_timeout(now);
            flush();
        }
        now = std::max(now, until);
    }

    // N connections, 100 at a time, each from its own address; idle and settled at the end.
    void establish(size_t n) {
        for (size_t first = 0; first < n; first += 100) {
            const size_t last = std::min(n, first + 100);
            for (size_t i = first; i < last; ++i) {
                auto c = client->connect(now, Path{client_address(i), kServer},
                                         ConnectOptions{"server", {}, {}});
                if (!c.ok()) std::abort();
                clients.push_back(*c);
            }
            for (int step = 0; step < 200; ++step) {
                run_until(now + 10ms);
                bool all = true;
                for (size_t i = first; i < last; ++i)
                    all = all && clients[i]->is_handshake_complete();
                if (all) break;
            }
            while (auto s = server->accept()) servers.push_back(s);
        }
        run_until(now + 2s);  // HANDSHAKE_DONE, NEW_CONNECTION_ID, tickets, ACKs settle
        while (auto s = server->accept()) servers.push_back(s);
        size_t ok = 0;
        for (const auto& c : clients) ok += c->is_handshake_complete() && !c->is_closed();
        if (ok != n || servers.size() != n) {
            std::fprintf(stderr, "endpoint_bench: %zu of %zu connections established\n", ok, n);
            std::exit(1);
        }
    }

    // The server's output during a timed call: copied out, delivered afterwards.
    void drain_server() {
        while (auto t = server->poll_transmit(now, buf)) {
            to_client.emplace_back(buf.begin(), buf.begin() + t->size);
            to_client_addr.push_back(t->path.remote);
        }
    }
    void deliver_server_output() {
        for (size_t i = 0; i < to_client.size(); ++i)
            client->on_datagram(now, Path{to_client_addr[i], kServer}, Ecn::kNotEct, to_client[i]);
        to_client.clear();
        to_client_addr.clear();
        while (auto t = client->poll_transmit(now, buf))
            deliver_to_server(t->path.local, t->size, t->segment_size);
        drain_server();
        to_client.clear();
        to_client_addr.clear();
    }
    void drain_events() {
        for (auto& s : servers)
            while (s->poll_event()) {
            }
        for (auto& c : clients)
            while (c->poll_event()) {
            }
    }
};

double ns(Clock::duration d) {
    return static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
}

// One 1-RTT datagram from client connection i, as the client endpoint sends it.
std::vector<std::vector<uint8_t>> client_datagram(World& w, size_t i,
                                                  std::vector<SocketAddress>& from) {
    static const uint8_t payload[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    std::vector<std::vector<uint8_t>> out;
    from.clear();
    if (!w.clients[i]->send_datagram(payload).ok()) return out;
    while (auto t = w.client->poll_transmit(w.now, w.buf)) {
        out.emplace_back(w.buf.begin(), w.buf.begin() + t->size);
        from.push_back(t->path.local);
    }
    return out;
}

struct Costs {
    double datagram_ns = 0, timer_ns = 0, unrouted_ns = 0;
    size_t datagrams = 0, timers = 0, unrouted = 0;
};

Costs measure(World& w, size_t n, size_t events) {
    Costs c;
    std::vector<SocketAddress> from;

    // Datagrams: each connection in turn sends one; only the server's calls are timed.
    for (size_t k = 0; k < events; ++k) {
        const size_t i = k % n;
        w.now += 10us;
        auto ds = client_datagram(w, i, from);
        for (size_t j = 0; j < ds.size(); ++j) {
            const auto t0 = Clock::now();
            w.server->on_datagram(w.now, Path{kServer, from[j]}, Ecn::kNotEct, ds[j]);
            w.drain_server();
            (void)w.server->next_timeout();
            c.datagram_ns += ns(Clock::now() - t0);
            ++c.datagrams;
        }
        w.deliver_server_output();
        if (k % 1000 == 999) w.drain_events();
    }
    w.run_until(w.now + 100ms);
    w.drain_events();

    // Timers: a datagram arms its connection's ACK timer (untimed); firing it is timed.
    for (size_t k = 0; k < events; ++k) {
        const size_t i = k % n;
        auto ds = client_datagram(w, i, from);
        for (size_t j = 0; j < ds.size(); ++j)
            w.server->on_datagram(w.now, Path{kServer, from[j]}, Ecn::kNotEct, ds[j]);
        w.drain_server();
        w.deliver_server_output();
        // The ACK timer is at most max_ack_delay away; anything later (an idle timeout) is not
        // this event's, and jumping to it would idle every connection out.
        auto due = w.server->next_timeout();
        if (!due || *due > w.now + 100ms) continue;
        w.now = std::max(w.now, *due);
        const auto t0 = Clock::now();
        w.server->on_timeout(w.now);
        w.drain_server();
        (void)w.server->next_timeout();
        c.timer_ns += ns(Clock::now() - t0);
        ++c.timers;
        w.deliver_server_output();
        if (k % 1000 == 999) w.drain_events();
    }

    // Unrouted short-header datagrams (unknown connection IDs).
    SeededRandom r(9);
    std::vector<uint8_t> junk(100);
    for (size_t k = 0; k < events; ++k) {
        r.fill(junk);
        junk[0] = 0x40 | (junk[0] & 0x3f);  // short header, fixed bit
        w.now += 1ms;                       // keeps the reset rate limit from dominating
        const auto t0 = Clock::now();
        w.server->on_datagram(w.now, Path{kServer, client_address(k % n)}, Ecn::kNotEct, junk);
        while (w.server->poll_transmit(w.now, w.buf)) {
        }
        c.unrouted_ns += ns(Clock::now() - t0);
        ++c.unrouted;
    }
    w.run_until(w.now + 100ms);
    w.drain_events();
    size_t open = 0;
    for (const auto& conn : w.clients) open += !conn->is_closed();
    if (open != w.clients.size())
        std::fprintf(stderr, "endpoint_bench: %zu connections closed while measuring\n",
                     w.clients.size() - open);
    c.datagram_ns /= std::max<size_t>(c.datagrams, 1);
    c.timer_ns /= std::max<size_t>(c.timers, 1);
    c.unrouted_ns /= std::max<size_t>(c.unrouted, 1);
    return c;
}

size_t heap_in_use() {
    struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
}

// Server heap per idle connection: the client side is destroyed before the second reading.
double memory_per_connection(size_t n) {
    auto w = std::make_unique<World>();
    const size_t before = heap_in_use();
    w->establish(n);
    w->drain_events();
    w->clients.clear();
    w->client.reset();
    const size_t after = heap_in_use();
    const double per = (static_cast<double>(after) - static_cast<double>(before)) / n;
    return per;
}

std::vector<size_t> parse_list(const char* s) {
    std::vector<size_t> out;
    for (const char* p = s; *p;) {
        out.push_back(std::strtoull(p, const_cast<char**>(&p), 10));
        if (*p == ',') ++p;
    }
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<size_t> counts = {10, 10000};
    size_t events = 20000;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--connections") && i + 1 < argc)
            counts = parse_list(argv[++i]);
        else if (!std::strcmp(argv[i], "--events") && i + 1 < argc)
            events = std::strtoull(argv[++i], nullptr, 10);
        else {
            std::fprintf(stderr, "usage: endpoint_bench [--connections 10,10000] [--events N]\n");
            return 2;
        }
    }
    std::printf("%-12s %-8s %14s %14s %14s %18s\n", "connections", "active", "datagram (ns)",
                "timer (ns)", "unrouted (ns)", "memory/conn (B)");
    for (size_t n : counts) {
        const double mem = memory_per_connection(n);
        World w;
        w.establish(n);
        for (size_t active : {n, std::min<size_t>(n, 10)}) {
            const Costs c = measure(w, active, events);
            std::printf("%-12zu %-8zu %14.0f %14.0f %14.0f %18.0f\n", n, active, c.datagram_ns,
                        c.timer_ns, c.unrouted_ns, mem);
            std::fflush(stdout);
            if (active == std::min<size_t>(n, 10)) break;
        }
    }
    return 0;
}
