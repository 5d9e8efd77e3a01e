// libFuzzer target: the qlog reader (qlog::parse_text), which `quiver replay` and the summary
// tools run on files from anywhere: qlog is attack surface (docs/architecture.md, "qlog").
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "qlog/reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    // A heap copy of exactly the input, so ASan sees any read past its end.
    const std::string text(reinterpret_cast<const char*>(data), size);
    (void)qlog::parse_text(text, "fuzz");
    return 0;
}
