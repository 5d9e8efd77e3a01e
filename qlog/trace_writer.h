// Where a qlog tracer's records go (docs/architecture.md, "qlog"): a Sink takes buffers of whole
// JSON-SEQ records and puts them in a file.
//
//   - open_direct_sink(): writes on the caller's thread. For tests and the simulator, where
//     the trace must be on disk when the call returns.
//   - TraceWriter: one writer thread per process, owned by the command that opens
//     connections (created from the qlog options). Its sinks never touch the disk on the
//     caller's thread: the thread opens the files, writes, and closes them. The queue
//     between them is bounded (kMaxQueuedTraceBytes): when the disk is slower than the
//     trace, a buffer that does not fit is refused and its events are dropped (the tracer
//     counts them in the trace), so the event loop neither waits nor grows without bound.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "qlog/limits.h"

namespace qlog {

class Sink {
  public:
    enum class Result : uint8_t {
        kTaken,      // the records are on their way to the file
        kQueueFull,  // refused (the disk is behind): the caller drops them
        kFailed,     // the file cannot be opened or written: tracing should stop
    };
    virtual ~Sink() = default;

    // Hands over `chunk` (whole records). On kTaken, `chunk` is left empty, possibly with
    // capacity to fill again; otherwise it is left as it was.
    virtual Result write(std::string& chunk) = 0;
    // The last records, then the file is closed. Taken even past the queue's cap: a tracer
    // sends at most a few hundred bytes here after a refusal (the count of what it dropped).
    virtual void finish(std::string& chunk) = 0;
    // True once the file could not be opened or written.
    virtual bool failed() const = 0;
};

// A sink writing to `path` (created or truncated now) on the caller's thread; nullptr when
// the file cannot be opened.
std::unique_ptr<Sink> open_direct_sink(const std::filesystem::path& path);

class TraceWriter {
  public:
    explicit TraceWriter(size_t max_queued_bytes = kMaxQueuedTraceBytes);
    ~TraceWriter();  // close()
    // Writes everything queued, closes the files and joins the thread; once is enough. Sinks
    // used afterwards refuse everything (kFailed).
    void close();
    TraceWriter(const TraceWriter&) = delete;
    TraceWriter& operator=(const TraceWriter&) = delete;

    // Blocks until everything queued so far is written (for tests and tools; a command's
    // event loop never calls it).
    void wait_idle();

    // A sink for `path`, which the writer thread creates (or truncates) before the first
    // records. Does no I/O on the calling thread; if the file cannot be created, the sink
    // reports failed() from then on.
    std::shared_ptr<Sink> open(std::filesystem::path path);

    struct Stats {
        uint64_t buffers_written = 0, bytes_written = 0;
        uint64_t buffers_refused = 0;  // refused because the queue was full
        uint64_t files_failed = 0;     // could not be opened or written
    };
    Stats stats() const;

  private:
    struct Shared;
    class QueuedFile;
    void run();

    std::shared_ptr<Shared> shared_;
    std::thread thread_;
};

}  // namespace qlog
