// Where response bodies go, in order: each request's body to its file, or to stdout in request
// order (a body is held while an earlier one still writes to stdout), as curl does. Shared by
// every client protocol (cli/fetch.h).
#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace quiver {

class OrderedOutput {
  public:
    // One entry per request: a file name, or "" for stdout.
    explicit OrderedOutput(std::vector<std::string> targets);
    ~OrderedOutput();
    OrderedOutput(const OrderedOutput&) = delete;
    OrderedOutput& operator=(const OrderedOutput&) = delete;

    // Creates entry i's file (a request is about to be sent). Returns "" or why not.
    std::string open(size_t i);
    // Appends to entry i. Returns "" or why the write failed.
    std::string write(size_t i, const char* data, size_t n);
    // Entry i is over: closes its file and lets later stdout entries through. Returns "" or
    // why closing failed (a full disk shows here).
    std::string end(size_t i);
    const std::string& target(size_t i) const { return entries_[i].target; }

  private:
    struct Entry {
        std::string target;
        std::FILE* file = nullptr;
        std::string held;  // stdout bytes waiting for the entries before this one
        bool ended = false;
    };
    void flush_stdout();
    std::vector<Entry> entries_;
    size_t next_stdout_ = 0;  // the entry stdout is currently showing
};

}  // namespace quiver
