#include "h3_serve.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "body_source.h"
#include "file_source.h"
#include "hq_interop.h"
#include "mime_types.h"
#include "quic/http3/error.h"
#include "root_path.h"

namespace quiver {
namespace {

using quic::h3::Field;
using quic::h3::ServerStream;

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

// One request: what kind of answer it gets, its request body's fate, its response body.
struct Exchange {
    enum class Kind { kFile, kUpload, kEcho, kResponded } kind = Kind::kResponded;
    std::string method, path;  // path: percent-decoded, without the query
    BodySource body;
    bool head = false;
    int upload_fd = -1;
    std::string upload_path;
    uint64_t received = 0;
    ~Exchange() {
        if (upload_fd >= 0) ::close(upload_fd);
    }
};

class FileServer {
  public:
    FileServer(std::shared_ptr<const ServedRoot> root, std::string upload_dir, Log log)
        : root_(std::move(root)), upload_dir_(std::move(upload_dir)), log_(std::move(log)) {}

    void handle(const std::shared_ptr<ServerStream>& s);

  private:
    void serve_get(ServerStream& s, Exchange& x);
    void start_upload(ServerStream& s, Exchange& x);
    void on_body(ServerStream& s, Exchange& x);
    void on_request_end(ServerStream& s, Exchange& x);
    void respond(ServerStream& s, Exchange& x, unsigned status, std::string body,
                 const char* content_type, std::vector<Field> extra = {});
    void send(ServerStream& s, Exchange& x);
    void abandon_upload(Exchange& x);

    std::shared_ptr<const ServedRoot> root_;
    std::string upload_dir_;
    Log log_;
    std::vector<uint8_t> buf_ = std::vector<uint8_t>(64 * 1024);
};

void FileServer::handle(const std::shared_ptr<ServerStream>& s) {
    auto x = std::make_shared<Exchange>();
    x->method = s->method();
    x->head = x->method == "HEAD";
    s->on_body([this, x](ServerStream& st) { on_body(st, *x); });
    s->on_writable([this, x](ServerStream& st) { send(st, *x); });
    s->on_aborted([this, x](ServerStream& st, const quic::Error& e) {
        log_("stream %llu: aborted (%s)", (unsigned long long)st.id(), e.to_string().c_str());
        abandon_upload(*x);
    });
    const std::string& target = s->path();
    auto path = target.empty() ? std::nullopt : decode_request_path(target);
    log_("stream %llu: %s %s", (unsigned long long)s->id(), x->method.c_str(),
         target.empty() ? "(no path)" : target.c_str());
    if (!path || path->empty() || path->front() != '/')
        return respond(*s, *x, 400, "bad request: the path is not a valid absolute path\n",
                       "text/plain");
    x->path = std::move(*path);
    if (x->path == kEchoPath) {
        x->kind = Exchange::Kind::kEcho;
        return;  // answered once the request body is in
    }
    if (x->method == "GET" || x->method == "HEAD") return serve_get(*s, *x);
    if (x->method == "POST" || x->method == "PUT") return start_upload(*s, *x);
    respond(*s, *x, 405, "method not allowed\n", "text/plain", {{"allow", kAllow}});
}

void FileServer::serve_get(ServerStream& s, Exchange& x) {
    OpenedFile file = root_->open(x.path, true);
    if (file.error == kHqForbidden) return respond(s, x, 403, "forbidden\n", "text/plain");
    if (file.error == kHqUnavailable)
        return respond(s, x, 503, "server out of file descriptors\n", "text/plain");
    if (file.error) return respond(s, x, 404, "not found\n", "text/plain");
    std::string name = x.path;  // its extension gives the media type
    if (file.directory) {
        std::string index = x.path;
        if (index.back() != '/') index += '/';
        index += "index.html";
        OpenedFile idx = root_->open(index);
        if (idx.error) return respond(s, x, 200, listing(file.path, x.path), "text/html");
        file = std::move(idx);
        name = std::move(index);
    }
    x.kind = Exchange::Kind::kFile;
    if (file.size <= kReadWholeFileMax) {
        auto whole = read_whole_file(file.fd, file.size);
        if (!whole) return respond(s, x, 500, "the file could not be read\n", "text/plain");
        x.body = BodySource::bytes(std::move(*whole));
    } else {
        x.body = BodySource::file(file_source(file.fd, file.size, file.ctime_ns), file.size);
    }
    const bool empty = x.head || x.body.size() == 0;
    std::vector<Field> fields = {{"content-type", media_type_for(name)},
                                 {"content-length", std::to_string(x.body.size())},
                                 {"last-modified", http_date(static_cast<time_t>(file.mtime))},
                                 {"server", "quiver"}};
    if (auto sent = s.respond(200, fields, empty); !sent) {
        log_("stream %llu: cannot respond: %s", (unsigned long long)s.id(),
             sent.error().to_string().c_str());
        return;
    }
    log_("stream %llu: 200, %llu bytes", (unsigned long long)s.id(),
         (unsigned long long)x.body.size());
    if (empty) {
        x.body = BodySource();
        return;
    }
    send(s, x);
}

void FileServer::start_upload(ServerStream& s, Exchange& x) {
    x.kind = Exchange::Kind::kUpload;
    if (upload_dir_.empty()) return;  // counted, then dropped
    // The same rules as for reading: no "..", and the parent directory, symlinks resolved,
    // must lie under the upload directory; the file itself is never a symlink (O_NOFOLLOW).
    const std::string& p = x.path;
    size_t start = 0;
    while (start <= p.size()) {
        size_t end = p.find('/', start);
        if (end == std::string::npos) end = p.size();
        if (p.compare(start, end - start, "..") == 0 && end - start == 2)
            return respond(s, x, 403, "forbidden\n", "text/plain");
        start = end + 1;
    }
    const size_t slash = p.rfind('/');
    const std::string base = p.substr(slash + 1);
    if (base.empty() || base == ".")
        return respond(s, x, 400, "bad request: no file name to upload to\n", "text/plain");
    const std::string parent = upload_dir_ + "/" + p.substr(0, slash);
    char real[PATH_MAX];
    if (!realpath(parent.c_str(), real)) return respond(s, x, 404, "not found\n", "text/plain");
    const std::string real_parent(real);
    if (real_parent != upload_dir_ &&
        real_parent.compare(0, upload_dir_.size() + 1, upload_dir_ + "/") != 0)
        return respond(s, x, 403, "forbidden\n", "text/plain");
    x.upload_path = real_parent + "/" + base;
    x.upload_fd =
        ::open(x.upload_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (x.upload_fd < 0) {
        x.upload_path.clear();
        return respond(s, x, 403, "forbidden: cannot write there\n", "text/plain");
    }
}

void FileServer::on_body(ServerStream& s, Exchange& x) {
    for (;;) {
        bool fin = false;
        auto n = s.read_body(buf_, &fin);
        if (!n.ok()) return;
        x.received += *n;
        if (x.upload_fd >= 0 && ::write(x.upload_fd, buf_.data(), *n) != static_cast<ssize_t>(*n)) {
            log_("stream %llu: cannot write %s: %s", (unsigned long long)s.id(),
                 x.upload_path.c_str(), std::strerror(errno));
            abandon_upload(x);
            return s.reject(quic::h3::to_underlying(quic::h3::H3Error::kInternalError));
        }
        if (fin) return on_request_end(s, x);
        if (*n == 0) return;
    }
}

void FileServer::on_request_end(ServerStream& s, Exchange& x) {
    if (x.kind == Exchange::Kind::kEcho) {
        std::string body;
        for (const Field& f : s.fields()) body += f.name + ": " + f.value + "\n";
        body += "body: " + std::to_string(x.received) + " bytes\n";
        return respond(s, x, 200, std::move(body), "text/plain");
    }
    if (x.kind != Exchange::Kind::kUpload) return;
    bool stored = false;
    if (x.upload_fd >= 0) {
        stored = ::close(x.upload_fd) == 0;
        x.upload_fd = -1;
        if (!stored) ::unlink(x.upload_path.c_str());
    }
    log_("stream %llu: %s %s: %llu bytes%s", (unsigned long long)s.id(), x.method.c_str(),
         x.path.c_str(), (unsigned long long)x.received, stored ? " stored" : "");
    respond(s, x, stored ? 201 : 200, "received " + std::to_string(x.received) + " bytes\n",
            "text/plain");
}

void FileServer::respond(ServerStream& s, Exchange& x, unsigned status, std::string body,
                         const char* content_type, std::vector<Field> extra) {
    std::vector<Field> fields = {{"content-type", content_type},
                                 {"content-length", std::to_string(body.size())},
                                 {"server", "quiver"}};
    for (Field& f : extra) fields.push_back(std::move(f));
    if (status >= 300) log_("stream %llu: %u", (unsigned long long)s.id(), status);
    x.kind = Exchange::Kind::kResponded;
    const bool empty = x.head || body.empty();
    if (!s.respond(status, fields, empty) || empty) return;
    x.body = BodySource::bytes(std::move(body));
    send(s, x);
}

void FileServer::send(ServerStream& s, Exchange& x) {
    if (x.body.size() == 0 || x.body.done()) return;
    if (x.body.source()) {
        // A file whose source fails later is reset by the connection (file_source.h).
        auto taken = s.write_body_source(x.body.size(), x.body.source());
        if (taken.ok() && *taken) x.body.source_taken();
        return;
    }
    (void)x.body.pump([&](quic::ByteSpan d, bool fin) { return s.write_body(d, fin); });
}

// Never leave half an upload.
void FileServer::abandon_upload(Exchange& x) {
    if (x.upload_fd < 0) return;
    ::close(x.upload_fd);
    x.upload_fd = -1;
    ::unlink(x.upload_path.c_str());
}

}  // namespace

quic::h3::Server::Handler file_handler(std::shared_ptr<const ServedRoot> root,
                                       std::string upload_dir, Log log) {
    auto server =
        std::make_shared<FileServer>(std::move(root), std::move(upload_dir), std::move(log));
    return [server](std::shared_ptr<ServerStream> s) { server->handle(s); };
}

}  // namespace quiver
