#include "uv/driver.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <algorithm>

namespace quic::uv {
namespace {

// Datagrams received per wakeup before the driver lets libuv look at its other handles (the
// level-triggered poll brings it back). Small enough that a receiver under a flood still
// acknowledges often, large enough to amortise the wakeup.
constexpr size_t kMaxReceivePerWakeup = 64;
// And bytes: at 64 KiB datagrams (DPLPMTUD on loopback) 64 datagrams are 4 MiB, a whole
// congestion window (see kReceiveBatchMessages).
constexpr size_t kMaxReceiveBytesPerWakeup = 1024 * 1024;
// Messages per recvmmsg: what the connections receive before the application sees it and the
// driver flushes what they answer. The peer works while we do, so the sooner the first ACK,
// flow credit or response leaves, the more the two overlap (issue 14):
// - bulk: when 4 MiB (64 datagrams of 64 KiB) were read per wakeup, the receiver decrypted and
//   wrote a whole congestion window before its ACK and flow credit went out, while the sender
//   waited. 200 MB h3 on loopback, client writing to tmpfs, 4 interleaved runs: 0.23-0.33 s
//   then, 0.20-0.21 s once a wakeup took at most 256 KiB, 0.18-0.19 s with these batches.
// - requests: ten connections' requests arrive together; answering all ten before sending any
//   kept client and server taking turns. `quiver perf h3 -c 10 -m 10` against quiver server,
//   requests/s: 66k at 64 and at 16 messages, 108-112k at 4, 99k at 2 and at 1 (each flush a
//   sendmmsg of its own).
constexpr size_t kReceiveBatchMessages = 4;
// A receiver that falls behind gets full batches: then each batch is twice the last, up to
// kMaxReceivePerWakeup, so that flushing often does not cost a saturated receiver its
// throughput. "Full" counts datagrams against messages asked for, so a GRO buffer of several
// datagrams counts as full too; the byte bound decides then: a batch grows only while twice
// the last batch's bytes stay within this, which keeps bulk transfers (4 messages of 64 KiB)
// overlapping as above. The perf h3 load generator, saturated against ngtcp2's server:
// 171-182k requests/s at a fixed 4 messages, 183-207k growing.
constexpr size_t kMaxReceiveBatchBytes = 256 * 1024;
// The send queue: room for a few full GSO batches. A poll needs room for one datagram (and
// for a Transmit carrying GSO segments, if the endpoint ever produces one: 64 KiB).
constexpr size_t kOutBufferBytes = 512 * 1024;
constexpr size_t kMinPollRoom = 64 * 1024;
constexpr size_t kMaxQueued = 256;
// glibc keeps freed heap memory for reuse, so after a flood of half-open connections the
// process stays at its peak. Once the connection count has reached this many, the driver asks
// glibc to return free pages (malloc_trim) each time the count falls to a quarter of what it
// was, down to zero: a few calls per flood, each a few milliseconds at most.
constexpr size_t kTrimMinPeakConnections = 64;

}  // namespace

Time clock_now() {
    return time_from_ns(static_cast<int64_t>(uv_hrtime()));
}

// The libuv handles live apart from the driver: libuv may still touch them after the driver is
// gone, until their close callbacks run.
struct Driver::Handles {
    uv_timer_t timer;
    static void closed(uv_handle_t* h) { delete static_cast<Handles*>(h->data); }
};

// A socket's poll handle and which socket it watches.
struct Driver::Watch {
    uv_poll_t poll;
    Driver* driver;
    size_t index;
    static void closed(uv_handle_t* h) { delete static_cast<Watch*>(h->data); }
};

Driver::Driver(uv_loop_t* loop, UdpSocket& socket, Endpoint& endpoint)
    : loop_(loop), endpoint_(endpoint), out_buffer_(kOutBufferBytes) {
    handles_ = new Handles;
    uv_timer_init(loop_, &handles_->timer);
    handles_->timer.data = this;
    add_socket(socket);
}

Driver::~Driver() {
    close();
}

void Driver::add_socket(UdpSocket& socket) {
    if (!handles_) return;
    auto* w = new Watch{};
    w->driver = this;
    w->index = sockets_.size();
    sockets_.push_back(&socket);
    uv_poll_init(loop_, &w->poll, socket.fd());
    w->poll.data = w;
    watches_.push_back(w);
    watch(w->index, false);
}

void Driver::close() {
    if (!handles_) return;
    for (Watch* w : watches_) uv_close(reinterpret_cast<uv_handle_t*>(&w->poll), Watch::closed);
    watches_.clear();
    handles_->timer.data = handles_;
    uv_close(reinterpret_cast<uv_handle_t*>(&handles_->timer), Handles::closed);
    handles_ = nullptr;
}

void Driver::watch(size_t index, bool writable) {
    if (writable) writable_wanted_ = true;
    uv_poll_start(&watches_[index]->poll, UV_READABLE | (writable ? UV_WRITABLE : 0), on_poll);
}

size_t Driver::socket_for(const SocketAddress& local) const {
    for (size_t i = 1; i < sockets_.size(); ++i)
        if (sockets_[i]->local_address() == local) return i;
    return 0;
}

void Driver::report(const Error& e) {
    if (on_error) on_error(e);
}

void Driver::on_poll(uv_poll_t* h, int status, int events) {
    auto* w = static_cast<Watch*>(h->data);
    w->driver->on_socket_event(w->index, status, events);
}

void Driver::on_socket_event(size_t index, int status, int events) {
    if (status < 0) {
        // libuv reports POLLERR as an error and stops the poll. On a UDP socket with
        // IP_RECVERR that means an ICMP error waits on the error queue: read it, then watch
        // the socket again and receive as usual.
        drain_errors(index);
        watch(index, writable_wanted_);
        events = UV_READABLE;
    }
    const Time now = clock_now();
    if (events & UV_WRITABLE) {
        // flush() asks again if still blocked
        writable_wanted_ = false;
        for (size_t i = 0; i < watches_.size(); ++i) watch(i, false);
    }
    // receive() hands each batch but its last to the application itself.
    const bool unhandled = (events & UV_READABLE) ? receive(now, index) : false;
    if (unhandled || status < 0 || (events & UV_WRITABLE)) after_input(clock_now());
}

void Driver::drain_errors(size_t index) {
    const size_t n = sockets_[index]->drain_errors([&](const UdpSocket::IcmpError& e) {
        if (on_icmp_error) on_icmp_error(e);
    });
    (void)n;
}

void Driver::on_timer(uv_timer_t* h) {
    auto* self = static_cast<Driver*>(h->data);
    const Time now = clock_now();
    self->endpoint_.on_timeout(now);
    self->after_input(now);
}

// Returns whether anything was received (datagrams, ICMP errors) since the last after_input.
bool Driver::receive(Time now, size_t index) {
    UdpSocket& socket = *sockets_[index];
    size_t total = 0, bytes = 0;
    bool unhandled = false;
    size_t batch = kReceiveBatchMessages;
    for (;;) {
        const size_t bytes_before = bytes;
        auto n = socket.receive(
            [&](const InDatagram& d) {
                bytes += d.data.size();
                endpoint_.on_datagram(now, Path{socket.local_address(), d.from}, d.ecn, d.data);
            },
            batch);
        if (!n.ok()) {
            report(n.error());
            return true;
        }
        if (socket.errors_pending()) {
            drain_errors(index);
            unhandled = true;
        }
        if (*n == 0) return unhandled;
        if (*n >= batch && 2 * (bytes - bytes_before) <= kMaxReceiveBatchBytes)
            batch = std::min(batch * 2, kMaxReceivePerWakeup);
        total += *n;
        if (total >= kMaxReceivePerWakeup || bytes >= kMaxReceiveBytesPerWakeup) return true;
        // Not the last batch: the application sees it and the answers leave now.
        after_input(clock_now());
        unhandled = false;
        if (!handles_) return false;
        now = clock_now();
    }
}

void Driver::give_back_memory() {
    const size_t n = endpoint_.connection_count();
    peak_connections_ = std::max(peak_connections_, n);
    if (peak_connections_ >= kTrimMinPeakConnections) trimming_ = true;
    if (!trimming_ || n == peak_connections_ || n * 4 > peak_connections_) return;
    peak_connections_ = n;
    if (n == 0) trimming_ = false;
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
}

void Driver::after_input(Time now) {
    if (on_activity) {
        in_activity_ = true;
        on_activity(now);
        in_activity_ = false;
    }
    // After on_activity: the transport frees the connections the endpoint forgot there.
    give_back_memory();
    if (!handles_) return;  // the application closed the driver
    flush();
    rearm();
}

void Driver::wake() {
    if (in_activity_ || !handles_) return;  // after_input flushes once on_activity returns
    flush();
    rearm();
}

void Driver::flush() {
    if (writable_wanted_) return;  // a socket is full; on_poll resumes when it drains
    for (;;) {
        if (drained()) fill(clock_now());
        if (drained()) return;
        // The run of queued datagrams that leave from one socket.
        const size_t index = queue_socket_[head_];
        size_t end = head_;
        while (end < queue_.size() && queue_socket_[end] == index) ++end;
        UdpSocket& socket = *sockets_[index];
        head_ += socket.send(std::span(queue_).subspan(head_, end - head_));
        if (socket.errors_pending()) drain_errors(index);
        if (head_ < end) {
            watch(index, true);
            return;
        }
    }
}

void Driver::fill(Time now) {
    queue_.clear();
    queue_socket_.clear();
    head_ = 0;
    size_t used = 0;
    while (queue_.size() < kMaxQueued && out_buffer_.size() - used >= kMinPollRoom) {
        auto t = endpoint_.poll_transmit(now, std::span(out_buffer_).subspan(used));
        if (!t) break;
        const size_t index = socket_for(t->path.local);
        const size_t segment = t->segment_size ? t->segment_size : t->size;
        for (size_t off = 0; off < t->size; off += segment) {
            const size_t len = std::min(segment, t->size - off);
            queue_.push_back(OutDatagram{t->path.remote, t->ecn,
                                         std::span<const uint8_t>(&out_buffer_[used + off], len),
                                         t->flow});
            queue_socket_.push_back(index);
        }
        used += t->size;
    }
}

void Driver::rearm() {
    auto deadline = endpoint_.next_timeout();
    if (!deadline) {
        uv_timer_stop(&handles_->timer);
        return;
    }
    // libuv timers count whole milliseconds from the loop's cached time: refresh it and round
    // up, so the timer does not fire before the deadline (much).
    uv_update_time(loop_);
    const int64_t wait_ns = time_to_ns(*deadline) - time_to_ns(clock_now());
    const uint64_t wait_ms =
        wait_ns <= 0 ? 0 : static_cast<uint64_t>((wait_ns + 999'999) / 1'000'000);
    uv_timer_start(&handles_->timer, on_timer, wait_ms, 0);
}

}  // namespace quic::uv
