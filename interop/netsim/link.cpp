#include "link.h"

#include <algorithm>

namespace netsim {

Duration Link::serialisation_time(size_t bytes) const {
    if (config_.rate_bps == 0) return Duration(0);
    // bytes * 8 / rate seconds, in nanoseconds, rounded up (an exact rate never undershoots).
    const auto bits = static_cast<unsigned __int128>(bytes) * 8 * 1'000'000'000;
    return Duration(static_cast<int64_t>((bits + config_.rate_bps - 1) / config_.rate_bps));
}

void Link::transmit(Time start, Packet packet) {
    transmitter_free_at_ = start + serialisation_time(packet.size());
    flying_.emplace_back(transmitter_free_at_ + config_.delay, std::move(packet));
}

void Link::start_transmissions(Time now) {
    // A waiting packet starts the instant the previous one has left: the virtual start time,
    // not `now`, so a late call does not slow the link down.
    while (!waiting_.empty() && transmitter_free_at_ <= now) {
        Packet p = std::move(waiting_.front());
        waiting_.pop_front();
        transmit(transmitter_free_at_, std::move(p));
    }
}

bool Link::send(Time now, Packet packet) {
    ++stats_.sent;
    start_transmissions(now);
    if (waiting_.empty() && transmitter_free_at_ <= now) {
        transmit(now, std::move(packet));
        return true;
    }
    if (waiting_.size() >= config_.queue_packets) {
        ++stats_.dropped_queue;
        return false;
    }
    waiting_.push_back(std::move(packet));
    stats_.max_waiting = std::max(stats_.max_waiting, waiting_.size());
    return true;
}

std::optional<Time> Link::next_arrival() const {
    if (!flying_.empty()) return flying_.front().first;
    if (!waiting_.empty())
        return transmitter_free_at_ + serialisation_time(waiting_.front().size()) + config_.delay;
    return std::nullopt;
}

std::optional<std::pair<Time, Packet>> Link::pop_arrival(Time now) {
    start_transmissions(now);
    if (flying_.empty() || flying_.front().first > now) return std::nullopt;
    auto arrival = std::move(flying_.front());
    flying_.pop_front();
    ++stats_.arrived;
    stats_.bytes_arrived += arrival.second.size();
    return arrival;
}

}  // namespace netsim
