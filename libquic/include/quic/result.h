// Result<T>: a value or a quic::Error. The receive path returns these (docs/architecture.md,
// "Errors and limits"); clang 14 with libstdc++ 12 has no std::expected, so this is the project's
// own.
#pragma once

#include <cassert>
#include <optional>
#include <utility>
#include <variant>

#include "quic/error.h"

namespace quic {

template <class T>
class [[nodiscard]] Result {
  public:
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
    Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

    const Error& error() const& { return std::get<1>(v_); }
    Error&& error() && { return std::get<1>(std::move(v_)); }

  private:
    std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
  public:
    Result() = default;
    Result(Error error) : e_(std::move(error)) {}

    bool ok() const { return !e_.has_value(); }
    explicit operator bool() const { return ok(); }
    const Error& error() const& { return *e_; }
    Error&& error() && { return std::move(*e_); }

  private:
    std::optional<Error> e_;
};

using Status = Result<void>;

}  // namespace quic

// Propagate the error of a Result-returning expression; the value (if any) is discarded.
#define QUIC_TRY(expr)                                                          \
    do {                                                                        \
        auto quic_try_result_ = (expr);                                         \
        if (!quic_try_result_.ok()) return std::move(quic_try_result_).error(); \
    } while (0)
