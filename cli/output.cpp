#include "output.h"

#include <cerrno>
#include <cstring>

namespace quiver {

OrderedOutput::OrderedOutput(std::vector<std::string> targets) {
    for (auto& t : targets) entries_.push_back(Entry{std::move(t)});
    flush_stdout();  // skips leading entries that go to files
}

OrderedOutput::~OrderedOutput() {
    for (Entry& e : entries_)
        if (e.file) std::fclose(e.file);
    std::fflush(stdout);
}

std::string OrderedOutput::open(size_t i) {
    Entry& e = entries_[i];
    if (e.target.empty() || e.file) return "";
    e.file = std::fopen(e.target.c_str(), "wb");
    if (!e.file) return "cannot write " + e.target + ": " + std::strerror(errno);
    return "";
}

std::string OrderedOutput::write(size_t i, const char* data, size_t n) {
    Entry& e = entries_[i];
    std::FILE* out = e.file;
    if (e.target.empty()) {
        if (i != next_stdout_) {
            e.held.append(data, n);
            return "";
        }
        out = stdout;
    }
    if (!out) return "cannot write " + e.target + ": not open";
    if (std::fwrite(data, 1, n, out) != n)
        return "cannot write " + (e.file ? e.target : std::string("stdout")) + ": " +
               std::strerror(errno);
    return "";
}

std::string OrderedOutput::end(size_t i) {
    Entry& e = entries_[i];
    if (e.ended) return "";
    e.ended = true;
    std::string error;
    if (e.file) {
        if (std::fclose(e.file) != 0)
            error = "cannot write " + e.target + ": " + std::strerror(errno);
        e.file = nullptr;
    }
    flush_stdout();
    return error;
}

// Shows held stdout output in request order: each body once all before it ended.
void OrderedOutput::flush_stdout() {
    while (next_stdout_ < entries_.size()) {
        Entry& e = entries_[next_stdout_];
        if (!e.target.empty()) {
            ++next_stdout_;
            continue;
        }
        if (!e.held.empty()) {
            std::fwrite(e.held.data(), 1, e.held.size(), stdout);
            e.held.clear();
            e.held.shrink_to_fit();
        }
        if (!e.ended) return;
        ++next_stdout_;
    }
    std::fflush(stdout);
}

}  // namespace quiver
