// The endpoint's internals, split by concern:
//   endpoint.cpp         the facade, connect/accept, datagrams in and out, timers
//   endpoint_server.cpp  what arrives for no connection: Version Negotiation, new clients
//                        (Initials, Retry, refusals), stateless resets
//   endpoint_table.cpp   connection slots, routing by connection ID, the reset-token index,
//                        the timer heap, the queue of connections that want to send and the
//                        list of connections touched since the I/O layer last asked
// Every per-event cost is independent of the number of connections: lookups are keyed hashes,
// timers a heap, transmits a queue of the connections that were touched, and the I/O layer
// learns which connections to look at from the touched list (take_touched).
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "crypto/address_token.h"
#include "crypto/initial_secrets.h"
#include "crypto/stateless_reset.h"
#include "endpoint/keyed_hash.h"
#include "endpoint/limits.h"
#include "endpoint/rate_limiter.h"
#include "endpoint/timer_heap.h"
#include "quic/endpoint.h"
#include "wire/packet_header.h"

namespace quic {

class Endpoint::Impl {
  public:
    Impl(EndpointConfig config, Random& random);
    ~Impl();

    void on_datagram(Time now, const Path& path, Ecn ecn, MutableByteSpan datagram);
    std::optional<Transmit> poll_transmit(Time now, MutableByteSpan buffer);
    std::optional<Time> next_timeout() const;
    void on_timeout(Time now);
    void on_packet_too_big(Time now, const SocketAddress& remote, size_t max_udp_payload);
    Result<std::shared_ptr<Connection>> connect(Time now, const Path& path,
                                                const ConnectOptions& options);
    std::shared_ptr<Connection> accept();
    void take_touched(std::vector<std::shared_ptr<Connection>>& out);
    size_t connection_count() const { return live_; }
    size_t half_open_count() const { return half_open_; }
    size_t half_open_from(const SocketAddress& a, bool validated) const;
    const EndpointConfig& config() const { return config_; }
    const Stats& stats() const { return stats_; }

  private:
    // A connection's place in the endpoint. Slots are reused; the generation (unique per
    // connection) tells a stale reference (a queued index, the wake hook of a connection the
    // endpoint forgot) from the slot's current owner.
    struct Slot {
        std::shared_ptr<Connection> conn;  // null: free
        uint64_t generation = 0;
        bool ready = false;      // queued in ready_: poll it for datagrams
        bool touched = false;    // listed in touched_: the I/O layer has not been told yet
        bool half_open = false;  // counted in half_open_: a server handshake in progress
        bool validated = false;  // half-open and counted as validated (a token) for its source
        SourceKey source;        // server: the client's source, for per-source counts
        // Server: when to abandon the handshake if the client's address is still unvalidated.
        std::optional<Time> unvalidated_deadline;
        std::vector<ConnectionId> cids;                 // routed to this slot (by_cid_)
        std::vector<StatelessResetToken> reset_tokens;  // indexed in by_reset_token_
        std::optional<SocketAddress> remote;            // indexed in by_remote_ip_
        size_t remote_pos = 0;                          // where, in by_remote_ip_[remote's IP]
    };
    struct SlotRef {
        uint32_t index = 0;
        uint64_t generation = 0;
    };
    struct Pending {  // endpoint-generated datagrams (VN, Retry, stateless reset, refusals)
        Path path;
        Bytes bytes;
    };
    struct SourceCounts {  // half-open connections from one source
        uint32_t unvalidated = 0, validated = 0;
    };
    // What a client's Initial proved about its address.
    struct Admission {
        bool validated = false;
        std::optional<ConnectionId> original_dcid;  // after a Retry: from its token
        std::optional<ConnectionId> retry_scid;
    };

    // --- endpoint_server.cpp
    void handle_unrouted(Time now, const Path& path, Ecn ecn, MutableByteSpan datagram);
    void send_version_negotiation(Time now, const Path& path, const InvariantHeader& inv,
                                  size_t datagram_size);
    void accept_initial(Time now, const Path& path, Ecn ecn, MutableByteSpan datagram,
                        const PacketHeader& header);
    // Checks the Initial's token (RFC 9000 §8.1.2, §8.1.3); nullopt: an invalid Retry token.
    std::optional<Admission> check_token(Time now, const Path& path, const PacketHeader& header);
    enum class Decision { kCreate, kRetry, kRefuse };
    Decision decide(const Path& path, const Admission& a);
    void create_server_connection(Time now, const Path& path, Ecn ecn, MutableByteSpan datagram,
                                  const PacketHeader& header, const Admission& a);
    void send_retry(Time now, const Path& path, const PacketHeader& header);
    void send_initial_close(Time now, const Path& path, const PacketHeader& header,
                            InitialKeys& keys, TransportErrorCode code, std::string_view reason);
    void send_stateless_reset(Time now, const Path& path, ByteSpan dcid, size_t trigger_size);
    bool is_stateless_reset_for_us(Time now, ByteSpan datagram);
    // Room in the pending queue and, with a limiter, under its rate (else counted as dropped).
    bool may_reply(Time now, RateLimiter* limiter);
    bool queue_reply(const Path& path, Bytes bytes);

    // --- endpoint_table.cpp
    // A slot for a connection about to be created (its wake hook needs the reference).
    SlotRef reserve_slot();
    void release_slot(uint32_t index);
    // Installs the created connection and routes `cids` to it.
    void install(SlotRef ref, std::shared_ptr<Connection> conn,
                 std::initializer_list<ConnectionId> cids);
    Slot* live(SlotRef ref);
    const Slot* find_by_cid(const ConnectionId& cid, SlotRef& ref) const;
    // After an entry point touched the connection: routes its new and retired connection IDs,
    // indexes its reset tokens, updates the half-open count, re-reads its timer; forgets it
    // once closed. Returns false when it was forgotten.
    bool sync(SlotRef ref);
    void mark_ready(SlotRef ref);
    // Lists the connection in touched_ (once until the next take_touched).
    void touch(SlotRef ref);
    void forget(uint32_t index);
    void route(uint32_t index, const ConnectionId& cid);
    void unroute(uint32_t index, const ConnectionId& cid);
    void index_reset_token(uint32_t index, const StatelessResetToken& token);
    void unindex_reset_token(uint32_t index, const StatelessResetToken& token);
    // Keeps by_remote_ip_ at the connection's current peer address (it moves on migration).
    void index_remote(uint32_t index, const SocketAddress& remote);
    void unindex_remote(uint32_t index);
    void maybe_shrink();
    void enter_half_open(Slot& s, const SocketAddress& from, bool validated, Time now);
    void leave_half_open(Slot& s);
    std::optional<Time> deadline_of(const Slot& s) const;

    // --- endpoint.cpp
    ConnectionId new_connection_id();
    Connection::Params base_params(Role role, const Path& path, SlotRef slot);
    // A random static key when none is given; the unvalidated handshake timeout when unset.
    static EndpointConfig with_defaults(EndpointConfig c, Random& random);

    EndpointConfig config_;
    Random& random_;
    StatelessResetTokenGenerator reset_tokens_;
    AddressTokenCodec address_tokens_;
    KeyedHash hash_;

    std::vector<Slot> slots_;
    std::vector<uint32_t> free_slots_;  // popped from the back
    uint64_t generations_ = 0;          // the last generation handed out
    size_t live_ = 0;                   // slots holding a connection
    size_t high_water_ = 0;             // most live connections since the last shrink
    size_t half_open_ = 0;
    std::unordered_map<ConnectionId, SlotRef, KeyedHash> by_cid_;
    std::unordered_map<StatelessResetToken, SlotRef, KeyedHash, ResetTokenEqual> by_reset_token_;
    std::unordered_map<SourceKey, SourceCounts, KeyedHash> half_open_by_source_;
    // Connections by their peer's IP: an ICMP Packet Too Big reaches the connections it names
    // without a walk over all of them.
    // Slot indices per IP; a slot knows its place (remote_pos), so leaving costs O(1) however
    // many connections share the IP (a NAT, a load generator).
    std::unordered_map<RemoteIpKey, std::vector<uint32_t>, KeyedHash> by_remote_ip_;
    TimerHeap timers_;
    std::deque<SlotRef> ready_;  // round-robin over connections that may have data to send
    std::vector<SlotRef> due_;   // scratch for on_timeout
    // Connections touched since the last take_touched, each once (Slot::touched). Weak: a
    // connection the endpoint forgot (closed) is still reported to whoever holds it, while one
    // that nobody holds any more is not kept alive by a caller that never asks.
    struct Touched {
        SlotRef ref;
        std::weak_ptr<Connection> conn;
    };
    std::vector<Touched> touched_;
    size_t touched_compact_at_ =
        kMinTouchedCompaction;  // expired entries are dropped when touched_ reaches this

    std::deque<std::shared_ptr<Connection>> accept_queue_;
    std::deque<Pending> pending_;
    Time last_now_{};
    // Replies to datagrams that belong to no connection are rate-limited (endpoint/limits.h):
    // anyone can send those with a spoofed source, and we must not become a reflector.
    RateLimiter version_negotiation_limiter_;
    RateLimiter stateless_reset_limiter_;
    RateLimiter initial_close_limiter_;
    Bytes scratch_;  // a copy of a client Initial being opened
    Stats stats_;
};

}  // namespace quic
