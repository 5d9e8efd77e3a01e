#include "qlog/trace_writer.h"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <vector>

namespace qlog {

namespace {

int open_for_trace(const std::filesystem::path& path) {
    return ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
}

// All of `data`, across short writes and signals.
bool write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
}

class DirectSink final : public Sink {
  public:
    explicit DirectSink(int fd) : fd_(fd) {}
    ~DirectSink() override { close_file(); }

    Result write(std::string& chunk) override {
        if (fd_ < 0) return Result::kFailed;
        if (!write_all(fd_, chunk)) {
            close_file();
            return Result::kFailed;
        }
        chunk.clear();
        return Result::kTaken;
    }
    void finish(std::string& chunk) override {
        if (fd_ >= 0) (void)write_all(fd_, chunk);
        chunk.clear();
        close_file();
    }
    bool failed() const override { return fd_ < 0; }

  private:
    void close_file() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }
    int fd_;
};

}  // namespace

std::unique_ptr<Sink> open_direct_sink(const std::filesystem::path& path) {
    const int fd = open_for_trace(path);
    if (fd < 0) return nullptr;
    return std::make_unique<DirectSink>(fd);
}

// What the tracers (any thread) and the writer thread share; everything under `mu`.
struct TraceWriter::Shared {
    struct Job {
        std::shared_ptr<QueuedFile> file;
        std::string data;
        bool close = false;
    };

    explicit Shared(size_t cap) : max_queued_bytes(cap) {}

    std::mutex mu;
    std::condition_variable wake;  // the writer thread: a job, or stop
    std::condition_variable idle;  // wait_idle(): the queue is empty and nothing is in hand
    std::deque<Job> queue;
    bool writing = false;
    size_t queued_bytes = 0;  // queued or being written
    const size_t max_queued_bytes;
    bool stopping = false;
    std::vector<std::string> spare;  // written buffers, for the tracers to fill again
    Stats stats;
};

// A file written by the writer thread. `fd` and `opened` belong to that thread.
class TraceWriter::QueuedFile final : public Sink, public std::enable_shared_from_this<QueuedFile> {
  public:
    QueuedFile(std::shared_ptr<Shared> shared, std::filesystem::path path)
        : shared_(std::move(shared)), path_(std::move(path)) {}
    ~QueuedFile() override {
        if (fd_ >= 0) ::close(fd_);
    }

    Result write(std::string& chunk) override {
        if (failed_.load(std::memory_order_relaxed)) return Result::kFailed;
        std::lock_guard lock(shared_->mu);
        if (shared_->stopping) return Result::kFailed;
        if (shared_->queued_bytes + chunk.size() > shared_->max_queued_bytes) {
            shared_->stats.buffers_refused++;
            return Result::kQueueFull;
        }
        enqueue(chunk, false);
        return Result::kTaken;
    }

    void finish(std::string& chunk) override {
        std::lock_guard lock(shared_->mu);
        if (shared_->stopping) return;
        if (failed_.load(std::memory_order_relaxed)) chunk.clear();
        enqueue(chunk, true);
    }

    bool failed() const override { return failed_.load(std::memory_order_relaxed); }

    // The writer thread, for one job.
    void write_on_thread(std::string_view data, bool close) {
        if (!opened_) {
            opened_ = true;
            fd_ = open_for_trace(path_);
            if (fd_ < 0) fail();
        }
        if (fd_ >= 0 && !data.empty() && !write_all(fd_, data)) fail();
        if (close && fd_ >= 0) {
            ::close(fd_);
            fd_ = -1;
        }
    }

  private:
    // Under shared_->mu. Leaves `chunk` empty, with a spare buffer's capacity when there is one.
    void enqueue(std::string& chunk, bool close) {
        shared_->queued_bytes += chunk.size();
        shared_->queue.push_back(Shared::Job{shared_from_this(), std::move(chunk), close});
        chunk.clear();
        if (!shared_->spare.empty()) {
            chunk.swap(shared_->spare.back());
            shared_->spare.pop_back();
        }
        shared_->wake.notify_one();
    }

    void fail() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
        failed_.store(true, std::memory_order_relaxed);
        std::lock_guard lock(shared_->mu);
        shared_->stats.files_failed++;
    }

    std::shared_ptr<Shared> shared_;
    const std::filesystem::path path_;
    std::atomic<bool> failed_{false};
    bool opened_ = false;
    int fd_ = -1;
};

TraceWriter::TraceWriter(size_t max_queued_bytes)
    : shared_(std::make_shared<Shared>(max_queued_bytes)) {
    thread_ = std::thread([this] { run(); });
}

TraceWriter::~TraceWriter() {
    close();
}

void TraceWriter::close() {
    {
        std::lock_guard lock(shared_->mu);
        shared_->stopping = true;
    }
    shared_->wake.notify_one();
    if (thread_.joinable()) thread_.join();
}

void TraceWriter::wait_idle() {
    std::unique_lock lock(shared_->mu);
    shared_->idle.wait(lock, [&] { return shared_->queue.empty() && !shared_->writing; });
}

std::shared_ptr<Sink> TraceWriter::open(std::filesystem::path path) {
    return std::make_shared<QueuedFile>(shared_, std::move(path));
}

TraceWriter::Stats TraceWriter::stats() const {
    std::lock_guard lock(shared_->mu);
    return shared_->stats;
}

// Takes jobs in order until asked to stop with nothing left: stopping drains the queue.
void TraceWriter::run() {
    pthread_setname_np(pthread_self(), "qlog writer");  // for top and perf (15 bytes max)
    Shared& s = *shared_;
    std::unique_lock lock(s.mu);
    for (;;) {
        s.wake.wait(lock, [&] { return s.stopping || !s.queue.empty(); });
        if (s.queue.empty()) return;  // stopping, and everything is written
        Shared::Job job = std::move(s.queue.front());
        s.queue.pop_front();
        s.writing = true;
        lock.unlock();
        job.file->write_on_thread(job.data, job.close);
        const size_t size = job.data.size();
        job.file.reset();  // the last reference may close the file: here, not on the loop
        lock.lock();
        s.writing = false;
        if (s.queue.empty()) s.idle.notify_all();
        s.queued_bytes -= size;
        s.stats.buffers_written++;
        s.stats.bytes_written += size;
        if (s.spare.size() < kMaxSpareTraceBuffers && job.data.capacity() > 0) {
            job.data.clear();
            s.spare.push_back(std::move(job.data));
        }
    }
}

}  // namespace qlog
