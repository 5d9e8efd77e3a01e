// The HTTP/3 file server (RFC 9114) as a handler for quic::h3::Server: GET and HEAD serve files
// from the root (content-type from the media types, content-length, last-modified), a
// directory its index.html or an HTML listing; POST and PUT take a body (written under the
// upload directory when there is one) and answer with its size; /.well-known/quiver/echo
// answers with the request's header section. Bodies stream both ways under flow control.
#pragma once

#include <memory>
#include <string>

#include "log.h"
#include "quic/http3/server.h"
#include "root_path.h"

namespace quiver {

// The debug endpoint: any method; the response body lists the request's fields, one
// "name: value" line each, then "body: N bytes".
inline constexpr const char* kEchoPath = "/.well-known/quiver/echo";

// `root`: the served directory; `upload_dir`: the realpath of the directory POST and PUT
// bodies go to, or "" (bodies are counted and dropped).
quic::h3::Server::Handler file_handler(std::shared_ptr<const ServedRoot> root,
                                       std::string upload_dir, Log log);

}  // namespace quiver
