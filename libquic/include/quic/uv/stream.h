// A QUIC stream on a libuv loop (RFC 9000 §2-§3), the counterpart of quic-go's Stream,
// SendStream and ReceiveStream.
//
// Nothing blocks: read() and write() take what is possible now and say so; callbacks tell
// when more is possible. Callbacks receive the stream itself, so they need not capture a
// pointer to it (capturing a shared_ptr to the stream in its own callback would keep it
// alive forever). Every callback runs on the loop's thread, from inside the loop; calls
// made from a callback are sent when it returns, calls made elsewhere at once.
//
// A bidirectional stream has both sides; a unidirectional one only the side its direction
// gives (the other side's calls fail with ErrorKind::kInvalidArgument).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "quic/bytes.h"
#include "quic/result.h"
#include "quic/stream_source.h"
#include "quic/time.h"

namespace quic::uv {

class Connection;
class ConnectionDriver;
class StreamState;

class Stream {
  public:
    using Callback = std::function<void(Stream&)>;

    ~Stream();
    Stream(const Stream&) = delete;
    Stream& operator=(const Stream&) = delete;

    // RFC 9000 §2.1: the stream ID; its two low bits say who opened it and in which direction.
    uint64_t id() const;
    bool is_bidirectional() const;
    // Opened by us (true) or by the peer.
    bool is_local() const;
    bool can_read() const;
    bool can_write() const;

    // --- the receive side (quic-go's ReceiveStream) ---------------------------------------
    // Copies in-order data into `out`. Returns the bytes read; `*fin` is set once everything
    // up to the peer's FIN has been read. 0 without fin: nothing now (wait for on_readable).
    // Fails with kStreamReset (the peer reset the stream, or cancel_read was called: see
    // Error::remote), kDeadlineExceeded (the read deadline passed), kClosed (the connection
    // closed: the error says why).
    Result<size_t> read(MutableByteSpan out, bool* fin);
    // Called when read() has something new to say: data, the FIN, or an error. Setting it
    // while data is waiting calls it soon (from the loop).
    void on_readable(Callback cb);
    // Asks the peer to stop sending (STOP_SENDING, RFC 9000 §19.5) with an application
    // error code; read() fails from now on. No effect after the FIN was read.
    void cancel_read(uint64_t application_error_code);
    // read() fails with kDeadlineExceeded once `deadline` passes without data (nullopt: none).
    // Deadlines are in the loop's clock: quic::uv::clock_now() + a duration.
    void set_read_deadline(std::optional<Time> deadline);

    // --- the send side (quic-go's SendStream) ---------------------------------------------
    // Queues bytes (and the FIN with `fin`). Returns how many were taken: fewer (maybe 0)
    // when flow control and the send buffer are full; on_writable says when to try again.
    // Fails with kStreamStopped (the peer sent STOP_SENDING; the code is its), kClosed.
    Result<size_t> write(ByteSpan data, bool fin = false);
    // Ends the send side with `length` bytes that `source` supplies as they are sent
    // (Connection::write_source: a file is neither held in memory nor copied twice); a source
    // that fails resets the stream with `reset_code`.
    Status write_source(uint64_t length, StreamSource source, uint64_t reset_code);
    // Queues all of `data` (copied), beyond flow control, and sends it as credit arrives;
    // `done` runs once it is all handed to the connection (or with the error that stopped
    // it). The FIN follows with `fin`. Writes made meanwhile are refused (kWouldBlock).
    Status write_all(ByteSpan data, bool fin, std::function<void(Status)> done = {});
    // Called when write() may take more bytes, or has an error to report.
    void on_writable(Callback cb);
    // Ends the send side with a FIN after what was written (quic-go: Close).
    Status close();
    // Abandons sending with RESET_STREAM (RFC 9000 §19.4) and an application error code.
    void cancel_write(uint64_t application_error_code);
    // write() and write_all() fail with kDeadlineExceeded once `deadline` passes while they
    // wait for credit (nullopt: none).
    void set_write_deadline(std::optional<Time> deadline);
    // Both deadlines at once.
    void set_deadline(std::optional<Time> deadline);

    // The connection this stream belongs to (valid while the stream is).
    Connection& connection();

  private:
    friend class Connection;
    friend class ConnectionDriver;
    friend class StreamState;
    explicit Stream(std::unique_ptr<StreamState> state);
    std::unique_ptr<StreamState> state_;
};

}  // namespace quic::uv
