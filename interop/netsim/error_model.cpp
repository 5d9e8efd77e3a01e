#include "error_model.h"

#include <algorithm>

namespace netsim {

namespace {
// ns-3's corrupt-rate model picks the byte among the first 50 of the UDP payload, where the
// QUIC header is: a corrupted header must be handled as well as a corrupted payload.
constexpr size_t kCorruptWithin = 50;
}  // namespace

const char* fate_name(Fate f) {
    switch (f) {
        case Fate::kDeliver:
            return "deliver";
        case Fate::kDeliverCorrupted:
            return "deliver-corrupted";
        case Fate::kDropRandom:
            return "drop-random";
        case Fate::kDropCorrupted:
            return "drop-corrupted";
        case Fate::kDropListed:
            return "drop-listed";
        case Fate::kDropBlackhole:
            return "drop-blackhole";
    }
    return "?";
}

bool ErrorModel::chance(double percent) {
    if (percent <= 0) return false;
    if (percent >= 100) return true;
    // Millionths of a percent: fine enough for any rate a scenario names.
    return static_cast<double>(random_.uniform(100'000'000)) < percent * 1'000'000;
}

bool ErrorModel::pick(double percent, unsigned burst, unsigned& in_a_row) {
    if (burst != 0 && in_a_row >= burst) {
        in_a_row = 0;
        return false;
    }
    if (chance(percent)) {
        ++in_a_row;
        return true;
    }
    in_a_row = 0;
    return false;
}

void ErrorModel::corrupt(Packet& packet, const UdpView& v) {
    const size_t span = std::min(kCorruptWithin, v.payload_size);
    const size_t offset = random_.uniform(span);
    uint8_t& b = packet[v.payload_offset + offset];
    const uint8_t old = b;
    // Any other value: 1..255 added modulo 256.
    b = static_cast<uint8_t>(old + 1 + random_.uniform(255));
    last_corruption_ = {offset, old, b};
    fix_checksums(packet, v);
}

Fate ErrorModel::decide(quic::Duration since_start, Packet& packet) {
    for (const Window& w : config_.blackholes) {
        if (since_start >= w.from && since_start < w.to) {
            ++stats_.dropped_blackhole;
            return Fate::kDropBlackhole;
        }
    }
    // The other models only look at UDP packets (ns-3: IsUDPPacket), which is all QUIC is.
    const auto v = parse_udp(packet);
    if (!v) return Fate::kDeliver;
    ++stats_.udp_arrived;
    if (config_.droplist.count(stats_.udp_arrived) != 0) {
        ++stats_.dropped_listed;
        return Fate::kDropListed;
    }
    if (config_.drop_percent > 0 &&
        pick(config_.drop_percent, config_.drop_burst, dropped_in_a_row_)) {
        ++stats_.dropped_random;
        return Fate::kDropRandom;
    }
    if (config_.corrupt_percent > 0 && v->payload_size > 0) {
        const std::span<const uint8_t> payload(packet.data() + v->payload_offset, v->payload_size);
        if (is_version_negotiation(payload)) {
            corrupted_in_a_row_ = 0;
            return Fate::kDeliver;
        }
        if (pick(config_.corrupt_percent, config_.corrupt_burst, corrupted_in_a_row_)) {
            ++stats_.corrupted;
            corrupt(packet, *v);
            return config_.deliver_corrupted ? Fate::kDeliverCorrupted : Fate::kDropCorrupted;
        }
    }
    return Fate::kDeliver;
}

}  // namespace netsim
