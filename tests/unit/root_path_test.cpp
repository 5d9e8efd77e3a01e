// cli/root_path: what a request may open under the served directory. ServedRoot's fast way
// (openat2 beneath the directory) must answer every request as resolve_under_root's realpath
// way does: a table of requests against a real directory with symlinks of every kind, a FIFO
// and a directory.
#include <doctest/doctest.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "hq_interop.h"
#include "root_path.h"

using quiver::OpenedFile;
using quiver::RootedFile;
using quiver::ServedRoot;

namespace {

namespace fs = std::filesystem;

// dir/www holds the served files; dir/secret.txt lies outside it.
struct Tree {
    std::string dir, root;
    Tree() {
        char tmpl[] = "/tmp/quiver-root-XXXXXX";
        REQUIRE(::mkdtemp(tmpl));
        char real[PATH_MAX];
        REQUIRE(::realpath(tmpl, real));
        dir = real;
        root = dir + "/www";
        fs::create_directories(root + "/sub/deeper");
        fs::create_directories(root + "/indexed");
        write(root + "/hello.txt", "hello");
        write(root + "/sub/deeper/a.bin", std::string(3000, 'a'));
        write(root + "/indexed/index.html", "<p>index</p>");
        write(dir + "/secret.txt", "top secret");
        fs::create_symlink("sub/deeper/a.bin", root + "/relative-inside");
        fs::create_symlink(root + "/hello.txt", root + "/absolute-inside");
        fs::create_symlink("../secret.txt", root + "/relative-outside");
        fs::create_symlink(dir + "/secret.txt", root + "/absolute-outside");
        fs::create_symlink("nowhere", root + "/dangling");
        REQUIRE(::mkfifo((root + "/fifo").c_str(), 0600) == 0);
    }
    ~Tree() { fs::remove_all(dir); }
    static void write(const std::string& path, const std::string& content) {
        std::ofstream(path, std::ios::binary) << content;
    }
};

}  // namespace

TEST_CASE("root path: ServedRoot::open answers as resolve_under_root does") {
    Tree t;
    ServedRoot served(t.root);
    struct Case {
        const char* request;
        bool allow_directory;
        uint64_t error;  // 0: opened (or a directory)
        bool directory;  // the answer is a directory (for its listing)
        uint64_t size;   // of the opened file
    };
    const Case cases[] = {
        {"/hello.txt", false, 0, false, 5},
        {"//hello.txt", false, 0, false, 5},
        {"/sub/./deeper/a.bin", false, 0, false, 3000},
        {"/relative-inside", false, 0, false, 3000},
        {"/absolute-inside", false, 0, false, 5},  // openat2 refuses it; realpath allows it
        {"/relative-outside", false, quiver::kHqForbidden, false, 0},
        {"/absolute-outside", false, quiver::kHqForbidden, false, 0},
        {"/../secret.txt", false, quiver::kHqForbidden, false, 0},
        {"/sub/../hello.txt", false, quiver::kHqForbidden, false, 0},
        {"/missing", false, quiver::kHqNotFound, false, 0},
        {"/dangling", false, quiver::kHqNotFound, false, 0},
        {"/hello.txt/x", false, quiver::kHqNotFound, false, 0},
        {"/fifo", false, quiver::kHqNotFound, false,
         0},  // not a regular file; opening it must not wait
        {"/sub", false, quiver::kHqNotFound, false, 0},
        {"/sub", true, 0, true, 0},
        {"/", true, 0, true, 0},
        {"/", false, quiver::kHqNotFound, false, 0},
        {"/indexed/index.html", false, 0, false, 12},
    };
    for (const Case& c : cases) {
        CAPTURE(c.request);
        CAPTURE(c.allow_directory);
        OpenedFile f = served.open(c.request, c.allow_directory);
        CHECK(f.error == c.error);
        CHECK(f.directory == c.directory);
        if (c.error == 0 && !c.directory) {
            CHECK(f.fd >= 0);
            CHECK(f.size == c.size);
            struct stat st;
            REQUIRE(::fstat(f.fd, &st) == 0);
            CHECK(S_ISREG(st.st_mode));
            ::close(f.fd);
        } else {
            CHECK(f.fd < 0);
        }
        if (c.directory) CHECK(f.path.rfind(t.root, 0) == 0);
        // The realpath way agrees.
        const RootedFile r = quiver::resolve_under_root(t.root, c.request, c.allow_directory);
        CHECK(r.error == c.error);
        CHECK(r.directory == c.directory);
    }
    const std::string with_nul("/hello.txt\0.png", 15);
    CHECK(served.open(with_nul).error == quiver::kHqForbidden);
}

TEST_CASE("root path: a root that cannot be opened still answers, the realpath way") {
    Tree t;
    const std::string gone = t.dir + "/not-there";
    ServedRoot served(gone);  // no directory: every request takes resolve_under_root
    CHECK(served.open("/hello.txt").error == quiver::kHqNotFound);
    ServedRoot real(t.root);
    OpenedFile f = real.open("/hello.txt");
    REQUIRE(f.error == 0);
    ::close(f.fd);
}

TEST_CASE("root path: out of file descriptors is the server's state, not a missing file") {
    Tree t;
    ServedRoot served(t.root);
    // Lower this process's limit to its lowest free descriptor: the next open fails EMFILE.
    rlimit saved{};
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved) == 0);
    const int lowest_free = ::dup(0);
    REQUIRE(lowest_free >= 0);
    ::close(lowest_free);
    rlimit low = saved;
    low.rlim_cur = static_cast<rlim_t>(lowest_free);
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &low) == 0);
    const OpenedFile f = served.open("/hello.txt");
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &saved) == 0);
    CHECK(f.error == quiver::kHqUnavailable);
    CHECK(f.fd < 0);
    // With descriptors back, the same request opens.
    const OpenedFile again = served.open("/hello.txt");
    REQUIRE(again.error == 0);
    ::close(again.fd);
}
