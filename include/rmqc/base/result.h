#pragma once

#include "rmqc/base/error.h"

#include <cassert>
#include <type_traits>
#include <utility>
#include <variant>

namespace rmqc {

// Either a value or an Error. A small stand-in for std::expected (C++23), which GCC 12 lacks.
template <typename T>
class [[nodiscard]] Result {
 public:
  using value_type = T;

  Result(T value) : storage_(std::in_place_index<0>, std::move(value)) {}      // NOLINT: implicit
  Result(Error error) : storage_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit
  template <typename U>
  requires(std::is_constructible_v<T, U&&> && !std::is_same_v<std::decay_t<U>, T> &&
           !std::is_same_v<std::decay_t<U>, Error> && !std::is_same_v<std::decay_t<U>, Result>)
      Result(U&& value)
      : storage_(std::in_place_index<0>, std::forward<U>(value)) {}  // NOLINT

  bool ok() const { return storage_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return *std::get_if<0>(&storage_);
  }
  const T& value() const& {
    assert(ok());
    return *std::get_if<0>(&storage_);
  }
  T&& value() && {
    assert(ok());
    return std::move(*std::get_if<0>(&storage_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& {
    assert(!ok());
    return *std::get_if<1>(&storage_);
  }
  Error&& error() && {
    assert(!ok());
    return std::move(*std::get_if<1>(&storage_));
  }

  template <typename U>
  T value_or(U&& fallback) const& {
    return ok() ? value() : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  std::variant<T, Error> storage_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const& {
    assert(!ok_);
    return error_;
  }
  Error&& error() && {
    assert(!ok_);
    return std::move(error_);
  }

 private:
  Error error_{ErrorCode::kOk, {}};
  bool ok_ = true;
};

inline Result<void> ok_result() {
  return {};
}

}  // namespace rmqc

// Propagates the error of an expression returning Result<...>.
#define RMQC_RETURN_IF_ERROR(expr)            \
  do {                                        \
    auto rmqc_result_ = (expr);               \
    if (!rmqc_result_.ok()) {                 \
      return std::move(rmqc_result_).error(); \
    }                                         \
  } while (false)

#define RMQC_CONCAT_INNER_(a, b) a##b
#define RMQC_CONCAT_(a, b) RMQC_CONCAT_INNER_(a, b)

// RMQC_ASSIGN_OR_RETURN(auto x, parse(...)); declares x from the value or returns the error.
#define RMQC_ASSIGN_OR_RETURN(lhs, expr) \
  RMQC_ASSIGN_OR_RETURN_IMPL_(RMQC_CONCAT_(rmqc_result_, __LINE__), lhs, expr)
#define RMQC_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) {                                  \
    return std::move(tmp).error();                  \
  }                                                 \
  lhs = std::move(tmp).value()
