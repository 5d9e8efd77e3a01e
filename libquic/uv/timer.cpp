#include "uv/timer.h"

#include "quic/uv/clock.h"

namespace quic::uv {

Timer::Timer(uv_loop_t* loop) : h_(new Handle) {
    uv_timer_init(loop, &h_->timer);
    h_->timer.data = h_;
}

Timer::~Timer() {
    h_->fn = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(&h_->timer),
             [](uv_handle_t* h) { delete static_cast<Handle*>(h->data); });
}

void Timer::fire(uv_timer_t* t) {
    auto* h = static_cast<Handle*>(t->data);
    // Moved out first: the callback may restart the timer or destroy its owner.
    std::function<void()> fn = std::move(h->fn);
    h->fn = nullptr;
    if (fn) fn();
}

void Timer::start_in(Duration delay, std::function<void()> fn) {
    h_->fn = std::move(fn);
    // libuv counts whole milliseconds from the loop's cached time: refresh it and round up,
    // so the timer never fires before the deadline.
    uv_update_time(h_->timer.loop);
    const int64_t ns = delay.count() < 0 ? 0 : delay.count();
    uv_timer_start(&h_->timer, fire, static_cast<uint64_t>((ns + 999'999) / 1'000'000), 0);
}

void Timer::start_at(Time deadline, std::function<void()> fn) {
    start_in(deadline - clock_now(), std::move(fn));
}

void Timer::stop() {
    h_->fn = nullptr;
    uv_timer_stop(&h_->timer);
}

bool Timer::active() const {
    return uv_is_active(reinterpret_cast<const uv_handle_t*>(&h_->timer)) != 0;
}

}  // namespace quic::uv
