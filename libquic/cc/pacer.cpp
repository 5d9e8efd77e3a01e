#include "cc/pacer.h"

#include <algorithm>
#include <cmath>

namespace quic {

namespace {

// Rounding slack when comparing credit with a packet size, in bytes: next_send_time rounds the
// wait up to whole nanoseconds, and the credit computed at that instant may still be a few ulps
// short of the size. Far below one byte, so it never lets a real deficit through.
constexpr double kSlackBytes = 1e-6;

double capacity_for(const PacerConfig& config, size_t max_datagram_size) {
    const size_t mds = std::max(max_datagram_size, kMinMaxDatagramSize);
    const uint64_t burst =
        config.max_burst_bytes > 0 ? config.max_burst_bytes : initial_congestion_window(mds);
    return static_cast<double>(std::max<uint64_t>(burst, mds));
}

}  // namespace

Pacer::Pacer(PacerConfig config)
    : config_(config), capacity_(capacity_for(config, kMinMaxDatagramSize)), tokens_(capacity_) {}

double Pacer::tokens(Time now) const {
    if (rate_ <= 0) return capacity_;
    const double elapsed = now > last_ ? static_cast<double>((now - last_).count()) : 0.0;
    return std::min(capacity_, tokens_ + elapsed * rate_);
}

void Pacer::update(Time now, uint64_t congestion_window, Duration smoothed_rtt,
                   size_t max_datagram_size) {
    // Settle the credit earned so far at the old rate, then switch.
    tokens_ = tokens(now);
    last_ = now;
    capacity_ = capacity_for(config_, max_datagram_size);
    tokens_ = std::min(tokens_, capacity_);
    // §7.7: rate = N * congestion_window / smoothed_rtt.
    if (congestion_window == 0 || smoothed_rtt <= Duration::zero()) {
        rate_ = 0;
    } else {
        rate_ = config_.gain * static_cast<double>(congestion_window) /
                static_cast<double>(smoothed_rtt.count());
    }
}

void Pacer::set_rate(Time now, double bytes_per_second, uint64_t burst_bytes) {
    tokens_ = tokens(now);
    last_ = now;
    capacity_ = static_cast<double>(std::max<uint64_t>(burst_bytes, kMinMaxDatagramSize));
    tokens_ = std::min(tokens_, capacity_);
    rate_ = bytes_per_second > 0 ? bytes_per_second / 1e9 : 0;
}

Time Pacer::next_send_time(Time now, size_t bytes) const {
    if (rate_ <= 0) return now;
    const double need = std::min(static_cast<double>(bytes), capacity_);
    if (tokens(now) + kSlackBytes >= need) return now;
    // The instant the bucket reaches `need`, measured from the reference point rather than from
    // `now`, so that asking again later gives the same instant. tokens(now) < need implies the
    // bucket was below need at last_ and that this instant is after now.
    const double wait = std::ceil((need - tokens_) / rate_);
    return std::max(now, last_ + Duration(static_cast<Duration::rep>(wait)));
}

void Pacer::on_packet_sent(Time now, size_t bytes) {
    if (rate_ <= 0) return;  // not pacing: the bucket stays full
    tokens_ = tokens(now) - static_cast<double>(bytes);
    last_ = std::max(last_, now);
}

}  // namespace quic
