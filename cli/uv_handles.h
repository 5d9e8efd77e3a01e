// The libuv loop of a command and the handles the command owns. libuv touches a handle until
// its close callback has run, so handles live on the heap and their close callback frees them;
// the loop is closed only once every handle is.
#pragma once

#include <uv.h>

#include <cmath>
#include <csignal>
#include <functional>
#include <utility>

namespace quiver {

template <class H>
H* new_handle() {
    return new H{};
}

template <class H>
void close_handle(H* h) {
    if (!h || uv_is_closing(reinterpret_cast<uv_handle_t*>(h))) return;
    uv_close(reinterpret_cast<uv_handle_t*>(h),
             [](uv_handle_t* p) { delete reinterpret_cast<H*>(p); });
}

// A callback for handles whose `data` points to a std::function<void()> (owned by the caller).
template <class H, class... Args>
void run_data(H* h, Args...) {
    (*static_cast<std::function<void()>*>(h->data))();
}

// Seconds as a libuv timer's milliseconds.
inline uint64_t ms_of(double seconds) {
    return static_cast<uint64_t>(std::llround(seconds * 1000));
}

// A timer calling `fn` (owned by the caller, living as long as the timer) after `ms`, and
// then every `repeat_ms` when that is not 0. Close it with close_handle.
inline uv_timer_t* start_timer(uv_loop_t* loop, std::function<void()>& fn, uint64_t ms,
                               uint64_t repeat_ms = 0) {
    auto* t = new_handle<uv_timer_t>();
    uv_timer_init(loop, t);
    t->data = &fn;
    uv_timer_start(t, run_data<uv_timer_t>, ms, repeat_ms);
    return t;
}

// SIGINT and SIGTERM through libuv (no global state): `on_signal` runs on the loop for each.
class SignalWatch {
  public:
    SignalWatch(uv_loop_t* loop, std::function<void()> on_signal)
        : fn_(std::move(on_signal)),
          int_(new_handle<uv_signal_t>()),
          term_(new_handle<uv_signal_t>()) {
        for (auto [h, signum] : {std::pair{int_, SIGINT}, std::pair{term_, SIGTERM}}) {
            uv_signal_init(loop, h);
            h->data = &fn_;
            uv_signal_start(h, run_data<uv_signal_t, int>, signum);
        }
    }
    ~SignalWatch() {
        close_handle(int_);
        close_handle(term_);
    }
    SignalWatch(const SignalWatch&) = delete;
    SignalWatch& operator=(const SignalWatch&) = delete;

  private:
    std::function<void()> fn_;
    uv_signal_t* int_;
    uv_signal_t* term_;
};

class Loop {
  public:
    Loop() { uv_loop_init(&loop_); }
    ~Loop() {
        // Every owner closed its handles already; run their close callbacks, then close.
        uv_run(&loop_, UV_RUN_DEFAULT);
        uv_loop_close(&loop_);
    }
    Loop(const Loop&) = delete;
    Loop& operator=(const Loop&) = delete;
    uv_loop_t* get() { return &loop_; }

  private:
    uv_loop_t loop_;
};

}  // namespace quiver
