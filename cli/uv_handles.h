// The libuv loop of a command and the handles the command owns. libuv touches a handle until
// its close callback has run, so handles live on the heap and their close callback frees them;
// the loop is closed only once every handle is.
#pragma once

#include <uv.h>

#include <functional>

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
