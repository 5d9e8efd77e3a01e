// The replay script (docs/replay.md): one JSON object per line, read into actions. Hand-written
// scripts, `quiver client --record` files and the conformance suite share it. Parsing checks
// every record and says which line and which field is wrong; it never throws.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "quic/bytes.h"
#include "quic/http3/field.h"
#include "quic/http3/settings.h"

namespace quiver::replay {

// An error code in an expectation or a reset: a number, or a name from RFC 9000 §20.1 or
// RFC 9114 §8.1 / RFC 9204 §6 (the name fixes the space).
struct ErrorCode {
    enum class Space : uint8_t { kAny, kTransport, kApplication };
    Space space = Space::kAny;
    uint64_t code = 0;
};

// One reaction an `expect` waits for.
struct Expectation {
    enum class What : uint8_t {
        kResponse,         // a response's HEADERS on `stream`: status (any of), fields present
        kStreamReset,      // RESET_STREAM on `stream`, with one of `codes` (empty: any)
        kStopSending,      // STOP_SENDING on `stream`
        kConnectionClose,  // CONNECTION_CLOSE from the peer with one of `codes`
        kGoaway,           // a GOAWAY on the peer's control stream
        kAlive,            // the connection is still open when the timeout ends
    };
    What what = What::kResponse;
    std::string stream;
    std::vector<int> statuses;  // exact statuses; 1..5 stand for 1xx..5xx
    std::vector<quic::h3::Field> fields;
    std::vector<ErrorCode> codes;
};

struct Action {
    enum class Kind : uint8_t {
        kHeaders,      // a HEADERS frame on a request stream (opened by its first action)
        kData,         // a DATA frame
        kFrame,        // any frame on any stream: type, payload, maybe a lying Length
        kRaw,          // raw bytes on a stream
        kUniStream,    // opens a unidirectional stream: type (and push ID), then bytes
        kFin,          // ends a stream's send side
        kResetStream,  // RESET_STREAM with a code
        kStopSending,  // STOP_SENDING with a code
        kGoaway,       // GOAWAY on our control stream
        kSettings,     // SETTINGS on our control stream
        kDatagram,     // a QUIC DATAGRAM (RFC 9221)
        kQuicFrame,    // a transport frame injected as it is (quic::Connection::inject_frame)
        kWait,         // pause
        kExpect,       // wait until one of the expectations holds, or fail at the timeout
    };
    Kind kind = Kind::kWait;
    int line = 0;
    std::optional<double> time_ms;  // when to perform it, from the start (--timing recorded)
    std::string stream;             // a label; "control" is our control stream
    std::vector<quic::h3::Field> fields;
    bool huffman = true;
    quic::Bytes bytes;     // a payload: encoded section, DATA body, frame payload, raw, datagram
    bool encoded = false;  // headers: `bytes` is the encoded field section as given
    uint64_t frame_type = 0;
    std::optional<uint64_t> length;  // frame: the Length to write instead of the payload's
    uint64_t stream_type = 0;
    std::optional<uint64_t> push_id;
    bool fin = false;
    uint64_t code = 0;
    uint64_t id = 0;
    std::vector<quic::h3::Setting> settings;
    double ms = 0;                    // wait
    double timeout_ms = 2000;         // expect
    std::vector<Expectation> any_of;  // expect
    std::string elided;               // data: what a recording left out (docs/replay.md)
    // quic_frame: the frame's type (its RFC 9000 name) and fields. `stream` (a label) or
    // `stream_id` names its stream.
    std::string quic_type;
    std::optional<uint64_t> stream_id;
    bool bidirectional = true;
    uint64_t maximum = 0, offset = 0, final_size = 0;
};

struct Script {
    // The first line may describe the script instead of being an action (docs/replay.md).
    std::string title, clause, requires_;
    // Open our control stream (with SETTINGS) and QPACK streams before the first action.
    bool control_streams = true;
    std::vector<quic::h3::Setting> settings;  // in our first SETTINGS
    std::vector<Action> actions;
    // From a `quiver client --record` recording (cli/replay_recording.h): what the client
    // offered, which replay offers too unless its command line says otherwise.
    bool recording = false;
    std::string sni;
    std::vector<std::string> alpn;
    std::vector<uint32_t> versions;
};

// Parses `text`; `name` prefixes errors ("conformance/x.json line 7: action 'headers': field
// 'fields' must be an array"). Returns nullopt with `error` set on the first error.
std::optional<Script> parse_script(std::string_view text, const std::string& name,
                                   std::string& error);

// The names docs/replay.md gives codes: "H3_FRAME_UNEXPECTED", "STREAM_LIMIT_ERROR", or hex.
std::string describe(const ErrorCode& c);
std::optional<ErrorCode> parse_error_code(std::string_view name);

}  // namespace quiver::replay
