#include "h3_server.h"
#include "quic/overloaded.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "conn_log.h"
#include "hq_interop.h"
#include "http3/error.h"
#include "http3/message.h"
#include "mime_types.h"
#include "root_path.h"

namespace quiver {
namespace {

using quic::h3::Field;

// Bytes read from a file (or the connection) per attempt.
constexpr size_t kChunk = 64 * 1024;
constexpr const char* kAllow = "GET, HEAD, POST, PUT";

// RFC 9110 §5.6.7: IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT").
std::string http_date(time_t t) {
    static const char* const kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;
    gmtime_r(&t, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday],
                  tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                  tm.tm_sec);
    return buf;
}

std::string html_escape(std::string_view s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

// Percent-encodes everything but RFC 3986 unreserved characters (a path segment).
std::string url_escape(std::string_view s) {
    static const char* const kHex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
    }
    return out;
}

// The HTML listing of a directory (its entries sorted, dot files hidden).
std::string listing(const std::string& dir, std::string request_path) {
    if (request_path.empty() || request_path.back() != '/') request_path += '/';
    std::vector<std::pair<std::string, bool>> entries;
    if (DIR* d = opendir(dir.c_str())) {
        while (dirent* e = readdir(d)) {
            const std::string name = e->d_name;
            if (name.empty() || name[0] == '.') continue;
            struct stat st;
            const bool is_dir = stat((dir + "/" + name).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
            entries.emplace_back(name, is_dir);
        }
        closedir(d);
    }
    std::sort(entries.begin(), entries.end());
    const std::string title = "Index of " + html_escape(request_path);
    std::string html = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + title +
                       "</title></head>\n<body><h1>" + title + "</h1>\n<ul>\n";
    if (request_path != "/") html += "<li><a href=\"../\">../</a></li>\n";
    for (const auto& [name, is_dir] : entries) {
        const std::string shown = html_escape(name) + (is_dir ? "/" : "");
        html += "<li><a href=\"" + html_escape(request_path) + url_escape(name) +
                (is_dir ? "/" : "") + "\">" + shown + "</a></li>\n";
    }
    html += "</ul></body></html>\n";
    return html;
}

const std::string* field(const std::vector<Field>& fields, const char* name) {
    return quic::h3::find_field(fields, name);
}

}  // namespace

H3ServerSession::H3ServerSession(std::shared_ptr<quic::Connection> connection, std::string root,
                                 std::string upload_dir, std::FILE* log)
    : connection_(connection),
      session_(std::move(connection), quic::h3::Perspective::kServer),
      root_(std::move(root)),
      upload_dir_(std::move(upload_dir)),
      log_(log),
      name_(connection_->path().remote.to_string()),
      buf_(kChunk) {
    logf("new connection (h3)");
    if (auto st = session_.start(); !st)
        logf("cannot start HTTP/3: %s", st.error().to_string().c_str());
}

H3ServerSession::~H3ServerSession() {
    for (auto& [id, r] : requests_) {
        if (r.fd >= 0) ::close(r.fd);
        if (r.upload_fd >= 0) ::close(r.upload_fd);
    }
}

void H3ServerSession::logf(const char* fmt, ...) {
    if (!log_) return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    std::fprintf(log_, "quiver server: %s: %s\n", name_.c_str(), buf);
}

void H3ServerSession::close(quic::Time now) {
    session_.close(now, quic::h3::to_underlying(quic::h3::H3Error::kNoError),
                   "server shutting down");
}

void H3ServerSession::on_activity(quic::Time now) {
    using namespace quic;
    using namespace quic::h3;
    while (auto event = session_.poll_event(now)) {
        std::visit(quic::Overloaded{
                       [&](const HandshakeCompleted&) {
                           logf("%s", describe(connection_->info()).c_str());
                       },
                       [&](RequestHeaders& e) { on_headers(e.stream_id, std::move(e.fields)); },
                       [&](const BodyReadable& e) { on_body(e.stream_id); },
                       [&](const MessageComplete& e) { on_complete(e.stream_id); },
                       [&](const StreamWritable& e) { pump(e.stream_id); },
                       [&](const StreamAborted& e) {
                           logf("stream %llu: aborted with %s", (unsigned long long)e.stream_id,
                                h3_error_name(e.error_code).c_str());
                           forget(e.stream_id, true);
                       },
                       [&](const GoAwayReceived&) {},
                       [&](const ConnectionClosed& e) {
                           logf("%s; %s", describe(e).c_str(),
                                describe(connection_->stats()).c_str());
                           const SessionStats s = session_.stats();
                           logf(
                               "QPACK: encoded %llu sections (%llu with the dynamic table, %llu "
                               "inserts), decoded %llu (%llu with the dynamic table, %llu "
                               "blocked)",
                               (unsigned long long)s.sections_encoded,
                               (unsigned long long)s.sections_encoded_dynamic,
                               (unsigned long long)s.encoder_insert_count,
                               (unsigned long long)s.sections_decoded,
                               (unsigned long long)s.sections_decoded_dynamic,
                               (unsigned long long)s.sections_blocked);
                       },
                       [](const auto&) {},
                   },
                   *event);
    }
}

void H3ServerSession::on_headers(uint64_t id, std::vector<Field> fields) {
    Request& r = requests_[id];
    r.fields = std::move(fields);
    const std::string* method = field(r.fields, ":method");
    const std::string* target = field(r.fields, ":path");
    r.method = method ? *method : "";
    auto path = target ? decode_request_path(*target) : std::nullopt;
    logf("stream %llu: %s %s", (unsigned long long)id, r.method.c_str(),
         target ? target->c_str() : "(no path)");
    if (!path || path->empty() || path->front() != '/')
        return respond(id, 400, "bad request: the path is not a valid absolute path\n",
                       "text/plain");
    r.path = std::move(*path);
    if (r.path == kEchoPath) {
        r.kind = Kind::kEcho;
        return;  // answered once the request body is in
    }
    if (r.method == "GET" || r.method == "HEAD") return serve_get(id, r);
    if (r.method == "POST" || r.method == "PUT") return start_upload(id, r);
    respond(id, 405, "method not allowed\n", "text/plain", {{"allow", kAllow}});
}

void H3ServerSession::serve_get(uint64_t id, Request& r) {
    RootedFile file = resolve_under_root(root_, r.path, true);
    if (file.error == kHqForbidden) return respond(id, 403, "forbidden\n", "text/plain");
    if (file.error) return respond(id, 404, "not found\n", "text/plain");
    if (file.directory) {
        std::string index = r.path;
        if (index.back() != '/') index += '/';
        RootedFile idx = resolve_under_root(root_, index + "index.html");
        if (idx.error) return respond(id, 200, listing(file.path, r.path), "text/html");
        file = idx;
    }
    r.fd = ::open(file.path.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (r.fd < 0 || fstat(r.fd, &st) != 0) return respond(id, 404, "not found\n", "text/plain");
    r.kind = Kind::kFile;
    r.size = static_cast<uint64_t>(st.st_size);
    const bool head = r.method == "HEAD";
    std::vector<Field> headers = {{":status", "200"},
                                  {"content-type", media_type_for(file.path)},
                                  {"content-length", std::to_string(r.size)},
                                  {"last-modified", http_date(st.st_mtime)},
                                  {"server", "quiver"}};
    if (auto st2 = session_.send_response(id, headers, head || r.size == 0); !st2) {
        logf("stream %llu: cannot respond: %s", (unsigned long long)id,
             st2.error().to_string().c_str());
        return forget(id, false);
    }
    logf("stream %llu: 200, %llu bytes", (unsigned long long)id, (unsigned long long)r.size);
    if (head || r.size == 0) return forget(id, false);
    r.sending = true;
    pump(id);
}

void H3ServerSession::start_upload(uint64_t id, Request& r) {
    r.kind = Kind::kUpload;
    if (upload_dir_.empty()) return;  // counted, then dropped
    // The same rules as for reading: no "..", and the parent directory, symlinks resolved,
    // must lie under the upload directory; the file itself is never a symlink (O_NOFOLLOW).
    const std::string& p = r.path;
    size_t start = 0;
    while (start <= p.size()) {
        size_t end = p.find('/', start);
        if (end == std::string::npos) end = p.size();
        if (p.compare(start, end - start, "..") == 0 && end - start == 2)
            return respond(id, 403, "forbidden\n", "text/plain");
        start = end + 1;
    }
    const size_t slash = p.rfind('/');
    const std::string base = p.substr(slash + 1);
    if (base.empty() || base == ".")
        return respond(id, 400, "bad request: no file name to upload to\n", "text/plain");
    const std::string parent = upload_dir_ + "/" + p.substr(0, slash);
    char real[PATH_MAX];
    if (!realpath(parent.c_str(), real)) return respond(id, 404, "not found\n", "text/plain");
    const std::string real_parent(real);
    if (real_parent != upload_dir_ &&
        real_parent.compare(0, upload_dir_.size() + 1, upload_dir_ + "/") != 0)
        return respond(id, 403, "forbidden\n", "text/plain");
    r.upload_path = real_parent + "/" + base;
    r.upload_fd =
        ::open(r.upload_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (r.upload_fd < 0) {
        r.upload_path.clear();
        return respond(id, 403, "forbidden: cannot write there\n", "text/plain");
    }
}

void H3ServerSession::on_body(uint64_t id) {
    auto it = requests_.find(id);
    for (;;) {
        bool fin = false;
        auto n = session_.read_body(id, buf_, &fin);
        if (!n.ok() || *n == 0) return;
        if (it == requests_.end()) continue;
        Request& r = it->second;
        r.received += *n;
        if (r.upload_fd >= 0 && ::write(r.upload_fd, buf_.data(), *n) != static_cast<ssize_t>(*n)) {
            logf("stream %llu: cannot write %s: %s", (unsigned long long)id, r.upload_path.c_str(),
                 std::strerror(errno));
            ::close(r.upload_fd);
            r.upload_fd = -1;
            ::unlink(r.upload_path.c_str());
            r.upload_path.clear();
            (void)session_.cancel(id, quic::h3::to_underlying(quic::h3::H3Error::kInternalError));
            requests_.erase(it);
            return;
        }
        if (fin) return;
    }
}

void H3ServerSession::on_complete(uint64_t id) {
    auto it = requests_.find(id);
    if (it == requests_.end()) return;
    Request& r = it->second;
    if (r.kind == Kind::kEcho) {
        std::string body;
        for (const Field& f : r.fields) body += f.name + ": " + f.value + "\n";
        body += "body: " + std::to_string(r.received) + " bytes\n";
        return respond(id, 200, std::move(body), "text/plain");
    }
    if (r.kind != Kind::kUpload) return;
    bool stored = false;
    if (r.upload_fd >= 0) {
        stored = ::close(r.upload_fd) == 0;
        r.upload_fd = -1;
        if (!stored) ::unlink(r.upload_path.c_str());
    }
    logf("stream %llu: %s %s: %llu bytes%s", (unsigned long long)id, r.method.c_str(),
         r.path.c_str(), (unsigned long long)r.received, stored ? " stored" : "");
    const std::string body = "received " + std::to_string(r.received) + " bytes\n";
    respond(id, stored ? 201 : 200, body, "text/plain");
}

void H3ServerSession::respond(uint64_t id, unsigned status, std::string body,
                              const char* content_type, std::vector<Field> extra) {
    Request& r = requests_[id];
    const bool head = r.method == "HEAD";
    std::vector<Field> headers = {{":status", std::to_string(status)},
                                  {"content-type", content_type},
                                  {"content-length", std::to_string(body.size())},
                                  {"server", "quiver"}};
    for (Field& f : extra) headers.push_back(std::move(f));
    if (status >= 300) logf("stream %llu: %u", (unsigned long long)id, status);
    if (auto st = session_.send_response(id, headers, head || body.empty()); !st)
        return forget(id, false);
    r.kind = Kind::kResponded;
    if (head || body.empty()) return forget(id, false);
    r.body = std::move(body);
    r.size = r.body.size();
    r.offset = 0;
    r.sending = true;
    pump(id);
}

void H3ServerSession::pump(uint64_t id) {
    auto it = requests_.find(id);
    if (it == requests_.end() || !it->second.sending) return;
    Request& r = it->second;
    while (r.offset < r.size) {
        const size_t want = static_cast<size_t>(std::min<uint64_t>(kChunk, r.size - r.offset));
        quic::ByteSpan chunk;
        if (r.fd >= 0) {
            const ssize_t got = ::pread(r.fd, buf_.data(), want, static_cast<off_t>(r.offset));
            if (got <= 0) {
                logf("stream %llu: file shrank or read failed", (unsigned long long)id);
                (void)session_.cancel(id,
                                      quic::h3::to_underlying(quic::h3::H3Error::kInternalError));
                return forget(id, false);
            }
            chunk = quic::ByteSpan(buf_.data(), static_cast<size_t>(got));
        } else {
            chunk =
                quic::ByteSpan(reinterpret_cast<const uint8_t*>(r.body.data()) + r.offset, want);
        }
        const bool last = r.offset + chunk.size() == r.size;
        auto sent = session_.send_body(id, chunk, last);
        if (!sent.ok()) return forget(id, false);  // reset, closed
        r.offset += *sent;
        if (*sent < chunk.size()) return;  // StreamWritable resumes
    }
    // Done: a request body still arriving is read and dropped (on_body).
    if (r.fd >= 0) ::close(r.fd);
    requests_.erase(it);
}

void H3ServerSession::forget(uint64_t id, bool aborted) {
    auto it = requests_.find(id);
    if (it == requests_.end()) return;
    Request& r = it->second;
    if (r.fd >= 0) ::close(r.fd);
    if (r.upload_fd >= 0) {
        ::close(r.upload_fd);
        if (aborted) ::unlink(r.upload_path.c_str());  // never leave half an upload
    }
    requests_.erase(it);
}

}  // namespace quiver
