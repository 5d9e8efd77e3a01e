#include "quic/http3/message.h"

#include <algorithm>
#include <charconv>
#include <string_view>

#include "quic/http3/error.h"

namespace quic::h3 {
namespace {

Error malformed(std::string why) {
    return h3_error(H3Error::kMessageError, std::move(why));
}

bool is_pseudo(const Field& f) {
    return !f.name.empty() && f.name[0] == ':';
}

// RFC 9110 §5.6.2 tchar, lowercase only (RFC 9114 §4.2: uppercase names are malformed).
bool is_name_char(char c) {
    if (c >= 'a' && c <= 'z') return true;
    if (c >= '0' && c <= '9') return true;
    switch (c) {
        case '!':
        case '#':
        case '$':
        case '%':
        case '&':
        case '\'':
        case '*':
        case '+':
        case '-':
        case '.':
        case '^':
        case '_':
        case '`':
        case '|':
        case '~':
            return true;
        default:
            return false;
    }
}

Status check_name(const Field& f) {
    std::string_view name = f.name;
    if (is_pseudo(f)) name.remove_prefix(1);
    if (name.empty()) return malformed("empty field name");
    for (char c : name) {
        if (c >= 'A' && c <= 'Z') return malformed("uppercase field name " + f.name);
        if (!is_name_char(c)) return malformed("invalid character in field name");
    }
    return {};
}

// RFC 9110 §5.5: no NUL, CR or LF anywhere, no leading or trailing whitespace.
Status check_value(const Field& f) {
    const std::string& v = f.value;
    for (char c : v)
        if (c == '\0' || c == '\r' || c == '\n')
            return malformed("invalid character in the value of " + f.name);
    if (!v.empty() &&
        (v.front() == ' ' || v.front() == '\t' || v.back() == ' ' || v.back() == '\t'))
        return malformed("whitespace around the value of " + f.name);
    return {};
}

// §4.2: "An endpoint MUST NOT generate an HTTP/3 field section containing connection-specific
// fields"; TE is allowed with the single value "trailers".
bool is_connection_specific(const Field& f) {
    const std::string& n = f.name;
    if (n == "te") return f.value != "trailers";
    return n == "connection" || n == "keep-alive" || n == "proxy-connection" ||
           n == "transfer-encoding" || n == "upgrade";
}

std::optional<uint64_t> parse_decimal(std::string_view s) {
    if (s.empty() || s.size() > 19) return std::nullopt;
    uint64_t v = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
    return v;
}

// RFC 9110 §8.6: a list of identical values may be treated as one value.
Status parse_content_length(const std::string& value, std::optional<uint64_t>& out) {
    std::string_view rest = value;
    while (true) {
        const size_t comma = rest.find(',');
        std::string_view item = rest.substr(0, comma);
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t'))
            item.remove_prefix(1);
        while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
        auto v = parse_decimal(item);
        if (!v) return malformed("invalid content-length");
        if (out && *out != *v) return malformed("conflicting content-length values");
        out = v;
        if (comma == std::string_view::npos) return {};
        rest.remove_prefix(comma + 1);
    }
}

int pseudo_rank(const std::string& name) {
    static constexpr const char* kOrder[] = {":method", ":scheme", ":authority", ":path",
                                             ":status"};
    for (int i = 0; i < 5; ++i)
        if (name == kOrder[i]) return i;
    return 5;
}

}  // namespace

const std::string* find_field(std::span<const Field> fields, const char* name) {
    for (const Field& f : fields)
        if (f.name == name) return &f.value;
    return nullptr;
}

Result<MessageInfo> check_fields(std::span<const Field> fields) {
    MessageInfo info;
    bool regular_seen = false;
    for (const Field& f : fields) {
        QUIC_TRY(check_name(f));
        QUIC_TRY(check_value(f));
        if (is_pseudo(f)) {
            // §4.3: "All pseudo-header fields MUST appear in the header section before
            // regular header fields".
            if (regular_seen) return malformed("pseudo-header field after regular fields");
            continue;
        }
        regular_seen = true;
        if (is_connection_specific(f)) return malformed("connection-specific field " + f.name);
        if (f.name == "content-length")
            QUIC_TRY(parse_content_length(f.value, info.content_length));
    }
    return info;
}

Result<MessageInfo> check_request(std::span<const Field> fields) {
    auto checked = check_fields(fields);
    if (!checked) return checked;
    MessageInfo info = std::move(checked).value();
    const std::string *method = nullptr, *scheme = nullptr, *authority = nullptr, *path = nullptr;
    for (const Field& f : fields) {
        if (!is_pseudo(f)) break;
        const std::string** slot = nullptr;
        if (f.name == ":method") {
            slot = &method;
        } else if (f.name == ":scheme") {
            slot = &scheme;
        } else if (f.name == ":authority") {
            slot = &authority;
        } else if (f.name == ":path") {
            slot = &path;
        } else {
            // §4.3: "Endpoints MUST treat a request or response that contains undefined or
            // invalid pseudo-header fields as malformed" (:status is response-only).
            return malformed("unknown or misplaced pseudo-header field " + f.name);
        }
        if (*slot) return malformed("repeated pseudo-header field " + f.name);
        *slot = &f.value;
    }
    if (!method || method->empty()) return malformed("no :method");
    info.method = *method;
    if (*method == "CONNECT") {
        // §4.4: CONNECT carries :authority only.
        if (scheme || path) return malformed("CONNECT with :scheme or :path");
        if (!authority || authority->empty()) return malformed("CONNECT without :authority");
        return info;
    }
    // §4.3.1: "All HTTP/3 requests MUST include exactly one value for the :method, :scheme, and
    // :path pseudo-header fields, unless the request is a CONNECT request".
    if (!scheme || scheme->empty()) return malformed("no :scheme");
    if (!path) return malformed("no :path");
    const bool http = *scheme == "http" || *scheme == "https";
    if (http && path->empty()) return malformed("empty :path");
    const std::string* host = find_field(fields, "host");
    if (http) {
        if ((!authority || authority->empty()) && (!host || host->empty()))
            return malformed("no :authority or host");
        if (authority && host && *authority != *host)
            return malformed(":authority and host differ");
    }
    return info;
}

Result<MessageInfo> check_response(std::span<const Field> fields) {
    auto checked = check_fields(fields);
    if (!checked) return checked;
    MessageInfo info = std::move(checked).value();
    const std::string* status = nullptr;
    for (const Field& f : fields) {
        if (!is_pseudo(f)) break;
        if (f.name != ":status")
            return malformed("pseudo-header field " + f.name + " in a response");
        if (status) return malformed("repeated :status");
        status = &f.value;
    }
    // §4.3.2: ":status ... MUST be included in all responses".
    if (!status) return malformed("no :status");
    if (status->size() != 3 ||
        !std::all_of(status->begin(), status->end(), [](char c) { return c >= '0' && c <= '9'; }))
        return malformed("invalid :status");
    info.status = static_cast<unsigned>(std::stoul(*status));
    if (info.status < 100) return malformed("invalid :status");
    // §4.5: HTTP/3 has no Upgrade, so 101 (Switching Protocols) cannot occur.
    if (info.status == 101) return malformed("101 response");
    return info;
}

Status check_trailers(std::span<const Field> fields) {
    for (const Field& f : fields)
        if (is_pseudo(f)) return malformed("pseudo-header field in trailers");  // §4.3
    auto checked = check_fields(fields);
    if (!checked) return std::move(checked).error();
    return {};
}

std::vector<Field> pseudo_headers_first(std::span<const Field> fields) {
    std::vector<Field> out(fields.begin(), fields.end());
    std::stable_sort(out.begin(), out.end(), [](const Field& a, const Field& b) {
        const int ra = is_pseudo(a) ? pseudo_rank(a.name) : 6;
        const int rb = is_pseudo(b) ? pseudo_rank(b.name) : 6;
        return ra < rb;
    });
    return out;
}

}  // namespace quic::h3
