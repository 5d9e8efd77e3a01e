// `quiver perf client --scenario`: a mixed run in the spirit of picoquic's quicperf scenarios
// (repeat count, stream kind, start after another stream, upload and response sizes), spelled
// with names rather than positions:
//
//     id=page,download=50K; id=img,repeat=8,after=page,download=200K,uni; upload=1M
//
// Entries are separated by ';' or new lines ('#' starts a comment); each is a comma-separated
// list of: id=NAME, repeat=N (copies sent at once, default 1), bidi or uni (default bidi),
// after=NAME (start once every copy of that earlier entry completed), upload=SIZE,
// download=SIZE (SIZE as --download takes it). Each connection runs the scenario once, or
// over and over until --duration ends.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace quiver {

// A scenario is written by the user, but bound all the same: this many entries, and this
// many copies of one, are far beyond any useful mix and keep a typo from exhausting memory.
inline constexpr size_t kMaxScenarioEntries = 1000;
inline constexpr size_t kMaxScenarioRepeat = 100000;

struct ScenarioEntry {
    std::string id;
    size_t repeat = 1;
    bool bidirectional = true;
    std::optional<size_t> after;  // index of an earlier entry
    uint64_t upload = 0, download = 0;
};

struct Scenario {
    std::vector<ScenarioEntry> entries;
    size_t requests() const;  // in one pass
};

// The text, or "@FILE" for a file's content. Sets `error` (and returns nullopt) when it does
// not parse.
std::optional<Scenario> parse_scenario(std::string_view text, std::string& error);

}  // namespace quiver
