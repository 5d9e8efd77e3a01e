// cli/body_source and cli/file_source: a bytes body offered to a stream that takes little at a
// time; a file read at the offsets a sender asks for, which refuses to read bytes again once the
// file changed (RFC 9000 §2.2) and fails on a file shorter than announced.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "body_source.h"
#include "file_source.h"

namespace {

// A temporary file holding `content`; `path` names it (the caller removes it).
int temp_file(const std::string& content, std::string* path = nullptr) {
    char name[] = "/tmp/quiver-body-XXXXXX";
    const int fd = ::mkstemp(name);
    REQUIRE(fd >= 0);
    if (path)
        *path = name;
    else
        ::unlink(name);
    REQUIRE(::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()));
    return fd;
}

int64_t ctime_of(int fd) {
    struct stat st;
    REQUIRE(::fstat(fd, &st) == 0);
    return quiver::change_time_ns(st);
}

std::string pattern(size_t n) {
    std::string s(n, '\0');
    for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
    return s;
}

std::string read_at(const quic::StreamSource& source, uint64_t offset, size_t n, bool* ok) {
    std::string out(n, '\0');
    *ok = source(offset, quic::MutableByteSpan(reinterpret_cast<uint8_t*>(out.data()), n));
    return out;
}

}  // namespace

TEST_CASE("BodySource: a stream taking a few bytes at a time gets the whole body and the FIN") {
    for (const size_t size : {size_t{0}, size_t{1}, size_t{1000}, size_t{200'000}}) {
        INFO("body of " << size << " bytes");
        const std::string content = pattern(size);
        auto body = quiver::BodySource::bytes(content);
        std::string got;
        bool fin = false;
        // Takes at most 1337 bytes per pump: each pump ends with the stream full.
        for (int pumps = 0; pumps < 100'000 && !body.done(); ++pumps) {
            size_t room = 1337;
            auto r = body.pump([&](quic::ByteSpan data, bool last) -> quic::Result<size_t> {
                const size_t n = std::min(room, data.size());
                got.append(reinterpret_cast<const char*>(data.data()), n);
                room -= n;
                if (last && n == data.size()) fin = true;
                return n;
            });
            REQUIRE(r.ok());
        }
        CHECK(body.done());
        CHECK(fin);
        CHECK(got == content);
    }
}

TEST_CASE("file source: any offset, in any order, and again while the file is unchanged") {
    const std::string content = pattern(200'000);
    const int fd = temp_file(content);
    auto source = quiver::file_source(fd, content.size(), ctime_of(fd));
    bool ok = false;
    CHECK(read_at(source, 65'536, 1000, &ok) == content.substr(65'536, 1000));
    CHECK(ok);
    CHECK(read_at(source, 0, 65'536, &ok) == content.substr(0, 65'536));  // a resend
    CHECK(ok);
    CHECK(read_at(source, 199'999, 1, &ok) == content.substr(199'999));
    CHECK(ok);
    read_at(source, 199'999, 2, &ok);  // past the announced size
    CHECK_FALSE(ok);
}

TEST_CASE("file source: a file shorter than its announced size fails, not hangs") {
    const int fd = temp_file("short");
    auto source = quiver::file_source(fd, 100, ctime_of(fd));
    bool ok = true;
    read_at(source, 0, 100, &ok);
    CHECK_FALSE(ok);
}

// Rewrites 4 bytes at `offset` in place, the size unchanged: the change time moves.
static void overwrite(const std::string& path, off_t offset) {
    ::usleep(30'000);  // timestamps move in clock ticks (1-10 ms)
    const int w = ::open(path.c_str(), O_WRONLY);
    REQUIRE(w >= 0);
    REQUIRE(::pwrite(w, "XXXX", 4, offset) == 4);
    ::close(w);
}

TEST_CASE("file source: bytes are not read again once the file changed (RFC 9000 §2.2)") {
    std::string path;
    const std::string content = pattern(200'000);
    const int fd = temp_file(content, &path);
    auto source = quiver::file_source(fd, content.size(), ctime_of(fd));
    bool ok = false;
    // 20 kB reads: what a 64 KiB datagram asks for, read straight from the file.
    CHECK(read_at(source, 0, 20'000, &ok) == content.substr(0, 20'000));
    REQUIRE(ok);
    overwrite(path, 0);
    ::unlink(path.c_str());
    read_at(source, 0, 20'000, &ok);  // a resend would carry other bytes: refused
    CHECK_FALSE(ok);
    // Bytes never sent may still be read: they differ from nothing the peer has.
    CHECK(read_at(source, 100'000, 20'000, &ok) == content.substr(100'000, 20'000));
    CHECK(ok);
}

TEST_CASE("file source: packet-sized reads come from a window read ahead, resent as read") {
    std::string path;
    const std::string content = pattern(200'000);
    const int fd = temp_file(content, &path);
    auto source = quiver::file_source(fd, content.size(), ctime_of(fd));
    bool ok = false;
    for (size_t i = 0; i < 100; ++i) {  // 1200-byte packets, in order
        REQUIRE(read_at(source, i * 1200, 1200, &ok) == content.substr(i * 1200, 1200));
        REQUIRE(ok);
    }
    // A resend outside the window, the file unchanged: read again.
    CHECK(read_at(source, 0, 1200, &ok) == content.substr(0, 1200));
    CHECK(ok);
    CHECK(read_at(source, 118'800, 1200, &ok) == content.substr(118'800, 1200));
    CHECK(ok);
    overwrite(path, 118'800);
    ::unlink(path.c_str());
    // Within the window the bytes are the ones read before the change: the same as sent.
    CHECK(read_at(source, 118'800, 1200, &ok) == content.substr(118'800, 1200));
    CHECK(ok);
    // Outside it they would come from the changed file: refused.
    read_at(source, 0, 1200, &ok);
    CHECK_FALSE(ok);
}

TEST_CASE("read_whole_file: a small file whole, and a file shorter than announced fails") {
    const std::string content = pattern(quiver::kReadWholeFileMax);
    auto whole = quiver::read_whole_file(temp_file(content), content.size());
    REQUIRE(whole);
    CHECK(*whole == content);
    CHECK_FALSE(quiver::read_whole_file(temp_file("short"), 100));
}
