// quic::uv::Stream over the core connection's stream calls (quic/connection.h).
#include "quic/uv/stream.h"

#include "quic/connection.h"
#include "quic/uv/clock.h"
#include "quic/uv/connection.h"
#include "uv/connection_driver.h"
#include "uv/stream_state.h"
#include "uv/transport_impl.h"

namespace quic::uv {
namespace {

Error closed_error() {
    return Error::of_kind(ErrorKind::kClosed, "the connection is gone");
}

Error wrong_side(const char* side) {
    return Error::of_kind(ErrorKind::kInvalidArgument,
                          std::string("this stream has no ") + side + " side");
}

}  // namespace

// --- StreamState -------------------------------------------------------------------------------

StreamState::StreamState(std::weak_ptr<Connection> c, ConnectionDriver& d, uint64_t sid,
                         bool is_local, bool readable, bool writable)
    : conn(std::move(c)),
      drv(&d),
      id(sid),
      local(is_local),
      can_read(readable),
      can_write(writable) {}

ConnectionDriver* StreamState::driver() const {
    if (conn.expired() || !drv->attached()) return nullptr;
    return drv;
}

bool StreamState::done() const {
    const bool read_over = !can_read || fin_read || read_error;
    const bool write_over = !can_write || write_ended || write_error;
    return read_over && write_over && !backlog_active;
}

void StreamState::notify_readable() {
    if (!on_readable) {
        readable_pending = true;
        return;
    }
    readable_pending = false;
    Stream::Callback cb = on_readable;  // the callback may replace itself
    cb(*self);
}

void StreamState::notify_writable() {
    if (backlog_active) pump_backlog();
    if (on_writable) {
        Stream::Callback cb = on_writable;
        cb(*self);
    }
}

void StreamState::on_reset_received(uint64_t code) {
    if (!read_error)
        read_error = Error::of_kind(ErrorKind::kStreamReset, "reset by the peer", code, true);
    notify_readable();
}

void StreamState::on_stop_sending(uint64_t code) {
    if (!write_error)
        write_error = Error::of_kind(ErrorKind::kStreamStopped, "stopped by the peer", code, true);
    if (backlog_active) pump_backlog();
    notify_writable();
}

void StreamState::on_connection_closed(const Error& why) {
    Error e = why;
    if (can_read && !fin_read && !read_error) {
        read_error = e;
        notify_readable();
    }
    if (can_write && !write_ended && !write_error) write_error = e;
    if (backlog_active) pump_backlog();
    if (can_write) notify_writable();
}

// Hands write_all's backlog to the connection as far as it takes it.
void StreamState::pump_backlog() {
    if (write_error) return finish_backlog(*write_error);
    ConnectionDriver* d = driver();
    if (!d) return finish_backlog(closed_error());
    ByteSpan rest = ByteSpan(backlog).subspan(backlog_offset);
    auto n = d->core().write(id, rest, backlog_fin);
    if (!n.ok()) return finish_backlog(n.error());
    backlog_offset += *n;
    d->wake();
    if (backlog_offset < backlog.size()) return;  // StreamWritable resumes
    if (backlog_fin) write_ended = true;
    finish_backlog({});
}

void StreamState::finish_backlog(Status outcome) {
    backlog_active = false;
    backlog.clear();
    backlog.shrink_to_fit();
    backlog_offset = 0;
    if (write_timer) write_timer->stop();
    auto done_cb = std::move(backlog_done);
    backlog_done = nullptr;
    if (done_cb) done_cb(outcome);
}

void StreamState::arm_deadline(bool read_side) {
    std::optional<Time>& deadline = read_side ? read_deadline : write_deadline;
    std::unique_ptr<Timer>& timer = read_side ? read_timer : write_timer;
    bool& expired = read_side ? read_expired : write_expired;
    expired = false;
    ConnectionDriver* d = driver();
    if (!deadline || !d) {
        if (timer) timer->stop();
        return;
    }
    if (*deadline <= clock_now()) {
        expired = true;
        return;
    }
    if (!timer) timer = std::make_unique<Timer>(d->transport()->loop);
    timer->start_at(*deadline, [this, read_side] {
        (read_side ? read_expired : write_expired) = true;
        if (read_side) {
            notify_readable();
        } else {
            if (backlog_active)
                finish_backlog(Error::of_kind(ErrorKind::kDeadlineExceeded, "write deadline"));
            notify_writable();
        }
    });
}

// --- Stream --------------------------------------------------------------------------------------

Stream::Stream(std::unique_ptr<StreamState> state) : state_(std::move(state)) {
    state_->self = this;
}
Stream::~Stream() = default;

uint64_t Stream::id() const {
    return state_->id;
}
bool Stream::is_bidirectional() const {
    return (state_->id & 0x2) == 0;  // RFC 9000 §2.1
}
bool Stream::is_local() const {
    return state_->local;
}
bool Stream::can_read() const {
    return state_->can_read;
}
bool Stream::can_write() const {
    return state_->can_write;
}

Result<size_t> Stream::read(MutableByteSpan out, bool* fin) {
    StreamState& s = *state_;
    if (fin) *fin = false;
    if (!s.can_read) return wrong_side("receive");
    if (s.read_error) return *s.read_error;
    if (s.fin_read) {
        if (fin) *fin = true;
        return size_t{0};
    }
    ConnectionDriver* d = s.driver();
    if (!d) return closed_error();
    bool end = false;
    auto n = d->core().read(s.id, out, &end);
    if (!n.ok()) {
        // The connection closed, or the core already forgot a reset stream (the reset's code
        // came with StreamResetReceived, which set read_error before we got here).
        s.read_error = d->close_error ? *d->close_error
                                      : Error::of_kind(ErrorKind::kStreamReset, n.error().reason,
                                                       n.error().code, true);
        return *s.read_error;
    }
    if (end) {
        s.fin_read = true;
        if (fin) *fin = true;
        if (s.read_timer) s.read_timer->stop();
    } else if (*n == 0 && s.read_expired) {
        return Error::of_kind(ErrorKind::kDeadlineExceeded, "read deadline");
    }
    if (*n) d->wake();  // flow-control credit may go out
    if (s.done()) d->forget_stream(s.id);
    return n;
}

void Stream::on_readable(Callback cb) {
    state_->on_readable = std::move(cb);
    if (!state_->readable_pending || !state_->on_readable) return;
    // Data arrived before the callback: call it from the loop, not from inside this call.
    ConnectionDriver* d = state_->driver();
    if (!d) return;
    d->transport()->post([conn = state_->conn, d, sid = state_->id] {
        if (!conn.expired()) d->notify_pending_readable(sid);
    });
}

void Stream::cancel_read(uint64_t code) {
    StreamState& s = *state_;
    if (!s.can_read || s.fin_read || s.read_error) return;
    s.read_error = Error::of_kind(ErrorKind::kStreamReset, "cancelled by us", code, false);
    if (ConnectionDriver* d = s.driver()) {
        (void)d->core().stop_sending(s.id, code);
        d->wake();
        if (s.done()) d->forget_stream(s.id);
    }
}

void Stream::set_read_deadline(std::optional<Time> deadline) {
    state_->read_deadline = deadline;
    state_->arm_deadline(true);
}

Result<size_t> Stream::write(ByteSpan data, bool fin) {
    StreamState& s = *state_;
    if (!s.can_write) return wrong_side("send");
    if (s.write_error) return *s.write_error;
    if (s.write_ended) return Error::of_kind(ErrorKind::kClosed, "the send side is closed");
    if (s.backlog_active) return Error::of_kind(ErrorKind::kWouldBlock, "write_all in progress");
    if (s.write_expired) return Error::of_kind(ErrorKind::kDeadlineExceeded, "write deadline");
    ConnectionDriver* d = s.driver();
    if (!d) return closed_error();
    auto n = d->core().write(s.id, data, fin);
    if (!n.ok()) return Error::of_kind(ErrorKind::kClosed, n.error().to_string());
    if (fin && *n == data.size()) s.write_ended = true;
    d->wake();
    if (s.done()) d->forget_stream(s.id);
    return n;
}

Status Stream::write_source(uint64_t length, StreamSource source, uint64_t reset_code) {
    StreamState& s = *state_;
    if (!s.can_write) return wrong_side("send");
    if (s.write_error) return *s.write_error;
    if (s.write_ended) return Error::of_kind(ErrorKind::kClosed, "the send side is closed");
    if (s.backlog_active) return Error::of_kind(ErrorKind::kWouldBlock, "write_all in progress");
    ConnectionDriver* d = s.driver();
    if (!d) return closed_error();
    auto st = d->core().write_source(s.id, {}, length, std::move(source), reset_code);
    if (!st.ok()) return Error::of_kind(ErrorKind::kClosed, st.error().to_string());
    s.write_ended = true;
    d->wake();
    if (s.done()) d->forget_stream(s.id);
    return {};
}

Status Stream::write_all(ByteSpan data, bool fin, std::function<void(Status)> done) {
    StreamState& s = *state_;
    if (!s.can_write) return wrong_side("send");
    if (s.write_error) return *s.write_error;
    if (s.write_ended) return Error::of_kind(ErrorKind::kClosed, "the send side is closed");
    if (s.backlog_active) return Error::of_kind(ErrorKind::kWouldBlock, "write_all in progress");
    if (!s.driver()) return closed_error();
    s.backlog.assign(data.begin(), data.end());
    s.backlog_offset = 0;
    s.backlog_fin = fin;
    s.backlog_active = true;
    s.backlog_done = std::move(done);
    s.pump_backlog();
    return {};
}

void Stream::on_writable(Callback cb) {
    state_->on_writable = std::move(cb);
}

Status Stream::close() {
    StreamState& s = *state_;
    if (!s.can_write) return wrong_side("send");
    if (s.write_ended) return {};
    if (s.backlog_active) {
        s.backlog_fin = true;  // the FIN follows the backlog
        return {};
    }
    auto n = write({}, true);
    if (!n.ok()) return n.error();
    return {};
}

void Stream::cancel_write(uint64_t code) {
    StreamState& s = *state_;
    if (!s.can_write || s.write_ended || s.write_error) return;
    s.write_error = Error::of_kind(ErrorKind::kStreamReset, "cancelled by us", code, false);
    if (s.backlog_active) s.pump_backlog();
    if (ConnectionDriver* d = s.driver()) {
        (void)d->core().reset_stream(s.id, code);
        d->wake();
        if (s.done()) d->forget_stream(s.id);
    }
}

void Stream::set_write_deadline(std::optional<Time> deadline) {
    state_->write_deadline = deadline;
    state_->arm_deadline(false);
}

void Stream::set_deadline(std::optional<Time> deadline) {
    set_read_deadline(deadline);
    set_write_deadline(deadline);
}

Connection& Stream::connection() {
    return *state_->drv->self;
}

}  // namespace quic::uv
