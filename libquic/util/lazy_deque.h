// A FIFO queue that holds no memory while it is empty. libstdc++'s std::deque allocates its map
// and a 512-byte block when it is constructed, even if nothing is ever queued, and a connection
// keeps several queues (events, pending frames, connection ID events) that are empty nearly all
// of its life: at 10,000 idle connections those blocks were about 4 KiB of each connection's
// memory (issue 14). The deque is made on the first push and freed when its last element
// leaves, so a queue costs one allocation per burst of use instead of a block per connection.
#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <utility>

namespace quic {

template <class T>
class LazyDeque {
  public:
    LazyDeque() = default;
    LazyDeque(const LazyDeque& other)
        : q_(other.q_ ? std::make_unique<std::deque<T>>(*other.q_) : nullptr) {}
    LazyDeque(LazyDeque&&) noexcept = default;
    LazyDeque& operator=(const LazyDeque& other) {
        if (this != &other) q_ = other.q_ ? std::make_unique<std::deque<T>>(*other.q_) : nullptr;
        return *this;
    }
    LazyDeque& operator=(LazyDeque&&) noexcept = default;

    bool empty() const { return !q_; }
    size_t size() const { return q_ ? q_->size() : 0; }
    // Whether a deque is allocated (tests: exactly while an element is held).
    bool allocated() const { return q_ != nullptr; }

    // front() and pop_front() want a non-empty queue, as std::deque's do.
    T& front() { return q_->front(); }
    const T& front() const { return q_->front(); }
    void pop_front() {
        q_->pop_front();
        if (q_->empty()) q_.reset();
    }

    void push_back(T value) { queue().push_back(std::move(value)); }
    template <class... Args>
    T& emplace_back(Args&&... args) {
        return queue().emplace_back(std::forward<Args>(args)...);
    }

    void clear() { q_.reset(); }

    // Removes every element for which pred is true; returns how many.
    template <class Pred>
    size_t erase_if(Pred pred) {
        if (!q_) return 0;
        const size_t n = std::erase_if(*q_, pred);
        if (q_->empty()) q_.reset();
        return n;
    }

  private:
    std::deque<T>& queue() {
        if (!q_) q_ = std::make_unique<std::deque<T>>();
        return *q_;
    }

    std::unique_ptr<std::deque<T>> q_;  // null while empty
};

}  // namespace quic
