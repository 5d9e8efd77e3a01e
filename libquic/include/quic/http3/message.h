// HTTP message rules of RFC 9114 §4.1.2, §4.2 and §4.3 that do not depend on the stream: which
// field sections are well-formed requests, responses and trailers. A section that breaks them
// is "malformed", a stream error of type H3_MESSAGE_ERROR (§4.1.2); the session applies them
// to every section it receives and to every section the application asks it to send.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "quic/http3/field.h"
#include "quic/result.h"

namespace quic::h3 {

// What a well-formed header section says that the session needs to follow the message.
struct MessageInfo {
    // Requests (§4.3.1).
    std::string method;
    // Responses (§4.3.2): the three-digit status.
    unsigned status = 0;
    // Content-Length (RFC 9110 §8.6), to check against the DATA frames (§4.1.2).
    std::optional<uint64_t> content_length;
};

// A request header section (§4.3.1): pseudo-header fields before the others, only :method,
// :scheme, :authority and :path (no extended CONNECT: :protocol is unknown here), none
// repeated; :method, :scheme and a non-empty :path present except for CONNECT, which has
// :authority and neither :scheme nor :path; :authority or Host for http(s) and equal when both
// appear; plus the field rules of check_fields. Errors are H3_MESSAGE_ERROR.
Result<MessageInfo> check_request(std::span<const Field> fields);
// A response header section (§4.3.2): exactly one :status of three digits, no other pseudo-
// header field, 101 excluded (§4.5: no Upgrade in HTTP/3), plus check_fields.
Result<MessageInfo> check_response(std::span<const Field> fields);
// A trailer section (§4.1): no pseudo-header field at all (§4.3), plus check_fields.
Status check_trailers(std::span<const Field> fields);

// The rules every section obeys (§4.2, §4.1.2): names non-empty, lowercase token characters
// (RFC 9110 §5.1); values without NUL, CR, LF or surrounding whitespace (RFC 9110 §5.5); no
// connection-specific field (§4.2: Connection, Keep-Alive, Proxy-Connection,
// Transfer-Encoding, Upgrade; TE only as "trailers"); pseudo-header fields only before the
// others. Content-Length, when present, is a decimal number (repeats must agree).
Result<MessageInfo> check_fields(std::span<const Field> fields);

// The section to send: pseudo-header fields first, :method :scheme :authority :path (or
// :status) in that order (§4.3: they MUST precede the other fields), then the others in the
// order given.
std::vector<Field> pseudo_headers_first(std::span<const Field> fields);

// The value of the first field with this (lowercase) name, or nullptr.
const std::string* find_field(std::span<const Field> fields, const char* name);

}  // namespace quic::h3
