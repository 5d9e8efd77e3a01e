// Connection slots and the tables that lead to them: connection IDs (keyed hash), the peers'
// stateless reset tokens, the timer heap, the queue of connections to poll. Each connection
// reports what changed (connection IDs issued or retired, reset tokens given or retired) and the
// endpoint updates only that connection's entries.
#include <algorithm>

#include "endpoint/endpoint_impl.h"
#include "endpoint/limits.h"

namespace quic {

Endpoint::Impl::SlotRef Endpoint::Impl::reserve_slot() {
    uint32_t index;
    if (!free_slots_.empty()) {
        index = free_slots_.back();
        free_slots_.pop_back();
    } else {
        index = static_cast<uint32_t>(slots_.size());
        slots_.emplace_back();
    }
    slots_[index].generation = ++generations_;
    return SlotRef{index, slots_[index].generation};
}

void Endpoint::Impl::release_slot(uint32_t index) {
    Slot& s = slots_[index];
    s.conn.reset();
    s.generation = 0;
    s.ready = false;
    s.touched = false;
    s.half_open = false;
    s.validated = false;
    s.unvalidated_deadline.reset();
    s.cids.clear();
    s.cids.shrink_to_fit();
    s.reset_tokens.clear();
    s.reset_tokens.shrink_to_fit();
    free_slots_.push_back(index);
}

void Endpoint::Impl::install(SlotRef ref, std::shared_ptr<Connection> conn,
                             std::initializer_list<ConnectionId> cids) {
    Slot& s = slots_[ref.index];
    s.conn = std::move(conn);
    for (const ConnectionId& cid : cids) route(ref.index, cid);
    ++live_;
    high_water_ = std::max(high_water_, live_);
}

Endpoint::Impl::Slot* Endpoint::Impl::live(SlotRef ref) {
    if (ref.index >= slots_.size()) return nullptr;
    Slot& s = slots_[ref.index];
    return s.conn && s.generation == ref.generation ? &s : nullptr;
}

const Endpoint::Impl::Slot* Endpoint::Impl::find_by_cid(const ConnectionId& cid,
                                                        SlotRef& ref) const {
    auto it = by_cid_.find(cid);
    if (it == by_cid_.end()) return nullptr;
    ref = it->second;
    return &slots_[ref.index];
}

void Endpoint::Impl::route(uint32_t index, const ConnectionId& cid) {
    Slot& s = slots_[index];
    by_cid_[cid] = SlotRef{index, s.generation};
    if (std::find(s.cids.begin(), s.cids.end(), cid) == s.cids.end()) s.cids.push_back(cid);
}

void Endpoint::Impl::unroute(uint32_t index, const ConnectionId& cid) {
    Slot& s = slots_[index];
    auto it = by_cid_.find(cid);
    if (it != by_cid_.end() && it->second.index == index) by_cid_.erase(it);
    std::erase(s.cids, cid);
}

void Endpoint::Impl::index_reset_token(uint32_t index, const StatelessResetToken& token) {
    Slot& s = slots_[index];
    by_reset_token_[token] = SlotRef{index, s.generation};
    if (std::find(s.reset_tokens.begin(), s.reset_tokens.end(), token) == s.reset_tokens.end())
        s.reset_tokens.push_back(token);
}

void Endpoint::Impl::unindex_reset_token(uint32_t index, const StatelessResetToken& token) {
    Slot& s = slots_[index];
    auto it = by_reset_token_.find(token);
    if (it != by_reset_token_.end() && it->second.index == index) by_reset_token_.erase(it);
    std::erase(s.reset_tokens, token);
}

void Endpoint::Impl::index_remote(uint32_t index, const SocketAddress& remote) {
    Slot& s = slots_[index];
    if (s.remote && *s.remote == remote) return;
    unindex_remote(index);
    std::vector<uint32_t>& same_ip = by_remote_ip_[RemoteIpKey::of(remote)];
    s.remote = remote;
    s.remote_pos = same_ip.size();
    same_ip.push_back(index);
}

// Swap-remove: the last slot of the IP takes this one's place.
void Endpoint::Impl::unindex_remote(uint32_t index) {
    Slot& s = slots_[index];
    if (!s.remote) return;
    auto it = by_remote_ip_.find(RemoteIpKey::of(*s.remote));
    s.remote.reset();
    if (it == by_remote_ip_.end()) return;
    std::vector<uint32_t>& same_ip = it->second;
    const uint32_t moved = same_ip.back();
    same_ip[s.remote_pos] = moved;
    slots_[moved].remote_pos = s.remote_pos;
    same_ip.pop_back();
    if (same_ip.empty()) by_remote_ip_.erase(it);
}

void Endpoint::Impl::mark_ready(SlotRef ref) {
    touch(ref);  // the application acted on it (Params::wake)
    Slot* s = live(ref);
    if (!s || s->ready) return;
    s->ready = true;
    ready_.push_back(ref);
}

void Endpoint::Impl::touch(SlotRef ref) {
    Slot* s = live(ref);
    if (!s || s->touched) return;
    s->touched = true;
    touched_.push_back(Touched{ref, s->conn});
    if (touched_.size() < touched_compact_at_) return;
    std::erase_if(touched_, [](const Touched& t) { return t.conn.expired(); });
    touched_compact_at_ = std::max(kMinTouchedCompaction, 2 * touched_.size());
}

void Endpoint::Impl::take_touched(std::vector<std::shared_ptr<Connection>>& out) {
    for (const Touched& t : touched_) {
        if (Slot* s = live(t.ref)) s->touched = false;
        if (auto c = t.conn.lock()) out.push_back(std::move(c));
    }
    touched_.clear();
}

// Every entry point that handed a connection input ends here: it is touched (before it may
// be forgotten, so that whoever holds it learns of its close).
bool Endpoint::Impl::sync(SlotRef ref) {
    Slot* s = live(ref);
    if (!s) return false;
    touch(ref);
    Connection& c = *s->conn;
    while (auto ev = c.poll_cid_event()) {
        if (ev->issued)
            route(ref.index, ev->cid);
        else
            unroute(ref.index, ev->cid);
    }
    while (auto ev = c.poll_reset_token_event()) {
        if (ev->added)
            index_reset_token(ref.index, ev->token);
        else
            unindex_reset_token(ref.index, ev->token);
    }
    if (c.is_closed()) {
        forget(ref.index);
        return false;
    }
    index_remote(ref.index, c.path().remote);
    if (s->half_open && c.is_handshake_complete()) leave_half_open(*s);
    if (s->unvalidated_deadline && c.is_address_validated()) s->unvalidated_deadline.reset();
    timers_.set(ref.index, deadline_of(*s));
    return true;
}

std::optional<Time> Endpoint::Impl::deadline_of(const Slot& s) const {
    std::optional<Time> t = s.conn->next_timeout();
    if (s.unvalidated_deadline && (!t || *s.unvalidated_deadline < *t)) t = s.unvalidated_deadline;
    return t;
}

void Endpoint::Impl::enter_half_open(Slot& s, const SocketAddress& from, bool validated, Time now) {
    s.half_open = true;
    s.validated = validated;
    s.source = SourceKey::of(from);
    ++half_open_;
    SourceCounts& counts = half_open_by_source_[s.source];
    ++(validated ? counts.validated : counts.unvalidated);
    if (!validated) s.unvalidated_deadline = now + *config_.unvalidated_handshake_timeout;
}

void Endpoint::Impl::leave_half_open(Slot& s) {
    if (!s.half_open) return;
    s.half_open = false;
    --half_open_;
    auto it = half_open_by_source_.find(s.source);
    if (it == half_open_by_source_.end()) return;
    --(s.validated ? it->second.validated : it->second.unvalidated);
    if (it->second.validated == 0 && it->second.unvalidated == 0) half_open_by_source_.erase(it);
}

size_t Endpoint::Impl::half_open_from(const SocketAddress& a, bool validated) const {
    auto it = half_open_by_source_.find(SourceKey::of(a));
    if (it == half_open_by_source_.end()) return 0;
    return validated ? it->second.validated : it->second.unvalidated;
}

void Endpoint::Impl::forget(uint32_t index) {
    Slot& s = slots_[index];
    for (const ConnectionId& cid : s.cids) {
        auto it = by_cid_.find(cid);
        if (it != by_cid_.end() && it->second.index == index) by_cid_.erase(it);
    }
    for (const StatelessResetToken& token : s.reset_tokens) {
        auto it = by_reset_token_.find(token);
        if (it != by_reset_token_.end() && it->second.index == index) by_reset_token_.erase(it);
    }
    unindex_remote(index);
    timers_.set(index, std::nullopt);
    leave_half_open(s);
    --live_;
    release_slot(index);
}

// After a flood, the tables sized for its peak give their memory back (issue: memory after a
// flood returns to baseline). Amortised: this does work once per fourfold drop. Called at the
// start of the entry points, never while a slot, a queue or the scratch list is in use.
void Endpoint::Impl::maybe_shrink() {
    if (high_water_ < kMinShrinkHighWater || live_ * 4 > high_water_) return;
    high_water_ = live_;
    by_cid_.rehash(0);
    by_reset_token_.rehash(0);
    half_open_by_source_.rehash(0);
    by_remote_ip_.rehash(0);
    timers_.shrink();
    while (!slots_.empty() && !slots_.back().conn) slots_.pop_back();
    slots_.shrink_to_fit();
    // Free slots are reused lowest first, so that the live ones gather at the front and the
    // next shrink can drop the tail.
    free_slots_.clear();
    for (uint32_t i = static_cast<uint32_t>(slots_.size()); i-- > 0;)
        if (!slots_[i].conn) free_slots_.push_back(i);
    free_slots_.shrink_to_fit();
    ready_.shrink_to_fit();
    accept_queue_.shrink_to_fit();
    due_.shrink_to_fit();
}

}  // namespace quic
