#include "scenario.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>
#include <vector>

namespace netsim {

namespace {

// "12.5ms" -> (12.5, "ms"); nullopt unless it starts with a non-negative number.
std::optional<std::pair<double, std::string>> number_and_unit(const std::string& text) {
    if (text.empty() || !(std::isdigit(static_cast<unsigned char>(text[0])) || text[0] == '.'))
        return std::nullopt;
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (end == text.c_str() || !std::isfinite(v) || v < 0) return std::nullopt;
    return std::make_pair(v, std::string(end));
}

std::optional<double> parse_percent(const std::string& text) {
    auto nu = number_and_unit(text);
    if (!nu || !nu->second.empty() || nu->first > 100) return std::nullopt;
    return nu->first;
}

std::optional<unsigned> parse_count(const std::string& text) {
    auto nu = number_and_unit(text);
    if (!nu || !nu->second.empty() || nu->first != std::floor(nu->first) || nu->first > 1e9)
        return std::nullopt;
    return static_cast<unsigned>(nu->first);
}

// "2,3,4" -> {2, 3, 4}; indexes are 1-based.
std::optional<std::set<uint64_t>> parse_list(const std::string& text) {
    std::set<uint64_t> out;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) {
        auto n = parse_count(item);
        if (!n || *n == 0) return std::nullopt;
        out.insert(*n);
    }
    return out;
}

struct Args {
    std::map<std::string, std::string> values;
    std::set<std::string> used;

    bool has(const std::string& k) const { return values.count(k) != 0; }
    std::optional<std::string> get(const std::string& k) {
        used.insert(k);
        auto it = values.find(k);
        if (it == values.end()) return std::nullopt;
        return it->second;
    }
};

// Reads key=value (or a bare key, as for --rebind-addr) into `args`.
bool split_args(std::istringstream& in, Args& args, std::string& error) {
    std::string word;
    while (in >> word) {
        if (word.rfind("--", 0) != 0) {
            error = "scenario: '" + word + "' is not a --key=value argument";
            return false;
        }
        const auto eq = word.find('=');
        const std::string key = word.substr(2, eq == std::string::npos ? eq : eq - 2);
        args.values[key] = eq == std::string::npos ? "" : word.substr(eq + 1);
    }
    return true;
}

// Reads the value of `key` with `parse` into `out`; a missing key is an error if `required`.
template <class T, class Parse>
bool read(Args& args, const std::string& key, bool required, Parse parse, T& out,
          std::string& error) {
    auto v = args.get(key);
    if (!v) {
        if (required) error = "scenario: missing --" + key;
        return !required;
    }
    auto parsed = parse(*v);
    if (!parsed) {
        error = "scenario: bad value for --" + key + ": '" + *v + "'";
        return false;
    }
    out = *parsed;
    return true;
}

bool read_rate_pair(Args& args, const char* rate_key, const char* burst_key, double& rate,
                    unsigned& burst, std::string& error) {
    return read(args, rate_key, true, parse_percent, rate, error) &&
           read(args, burst_key, false, parse_count, burst, error);
}

bool read_blackhole(Args& args, Scenario& s, std::string& error) {
    quic::Duration on{}, off{};
    unsigned repeat = 1;
    std::string direction = "both";
    auto any = [](const std::string& t) { return std::optional<std::string>(t); };
    if (!read(args, "on", true, parse_time, on, error) ||
        !read(args, "off", true, parse_time, off, error) ||
        !read(args, "repeat", false, parse_count, repeat, error) ||
        !read(args, "direction", false, any, direction, error))
        return false;
    if (repeat == 0) {
        error = "scenario: --repeat must be at least 1";
        return false;
    }
    if (direction != "both" && direction != "toclient" && direction != "toserver") {
        error = "scenario: --direction is both, toclient or toserver";
        return false;
    }
    // ns-3's blackhole: on for `on`, then dropping for `off`, `repeat` times.
    for (unsigned k = 0; k < repeat; ++k) {
        const Window w{on + (on + off) * k, (on + off) * (k + 1)};
        if (direction != "toserver") s.to_client.blackholes.push_back(w);
        if (direction != "toclient") s.to_server.blackholes.push_back(w);
    }
    return true;
}

bool read_rebind(Args& args, Scenario& s, std::string& error) {
    RebindConfig r;
    if (!read(args, "first-rebind", true, parse_time, r.first, error) ||
        !read(args, "rebind-freq", false, parse_time, r.every, error))
        return false;
    if (auto v = args.get("rebind-addr")) {
        if (*v != "" && *v != "true" && *v != "1" && *v != "false" && *v != "0") {
            error = "scenario: bad value for --rebind-addr: '" + *v + "'";
            return false;
        }
        r.change_address = *v == "" || *v == "true" || *v == "1";
    }
    s.rebind = r;
    return true;
}

}  // namespace

std::optional<quic::Duration> parse_time(const std::string& text) {
    auto nu = number_and_unit(text);
    if (!nu) return std::nullopt;
    static const std::map<std::string, double> kUnits = {
        {"s", 1e9}, {"ms", 1e6}, {"us", 1e3}, {"ns", 1}};
    auto it = kUnits.find(nu->second);
    if (it == kUnits.end()) return std::nullopt;
    return quic::Duration(static_cast<int64_t>(std::llround(nu->first * it->second)));
}

std::optional<uint64_t> parse_rate(const std::string& text) {
    auto nu = number_and_unit(text);
    if (!nu) return std::nullopt;
    static const std::map<std::string, double> kUnits = {
        {"bps", 1},    {"b/s", 1},    {"kbps", 1e3}, {"Kbps", 1e3}, {"kb/s", 1e3},
        {"Mbps", 1e6}, {"Mb/s", 1e6}, {"Gbps", 1e9}, {"Gb/s", 1e9}};
    auto it = kUnits.find(nu->second);
    if (it == kUnits.end()) return std::nullopt;
    return static_cast<uint64_t>(std::llround(nu->first * it->second));
}

std::optional<Scenario> parse_scenario(const std::string& text, std::string& error) {
    std::istringstream in(text);
    Scenario s;
    if (!(in >> s.name)) {
        error = "scenario: empty";
        return std::nullopt;
    }
    Args args;
    if (!split_args(in, args, error)) return std::nullopt;
    auto queue = [](const std::string& t) -> std::optional<size_t> {
        auto n = parse_count(t);
        if (!n) return std::nullopt;
        return static_cast<size_t>(*n);
    };
    if (!read(args, "delay", true, parse_time, s.link.delay, error) ||
        !read(args, "bandwidth", true, parse_rate, s.link.rate_bps, error) ||
        !read(args, "queue", true, queue, s.link.queue_packets, error))
        return std::nullopt;

    bool ok = true;
    if (s.name == "simple-p2p") {
    } else if (s.name == "drop-rate") {
        ok = read_rate_pair(args, "rate_to_server", "burst_to_server", s.to_server.drop_percent,
                            s.to_server.drop_burst, error) &&
             read_rate_pair(args, "rate_to_client", "burst_to_client", s.to_client.drop_percent,
                            s.to_client.drop_burst, error);
    } else if (s.name == "corrupt-rate") {
        ok = read_rate_pair(args, "rate_to_server", "burst_to_server", s.to_server.corrupt_percent,
                            s.to_server.corrupt_burst, error) &&
             read_rate_pair(args, "rate_to_client", "burst_to_client", s.to_client.corrupt_percent,
                            s.to_client.corrupt_burst, error);
    } else if (s.name == "droplist") {
        ok = read(args, "drops_to_server", false, parse_list, s.to_server.droplist, error) &&
             read(args, "drops_to_client", false, parse_list, s.to_client.droplist, error);
    } else if (s.name == "blackhole") {
        ok = read_blackhole(args, s, error);
    } else if (s.name == "rebind") {
        ok = read_rebind(args, s, error);
    } else {
        error = "scenario: unknown scenario '" + s.name +
                "' (simple-p2p, drop-rate, corrupt-rate, droplist, blackhole, rebind)";
        return std::nullopt;
    }
    if (!ok) return std::nullopt;
    for (const auto& [key, value] : args.values) {
        if (args.used.count(key) == 0) {
            error = "scenario: " + s.name + " has no option --" + key;
            return std::nullopt;
        }
    }
    return s;
}

}  // namespace netsim
