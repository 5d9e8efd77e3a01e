#include "mime_types.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <unordered_map>

namespace quiver {
namespace {

constexpr const char* kMimeTypesFile = "/etc/mime.types";

using Table = std::unordered_map<std::string, std::string>;

// Used when /etc/mime.types is missing (Debian: apt-get install media-types).
Table builtin_table() {
    return {
        {"html", "text/html"},
        {"htm", "text/html"},
        {"txt", "text/plain"},
        {"css", "text/css"},
        {"csv", "text/csv"},
        {"js", "text/javascript"},
        {"mjs", "text/javascript"},
        {"json", "application/json"},
        {"xml", "application/xml"},
        {"pdf", "application/pdf"},
        {"wasm", "application/wasm"},
        {"zip", "application/zip"},
        {"gz", "application/gzip"},
        {"tar", "application/x-tar"},
        {"png", "image/png"},
        {"jpg", "image/jpeg"},
        {"jpeg", "image/jpeg"},
        {"gif", "image/gif"},
        {"svg", "image/svg+xml"},
        {"webp", "image/webp"},
        {"ico", "image/vnd.microsoft.icon"},
        {"mp4", "video/mp4"},
        {"webm", "video/webm"},
        {"mp3", "audio/mpeg"},
    };
}

// mime.types(5): "type ext ext ...", '#' comments.
Table load_table() {
    std::ifstream in(kMimeTypesFile);
    if (!in) return builtin_table();
    Table t;
    std::string line;
    while (std::getline(in, line)) {
        if (const size_t hash = line.find('#'); hash != std::string::npos) line.resize(hash);
        std::istringstream words(line);
        std::string type, ext;
        if (!(words >> type)) continue;
        while (words >> ext) t.emplace(ext, type);
    }
    return t.empty() ? builtin_table() : t;
}

}  // namespace

std::string media_type_for(std::string_view file_name) {
    static const Table table = load_table();
    const size_t slash = file_name.rfind('/');
    if (slash != std::string_view::npos) file_name.remove_prefix(slash + 1);
    const size_t dot = file_name.rfind('.');
    if (dot == std::string_view::npos || dot == 0) return "application/octet-stream";
    std::string ext(file_name.substr(dot + 1));
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    auto it = table.find(ext);
    return it == table.end() ? "application/octet-stream" : it->second;
}

}  // namespace quiver
