#include "replay_record.h"

#include <chrono>
#include <nlohmann/json.hpp>

namespace quiver::replay {
namespace {

using nlohmann::json;

std::string label(size_t request) {
    return "s" + std::to_string(request);
}

std::string hex(quic::ByteSpan b) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(b.size() * 2);
    for (uint8_t x : b) {
        out += kDigits[x >> 4];
        out += kDigits[x & 0xf];
    }
    return out;
}

}  // namespace

std::unique_ptr<Recorder> Recorder::open(const std::string& path, uint64_t max_body,
                                         const std::string& title, std::string& error) {
    std::FILE* f = std::fopen(path.c_str(), "w");
    if (!f) {
        error = "cannot write " + path;
        return nullptr;
    }
    std::unique_ptr<Recorder> r(new Recorder(f, max_body));
    r->write(json{
        {"replay", 1}, {"title", title}, {"requires", "the responses have the statuses recorded"}}
                 .dump());
    return r;
}

Recorder::~Recorder() {
    std::fclose(f_);
}

void Recorder::write(const std::string& line) {
    std::fputs(line.c_str(), f_);
    std::fputc('\n', f_);
    std::fflush(f_);
}

double Recorder::ms(quic::Time now) const {
    const double t = std::chrono::duration<double, std::milli>(now - start_).count();
    return t < 0 ? 0 : std::round(t * 1000) / 1000;
}

void Recorder::headers(size_t request, quic::Time now, const std::vector<quic::h3::Field>& fields,
                       bool fin) {
    json f = json::array();
    for (const quic::h3::Field& x : fields) f.push_back({x.name, x.value});
    write(json{
        {"action", "headers"},
        {"time", ms(now)},
        {"stream", label(request)},
        {"fields", f},
        {"fin",
         fin}}.dump(-1, ' ', false, json::error_handler_t::replace));
}

void Recorder::data(size_t request, quic::Time now, quic::ByteSpan bytes, bool fin) {
    if (recorded_.size() <= request) recorded_.resize(request + 1);
    uint64_t& done = recorded_[request];
    const size_t keep = static_cast<size_t>(
        std::min<uint64_t>(bytes.size(), max_body_ - std::min(max_body_, done)));
    const size_t elided = bytes.size() - keep;
    done += bytes.size();
    if (keep > 0 || elided == 0)
        write(json{{"action", "data"},
                   {"time", ms(now)},
                   {"stream", label(request)},
                   {"hex", hex(bytes.first(keep))},
                   {"fin", fin && elided == 0}}
                  .dump());
    if (elided > 0)
        // --record-max-body: the bytes are not kept; a replay sends as many 'x' bytes.
        write(json{
            {"action", "data"},
            {"time", ms(now)},
            {"stream", label(request)},
            {"size", elided},
            {"elided", std::to_string(elided) + " body bytes beyond --record-max-body " +
                           std::to_string(max_body_) + " not recorded: sent as 'x'"},
            {"fin",
             fin}}.dump());
}

void Recorder::reset(size_t request, quic::Time now, uint64_t code) {
    write(json{
        {"action", "reset_stream"}, {"time", ms(now)}, {"stream", label(request)}, {"code", code}}
              .dump());
}

void Recorder::response(size_t request, quic::Time now, unsigned status) {
    write(json{{"action", "expect"},
               {"time", ms(now)},
               {"timeout_ms", 10000},
               {"response", {{"stream", label(request)}, {"status", status}}}}
              .dump());
}

}  // namespace quiver::replay
