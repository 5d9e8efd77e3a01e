// The std::visit helper: a set of lambdas, one per alternative.
#pragma once

namespace quic {

template <class... Fs>
struct Overloaded : Fs... {
    using Fs::operator()...;
};
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

}  // namespace quic
