#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "util/lazy_deque.h"

using namespace quic;

TEST_CASE("lazy deque: no deque while empty, first in first out, freed when the last leaves") {
    LazyDeque<std::string> q;
    CHECK(q.empty());
    CHECK(q.size() == 0);
    CHECK_FALSE(q.allocated());
    q.push_back("a");
    q.emplace_back(2, 'b');
    q.push_back("c");
    CHECK(q.allocated());
    CHECK(q.size() == 3);
    CHECK(q.front() == "a");
    q.pop_front();
    CHECK(q.front() == "bb");
    q.pop_front();
    CHECK(q.allocated());
    q.pop_front();
    CHECK(q.empty());
    CHECK_FALSE(q.allocated());
    // Usable again after being freed.
    q.push_back("d");
    CHECK(q.front() == "d");
    q.clear();
    CHECK(q.empty());
    CHECK_FALSE(q.allocated());
}

TEST_CASE("lazy deque: erase_if keeps the order of the rest and frees an emptied queue") {
    LazyDeque<int> q;
    CHECK(q.erase_if([](int) { return true; }) == 0);
    for (int i = 0; i < 10; ++i) q.push_back(i);
    CHECK(q.erase_if([](int v) { return v % 3 == 0; }) == 4);
    std::vector<int> rest;
    while (!q.empty()) {
        rest.push_back(q.front());
        q.pop_front();
    }
    CHECK(rest == std::vector<int>{1, 2, 4, 5, 7, 8});
    q.push_back(1);
    q.push_back(2);
    CHECK(q.erase_if([](int) { return true; }) == 2);
    CHECK_FALSE(q.allocated());
}

TEST_CASE("lazy deque: copies are deep, moves leave the source empty") {
    LazyDeque<int> a;
    a.push_back(1);
    a.push_back(2);
    LazyDeque<int> b = a;
    b.pop_front();
    CHECK(a.size() == 2);
    CHECK(a.front() == 1);
    CHECK(b.front() == 2);
    LazyDeque<int> empty;
    b = empty;
    CHECK_FALSE(b.allocated());
    LazyDeque<int> c = std::move(a);
    CHECK(c.size() == 2);
    CHECK(a.empty());  // NOLINT(bugprone-use-after-move): a moved-from queue is empty
    CHECK_FALSE(a.allocated());
}
