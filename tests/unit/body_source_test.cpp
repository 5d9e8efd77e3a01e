// cli/body_source: a response body read from a file as the stream takes it. A stream that takes
// less than it is offered gets the rest again from the buffer: the file is read once.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "body_source.h"

namespace {

// A temporary file holding `content`, opened for reading; removed at once (the fd keeps it).
int temp_file(const std::string& content) {
    char path[] = "/tmp/quiver-body-XXXXXX";
    const int fd = ::mkstemp(path);
    REQUIRE(fd >= 0);
    ::unlink(path);
    REQUIRE(::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()));
    return fd;
}

std::string pattern(size_t n) {
    std::string s(n, '\0');
    for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
    return s;
}

}  // namespace

TEST_CASE("BodySource: a stream taking a few bytes at a time gets the whole file, read once") {
    for (const size_t size : {size_t{0}, size_t{1}, size_t{1000}, size_t{65536}, size_t{200'000}}) {
        INFO("file of " << size << " bytes");
        const std::string content = pattern(size);
        auto source = quiver::BodySource::file(temp_file(content), size);
        std::string got;
        bool fin = false;
        size_t calls = 0;
        // Takes at most 1337 bytes per pump: each pump ends with the stream full.
        for (int pumps = 0; pumps < 100'000 && !source.done(); ++pumps) {
            size_t room = 1337;
            auto r = source.pump([&](quic::ByteSpan data, bool last) -> quic::Result<size_t> {
                ++calls;
                const size_t n = std::min(room, data.size());
                got.append(reinterpret_cast<const char*>(data.data()), n);
                room -= n;
                if (last && n == data.size()) fin = true;
                return n;
            });
            REQUIRE(r.ok());
        }
        CHECK(source.done());
        CHECK(fin);
        CHECK(got == content);
        CHECK(source.bytes_read() == size);
        CHECK(calls >= size / 1337);
    }
}

TEST_CASE("BodySource: a file shorter than its announced size is an error, not a hang") {
    auto source = quiver::BodySource::file(temp_file("short"), 100);
    auto r =
        source.pump([](quic::ByteSpan data, bool) -> quic::Result<size_t> { return data.size(); });
    CHECK_FALSE(r.ok());
}
