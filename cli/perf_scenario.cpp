#include "perf_scenario.h"

#include <charconv>
#include <fstream>
#include <sstream>

#include "size_option.h"

namespace quiver {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

// The entries of the text: split at ';' and new lines, comments dropped.
std::vector<std::string> split_entries(std::string_view text) {
    std::vector<std::string> out;
    std::string current;
    bool comment = false;
    for (char c : text) {
        if (c == '\n' || c == ';') {
            comment = c == '\n' ? false : comment;
            if (!trim(current).empty()) out.emplace_back(trim(current));
            current.clear();
            continue;
        }
        if (c == '#') comment = true;
        if (!comment) current += c;
    }
    if (!trim(current).empty()) out.emplace_back(trim(current));
    return out;
}

bool parse_field(std::string_view field, ScenarioEntry& e, const Scenario& s, std::string& error) {
    const size_t eq = field.find('=');
    const std::string_view key = trim(field.substr(0, eq));
    const std::string_view value = eq == std::string_view::npos ? "" : trim(field.substr(eq + 1));
    if (eq == std::string_view::npos) {
        if (key == "uni" || key == "bidi") {
            e.bidirectional = key == "bidi";
            return true;
        }
        error = "'" + std::string(key) + "' is not uni, bidi or KEY=VALUE";
        return false;
    }
    if (key == "id") {
        if (value.empty()) {
            error = "empty id";
            return false;
        }
        for (const auto& other : s.entries)
            if (other.id == value) {
                error = "id '" + std::string(value) + "' used twice";
                return false;
            }
        e.id = value;
        return true;
    }
    if (key == "repeat") {
        size_t n = 0;
        const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
        if (ec != std::errc() || end != value.data() + value.size() || n == 0 ||
            n > kMaxScenarioRepeat) {
            error = "repeat wants 1 to " + std::to_string(kMaxScenarioRepeat);
            return false;
        }
        e.repeat = n;
        return true;
    }
    if (key == "after") {
        for (size_t i = 0; i < s.entries.size(); ++i)
            if (s.entries[i].id == value) {
                e.after = i;
                return true;
            }
        error = "after=" + std::string(value) + ": no earlier entry has that id";
        return false;
    }
    if (key == "upload" || key == "download") {
        auto size = parse_size(value);
        if (!size) {
            error = std::string(key) + "=" + std::string(value) + " is not a size";
            return false;
        }
        (key == "upload" ? e.upload : e.download) = *size;
        return true;
    }
    error = "unknown key '" + std::string(key) + "'";
    return false;
}

}  // namespace

size_t Scenario::requests() const {
    size_t n = 0;
    for (const auto& e : entries) n += e.repeat;
    return n;
}

std::optional<Scenario> parse_scenario(std::string_view text, std::string& error) {
    std::string content(text);
    if (!text.empty() && text.front() == '@') {
        std::ifstream in(std::string(text.substr(1)));
        if (!in) {
            error = "cannot read " + std::string(text.substr(1));
            return std::nullopt;
        }
        std::stringstream ss;
        ss << in.rdbuf();
        content = ss.str();
    }
    Scenario s;
    for (const std::string& entry : split_entries(content)) {
        if (s.entries.size() == kMaxScenarioEntries) {
            error = "more than " + std::to_string(kMaxScenarioEntries) + " entries";
            return std::nullopt;
        }
        ScenarioEntry e;
        std::string_view rest = entry;
        while (!rest.empty()) {
            const size_t comma = rest.find(',');
            const std::string_view field = trim(rest.substr(0, comma));
            rest = comma == std::string_view::npos ? "" : rest.substr(comma + 1);
            if (field.empty()) continue;
            if (!parse_field(field, e, s, error)) {
                error = "entry " + std::to_string(s.entries.size() + 1) + ": " + error;
                return std::nullopt;
            }
        }
        if (e.id.empty()) e.id = "#" + std::to_string(s.entries.size() + 1);
        s.entries.push_back(std::move(e));
    }
    if (s.entries.empty()) {
        error = "no entries";
        return std::nullopt;
    }
    return s;
}

}  // namespace quiver
