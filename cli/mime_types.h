// Media types by file extension for the HTTP/3 server's content-type: Debian's
// /etc/mime.types (package media-types) when present, else a small built-in table.
#pragma once

#include <string>
#include <string_view>

namespace quiver {

// "text/html" for "index.html"; "application/octet-stream" when the extension is unknown.
std::string media_type_for(std::string_view file_name);

}  // namespace quiver
