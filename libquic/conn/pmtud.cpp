// DPLPMTUD's search (RFC 8899 §5, RFC 9000 §14.3); see conn/pmtud.h.
#include "conn/pmtud.h"

#include <algorithm>

namespace quic {

PmtuDiscovery::PmtuDiscovery(size_t ceiling) : ceiling_(std::max(ceiling, kBase)) {}

void PmtuDiscovery::start(Time now) {
    if (started_) return;
    started_ = true;
    begin_search(now, ceiling_);
}

void PmtuDiscovery::lower_ceiling(size_t ceiling) {
    ceiling_ = std::max(kBase, std::min(ceiling_, ceiling));
    high_ = std::min(high_, ceiling_);
    current_ = std::min(current_, ceiling_);
    low_ = std::min(low_, current_);
}

// RFC 8899 §5.2 SEARCHING: from the confirmed PLPMTU up to `high`.
void PmtuDiscovery::begin_search(Time now, size_t high) {
    low_ = current_;
    high_ = std::min(high, ceiling_);
    tried_high_ = false;
    probing_size_ = 0;
    probes_lost_ = 0;
    search_again_at_.reset();
    retry_at_.reset();
    searching_ = true;
    if (high_ <= low_) end_search(now);
}

// RFC 8899 §5.2 SEARCH_COMPLETE: probe again later only if the ceiling was not reached.
void PmtuDiscovery::end_search(Time now) {
    searching_ = false;
    probing_size_ = 0;
    probes_lost_ = 0;
    if (current_ < ceiling_)
        search_again_at_ = now + kRaiseInterval;
    else
        search_again_at_.reset();
}

// Most paths carry the ceiling (1500-byte Ethernet everywhere): try it first, one probe. If
// it is refuted, halve the gap between what works and what does not (RFC 8899 §5.3.2 leaves
// the method open; a binary search needs log2(ceiling - base) sizes).
size_t PmtuDiscovery::next_probe_size() const {
    if (probing_size_ != 0) return probing_size_;  // lost fewer than kMaxProbes times
    if (!tried_high_) return high_;
    return low_ + (high_ - low_ + 1) / 2;
}

std::optional<size_t> PmtuDiscovery::probe_due(Time now) {
    if (!enabled() || in_flight_) return std::nullopt;
    if (retry_at_) {
        if (now < *retry_at_) return std::nullopt;
        retry_at_.reset();
    }
    if (!searching_) {
        if (!search_again_at_ || now < *search_again_at_) return std::nullopt;
        begin_search(now, ceiling_);  // RFC 8899 §5.1.1 PMTU_RAISE_TIMER expired
        if (!searching_) return std::nullopt;
    }
    return next_probe_size();
}

void PmtuDiscovery::on_probe_sent(Time, size_t size) {
    in_flight_ = size;
    if (size != probing_size_) {
        probing_size_ = size;
        probes_lost_ = 0;
    }
}

bool PmtuDiscovery::on_probe_acked(Time now, size_t size) {
    if (in_flight_ == size) in_flight_.reset();
    if (size <= current_ || size > ceiling_) return false;
    // The path carried it: this is the PLPMTU now (RFC 8899 §5.2, probe acknowledged).
    current_ = size;
    low_ = std::max(low_, size);
    high_ = std::max(high_, low_);
    if (size == probing_size_) {
        probing_size_ = 0;
        probes_lost_ = 0;
    }
    if (searching_) {
        tried_high_ = true;
        if (high_ - low_ < kSearchGranularity) end_search(now);
    }
    reset_black_hole_detection();
    return true;
}

bool PmtuDiscovery::on_probe_lost(Time now, size_t size) {
    if (in_flight_ == size) in_flight_.reset();
    if (!searching_ || size != probing_size_) return false;  // a stale probe
    tried_high_ = true;
    // Only after a size's first loss: its PTB, if any, answers for the later probes too.
    if (probes_lost_ == 0) retry_at_ = now + kProbeRetryDelay;
    if (++probes_lost_ < kMaxProbes) return false;  // probe the same size again
    on_size_refuted(size);
    if (high_ < low_ + kSearchGranularity) end_search(now);
    return false;
}

void PmtuDiscovery::on_size_refuted(size_t size) {
    high_ = std::max(low_, std::min(high_, size - 1));
    probing_size_ = 0;
    probes_lost_ = 0;
}

void PmtuDiscovery::reset_black_hole_detection() {
    large_losses_ = 0;
    largest_small_acked_.reset();
}

bool PmtuDiscovery::on_packet_acked(uint64_t pn, size_t size) {
    if (size > kBase) {
        largest_large_acked_ = std::max(pn, largest_large_acked_.value_or(0));
        large_losses_ = 0;
        return false;
    }
    largest_small_acked_ = std::max(pn, largest_small_acked_.value_or(0));
    return false;  // a black hole is decided when the losses are declared (below)
}

// RFC 8899 §4.3: packets of the PLPMTU stopped getting through while smaller ones still do.
// Ordinary congestion drops large packets too, but then later large packets get through
// and reset the count.
bool PmtuDiscovery::on_packet_lost(Time now, uint64_t pn, size_t size) {
    if (!started_ || current_ <= kBase || size <= kBase) return false;
    if (largest_large_acked_ && pn < *largest_large_acked_) return false;
    if (large_losses_ == 0) first_large_lost_ = pn;
    ++large_losses_;
    if (large_losses_ < kBlackHoleLosses || !largest_small_acked_ ||
        *largest_small_acked_ < first_large_lost_)
        return false;
    // Back to BASE_PLPMTU (RFC 8899 §5.2, BASE after a black hole) and search again, below
    // the size that stopped working (the raise timer tries the ceiling again later).
    ++black_holes_;
    const size_t failed = current_;
    current_ = kBase;
    reset_black_hole_detection();
    in_flight_.reset();
    begin_search(now, failed - 1);
    return true;
}

bool PmtuDiscovery::on_packet_too_big(Time now, size_t max_payload) {
    // RFC 9000 §14.2.1: a claim below the smallest allowed datagram size is ignored.
    if (max_payload < kBase || !started_) return false;
    if (max_payload < current_) {
        // RFC 8899 §4.6.2: the PLPMTU was too large. Smaller sizes are always safe to send, so
        // the claim is taken at once; the raise timer probes upward again later (a forged
        // message costs some throughput, never the connection).
        current_ = max_payload;
        low_ = std::min(low_, current_);
        high_ = current_;
        in_flight_.reset();
        end_search(now);
        reset_black_hole_detection();
        return true;
    }
    // A probe larger than the path: the next one tries exactly what the path said it carries.
    if (searching_ && max_payload < high_) {
        high_ = max_payload;
        tried_high_ = false;
        probing_size_ = 0;
        probes_lost_ = 0;
        if (in_flight_ && *in_flight_ > max_payload) in_flight_.reset();
        if (high_ <= low_) end_search(now);
    }
    return false;
}

std::optional<Time> PmtuDiscovery::next_timeout() const {
    if (!enabled() || in_flight_) return std::nullopt;
    return searching_ ? retry_at_ : search_again_at_;
}

}  // namespace quic
