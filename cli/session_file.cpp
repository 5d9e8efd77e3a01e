#include "session_file.h"

#include <cstdio>
#include <fstream>
#include <iterator>

namespace quiver {
namespace {

// Layout: magic, then each field as a 4-byte big-endian length and its bytes.
constexpr char kMagic[] = "quiver-session-1\n";
constexpr size_t kMagicLength = sizeof kMagic - 1;
// Tickets are a few KiB; anything far larger is not ours.
constexpr size_t kMaxField = 1 << 20;

void put_field(std::string& out, const quic::Bytes& b) {
    const uint32_t n = static_cast<uint32_t>(b.size());
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(n >> shift));
    out.append(b.begin(), b.end());
}

bool get_field(const std::string& in, size_t& pos, quic::Bytes& out) {
    if (in.size() - pos < 4) return false;
    uint32_t n = 0;
    for (int i = 0; i < 4; ++i) n = (n << 8) | static_cast<uint8_t>(in[pos++]);
    if (n > kMaxField || in.size() - pos < n) return false;
    out.assign(in.begin() + static_cast<std::ptrdiff_t>(pos),
               in.begin() + static_cast<std::ptrdiff_t>(pos + n));
    pos += n;
    return true;
}

}  // namespace

SessionData load_session(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) return {};
    std::string in((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (in.compare(0, kMagicLength, kMagic) != 0) return {};
    SessionData d;
    size_t pos = kMagicLength;
    if (!get_field(in, pos, d.ticket) || !get_field(in, pos, d.token)) return {};
    return d;
}

bool save_session(const std::string& path, const SessionData& data) {
    std::string out(kMagic, kMagicLength);
    put_field(out, data.ticket);
    put_field(out, data.token);
    const std::string tmp = path + ".tmp";
    {
        std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
        if (!f.write(out.data(), static_cast<std::streamsize>(out.size()))) return false;
    }
    return std::rename(tmp.c_str(), path.c_str()) == 0;
}

quic::uv::StoredSession FileSessionStore::get(const std::string&) {
    return quic::uv::StoredSession{data_.ticket, data_.token};
}

void FileSessionStore::put_ticket(const std::string&, quic::Bytes ticket) {
    data_.ticket = std::move(ticket);
    ticket_received_ = true;
    save();
}

void FileSessionStore::put_token(const std::string&, quic::Bytes token) {
    data_.token = std::move(token);
    save();
}

void FileSessionStore::save() {
    if (!save_session(path_, data_))
        std::fprintf(stderr, "quiver: warning: cannot write %s\n", path_.c_str());
}

}  // namespace quiver
