#include "http3/huffman.h"

#include <array>
#include <cstdint>

namespace quic::h3 {
namespace {

struct Code {
    uint32_t bits;  // aligned to the least significant bit, as RFC 7541 Appendix B gives "hex"
    uint8_t length;
};

// RFC 7541 Appendix B, symbols 0..255 and EOS (256), in order.
constexpr Code kCodes[257] = {
    {0x1ff8, 13},     {0x7fffd8, 23},   {0xfffffe2, 28},  {0xfffffe3, 28},  {0xfffffe4, 28},
    {0xfffffe5, 28},  {0xfffffe6, 28},  {0xfffffe7, 28},  {0xfffffe8, 28},  {0xffffea, 24},
    {0x3ffffffc, 30}, {0xfffffe9, 28},  {0xfffffea, 28},  {0x3ffffffd, 30}, {0xfffffeb, 28},
    {0xfffffec, 28},  {0xfffffed, 28},  {0xfffffee, 28},  {0xfffffef, 28},  {0xffffff0, 28},
    {0xffffff1, 28},  {0xffffff2, 28},  {0x3ffffffe, 30}, {0xffffff3, 28},  {0xffffff4, 28},
    {0xffffff5, 28},  {0xffffff6, 28},  {0xffffff7, 28},  {0xffffff8, 28},  {0xffffff9, 28},
    {0xffffffa, 28},  {0xffffffb, 28},  {0x14, 6},        {0x3f8, 10},      {0x3f9, 10},
    {0xffa, 12},      {0x1ff9, 13},     {0x15, 6},        {0xf8, 8},        {0x7fa, 11},
    {0x3fa, 10},      {0x3fb, 10},      {0xf9, 8},        {0x7fb, 11},      {0xfa, 8},
    {0x16, 6},        {0x17, 6},        {0x18, 6},        {0x0, 5},         {0x1, 5},
    {0x2, 5},         {0x19, 6},        {0x1a, 6},        {0x1b, 6},        {0x1c, 6},
    {0x1d, 6},        {0x1e, 6},        {0x1f, 6},        {0x5c, 7},        {0xfb, 8},
    {0x7ffc, 15},     {0x20, 6},        {0xffb, 12},      {0x3fc, 10},      {0x1ffa, 13},
    {0x21, 6},        {0x5d, 7},        {0x5e, 7},        {0x5f, 7},        {0x60, 7},
    {0x61, 7},        {0x62, 7},        {0x63, 7},        {0x64, 7},        {0x65, 7},
    {0x66, 7},        {0x67, 7},        {0x68, 7},        {0x69, 7},        {0x6a, 7},
    {0x6b, 7},        {0x6c, 7},        {0x6d, 7},        {0x6e, 7},        {0x6f, 7},
    {0x70, 7},        {0x71, 7},        {0x72, 7},        {0xfc, 8},        {0x73, 7},
    {0xfd, 8},        {0x1ffb, 13},     {0x7fff0, 19},    {0x1ffc, 13},     {0x3ffc, 14},
    {0x22, 6},        {0x7ffd, 15},     {0x3, 5},         {0x23, 6},        {0x4, 5},
    {0x24, 6},        {0x5, 5},         {0x25, 6},        {0x26, 6},        {0x27, 6},
    {0x6, 5},         {0x74, 7},        {0x75, 7},        {0x28, 6},        {0x29, 6},
    {0x2a, 6},        {0x7, 5},         {0x2b, 6},        {0x76, 7},        {0x2c, 6},
    {0x8, 5},         {0x9, 5},         {0x2d, 6},        {0x77, 7},        {0x78, 7},
    {0x79, 7},        {0x7a, 7},        {0x7b, 7},        {0x7ffe, 15},     {0x7fc, 11},
    {0x3ffd, 14},     {0x1ffd, 13},     {0xffffffc, 28},  {0xfffe6, 20},    {0x3fffd2, 22},
    {0xfffe7, 20},    {0xfffe8, 20},    {0x3fffd3, 22},   {0x3fffd4, 22},   {0x3fffd5, 22},
    {0x7fffd9, 23},   {0x3fffd6, 22},   {0x7fffda, 23},   {0x7fffdb, 23},   {0x7fffdc, 23},
    {0x7fffdd, 23},   {0x7fffde, 23},   {0xffffeb, 24},   {0x7fffdf, 23},   {0xffffec, 24},
    {0xffffed, 24},   {0x3fffd7, 22},   {0x7fffe0, 23},   {0xffffee, 24},   {0x7fffe1, 23},
    {0x7fffe2, 23},   {0x7fffe3, 23},   {0x7fffe4, 23},   {0x1fffdc, 21},   {0x3fffd8, 22},
    {0x7fffe5, 23},   {0x3fffd9, 22},   {0x7fffe6, 23},   {0x7fffe7, 23},   {0xffffef, 24},
    {0x3fffda, 22},   {0x1fffdd, 21},   {0xfffe9, 20},    {0x3fffdb, 22},   {0x3fffdc, 22},
    {0x7fffe8, 23},   {0x7fffe9, 23},   {0x1fffde, 21},   {0x7fffea, 23},   {0x3fffdd, 22},
    {0x3fffde, 22},   {0xfffff0, 24},   {0x1fffdf, 21},   {0x3fffdf, 22},   {0x7fffeb, 23},
    {0x7fffec, 23},   {0x1fffe0, 21},   {0x1fffe1, 21},   {0x3fffe0, 22},   {0x1fffe2, 21},
    {0x7fffed, 23},   {0x3fffe1, 22},   {0x7fffee, 23},   {0x7fffef, 23},   {0xfffea, 20},
    {0x3fffe2, 22},   {0x3fffe3, 22},   {0x3fffe4, 22},   {0x7ffff0, 23},   {0x3fffe5, 22},
    {0x3fffe6, 22},   {0x7ffff1, 23},   {0x3ffffe0, 26},  {0x3ffffe1, 26},  {0xfffeb, 20},
    {0x7fff1, 19},    {0x3fffe7, 22},   {0x7ffff2, 23},   {0x3fffe8, 22},   {0x1ffffec, 25},
    {0x3ffffe2, 26},  {0x3ffffe3, 26},  {0x3ffffe4, 26},  {0x7ffffde, 27},  {0x7ffffdf, 27},
    {0x3ffffe5, 26},  {0xfffff1, 24},   {0x1ffffed, 25},  {0x7fff2, 19},    {0x1fffe3, 21},
    {0x3ffffe6, 26},  {0x7ffffe0, 27},  {0x7ffffe1, 27},  {0x3ffffe7, 26},  {0x7ffffe2, 27},
    {0xfffff2, 24},   {0x1fffe4, 21},   {0x1fffe5, 21},   {0x3ffffe8, 26},  {0x3ffffe9, 26},
    {0xffffffd, 28},  {0x7ffffe3, 27},  {0x7ffffe4, 27},  {0x7ffffe5, 27},  {0xfffec, 20},
    {0xfffff3, 24},   {0xfffed, 20},    {0x1fffe6, 21},   {0x3fffe9, 22},   {0x1fffe7, 21},
    {0x1fffe8, 21},   {0x7ffff3, 23},   {0x3fffea, 22},   {0x3fffeb, 22},   {0x1ffffee, 25},
    {0x1ffffef, 25},  {0xfffff4, 24},   {0xfffff5, 24},   {0x3ffffea, 26},  {0x7ffff4, 23},
    {0x3ffffeb, 26},  {0x7ffffe6, 27},  {0x3ffffec, 26},  {0x3ffffed, 26},  {0x7ffffe7, 27},
    {0x7ffffe8, 27},  {0x7ffffe9, 27},  {0x7ffffea, 27},  {0x7ffffeb, 27},  {0xffffffe, 28},
    {0x7ffffec, 27},  {0x7ffffed, 27},  {0x7ffffee, 27},  {0x7ffffef, 27},  {0x7fffff0, 27},
    {0x3ffffee, 26},  {0x3fffffff, 30},
};

constexpr int kEos = 256;

// The code as a binary tree, for decoding bit by bit. A child >= 0 is an internal node index,
// a child < 0 is the leaf of symbol (-child - 1). 257 leaves make exactly 256 internal nodes;
// building it at compile time also proves the table is a complete prefix code (an overlapping
// or missing code would index past the array or leave a 0 child, failing constant evaluation
// or the static_assert below).
struct Node {
    int16_t child[2];
};

constexpr std::array<Node, 256> build_tree() {
    std::array<Node, 256> tree{};
    int next = 1;
    for (int sym = 0; sym <= kEos; ++sym) {
        const Code c = kCodes[sym];
        int node = 0;
        for (int i = c.length - 1; i > 0; --i) {
            const int bit = (c.bits >> i) & 1;
            if (tree[node].child[bit] == 0) tree[node].child[bit] = static_cast<int16_t>(next++);
            node = tree[node].child[bit];
        }
        tree[node].child[c.bits & 1] = static_cast<int16_t>(-(sym + 1));
    }
    return tree;
}

constexpr std::array<Node, 256> kTree = build_tree();

constexpr bool tree_is_complete() {
    for (const Node& n : kTree)
        if (n.child[0] == 0 || n.child[1] == 0) return false;
    return true;
}
static_assert(tree_is_complete(), "RFC 7541 Appendix B table is not a complete prefix code");

}  // namespace

size_t huffman_encoded_size(std::string_view s) {
    size_t bits = 0;
    for (unsigned char ch : s) bits += kCodes[ch].length;
    return (bits + 7) / 8;
}

void huffman_encode(std::string_view s, Bytes& out) {
    out.reserve(out.size() + huffman_encoded_size(s));
    uint64_t acc = 0;  // at most 7 pending bits plus one 30-bit code
    int pending = 0;
    for (unsigned char ch : s) {
        const Code c = kCodes[ch];
        acc = (acc << c.length) | c.bits;
        pending += c.length;
        while (pending >= 8) {
            pending -= 8;
            out.push_back(static_cast<uint8_t>(acc >> pending));
        }
        acc &= (uint64_t{1} << pending) - 1;
    }
    if (pending > 0) {
        // §5.2: pad with the most significant bits of EOS, which are all ones.
        const int pad = 8 - pending;
        out.push_back(static_cast<uint8_t>((acc << pad) | ((1u << pad) - 1)));
    }
}

bool huffman_decode(ByteSpan in, std::string& out) {
    int node = 0;
    int depth = 0;         // bits read since the last complete symbol
    bool all_ones = true;  // whether those bits are all ones (a prefix of EOS)
    for (uint8_t byte : in) {
        for (int i = 7; i >= 0; --i) {
            const int bit = (byte >> i) & 1;
            const int child = kTree[node].child[bit];
            if (child < 0) {
                const int sym = -child - 1;
                // §5.2: "A Huffman-encoded string literal containing the EOS symbol MUST be
                // treated as a decoding error."
                if (sym == kEos) return false;
                out.push_back(static_cast<char>(sym));
                node = 0;
                depth = 0;
                all_ones = true;
            } else {
                node = child;
                ++depth;
                all_ones = all_ones && bit == 1;
            }
        }
    }
    // §5.2: "A padding strictly longer than 7 bits MUST be treated as a decoding error", as must
    // padding that does not correspond to the most significant bits of the code for EOS.
    return depth <= 7 && all_ones;
}

}  // namespace quic::h3
