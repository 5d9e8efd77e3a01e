// How much the qlog writer logs (--qlog-level). The qlog drafts rank events Core, Base and
// Extra (main schema §8.3 "Event Importance Levels") but every packet_sent and
// packet_received is Core: logging all of them with their frames costs about as much as the
// transfer itself (600+ KB of trace per MB moved). The levels here cut along what a bulk
// transfer repeats, not along the drafts' ranks:
//
//   kCore      (the command's default) every event of the connection's life (start, state,
//              parameters, versions, ALPN, keys, streams, close, drops, losses, congestion
//              state, HTTP/3 frames other than DATA) and every packet sent, a short header
//              giving its type and number only (key changes are in key_updated). A 1-RTT
//              packet sent with only STREAM data (no FIN) and PADDING is logged without its
//              frames. A 1-RTT/0-RTT packet received with only such frames and ACK is not
//              logged: the sender's trace has it, and the receiver's own ACK frames (in its
//              packet_sent) say what arrived. Recovery metrics when an RTT, the congestion
//              window, ssthresh, the PTO count or the pacing rate changes (bytes_in_flight
//              rides along), not on each packet.
//   kExtended  adds the frames and the whole header of every packet, every packet received,
//              HTTP/3 DATA frames and received DATAGRAM frames.
//   kFull      adds a recovery_metrics_updated on every change (bytes_in_flight moves with
//              each packet sent and acknowledged) and timer_updated (Extra in the draft).
//              The writer's complete output.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace qlog {

enum class Level : uint8_t { kCore, kExtended, kFull };

// "core", "extended", "full" (the names --qlog-level takes); nullopt for anything else.
inline std::optional<Level> parse_level(std::string_view name) {
    if (name == "core") return Level::kCore;
    if (name == "extended") return Level::kExtended;
    if (name == "full") return Level::kFull;
    return std::nullopt;
}

inline const char* level_name(Level level) {
    switch (level) {
        case Level::kCore:
            return "core";
        case Level::kExtended:
            return "extended";
        case Level::kFull:
            return "full";
    }
    return "full";
}

}  // namespace qlog
