// A one-shot libuv timer owned by an object of the uv layer. libuv touches a handle until its
// close callback has run, so the handle lives on the heap and is freed by that callback; the
// owner can be destroyed at any time (the callback is dropped with it).
#pragma once

#include <uv.h>

#include <functional>

#include "quic/time.h"

namespace quic::uv {

class Timer {
  public:
    explicit Timer(uv_loop_t* loop);
    ~Timer();
    Timer(const Timer&) = delete;
    Timer& operator=(const Timer&) = delete;

    // Runs `fn` once at `deadline` (in clock_now()'s clock), replacing any earlier start.
    void start_at(Time deadline, std::function<void()> fn);
    void start_in(Duration delay, std::function<void()> fn);
    void stop();
    bool active() const;

  private:
    struct Handle {
        uv_timer_t timer;
        std::function<void()> fn;
    };
    static void fire(uv_timer_t* t);
    Handle* h_;
};

}  // namespace quic::uv
