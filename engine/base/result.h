// Result<T>: a value or an error message a user can act on. Bugs are asserts (CJ_ASSERT); I/O, parse and
// out-of-memory failures are Results (DESIGN.md, "Errors").
#pragma once
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <variant>

namespace cj {

struct Error {
  std::string message;
};

inline Error make_error(std::string msg) { return Error{std::move(msg)}; }

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error e) : v_(std::move(e)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  const std::string& error() const { return std::get<1>(v_).message; }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Error> v_;
};

// Status: a Result with no value.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error e) : err_(std::move(e.message)), failed_(true) {}
  static Status Ok() { return Status(); }
  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const std::string& error() const { return err_; }

 private:
  std::string err_;
  bool failed_ = false;
};

[[noreturn]] inline void assert_fail(const char* expr, const char* file, int line, const char* msg) {
  std::fprintf(stderr, "changjuan: assertion failed: %s (%s) at %s:%d\n", expr, msg ? msg : "", file, line);
  std::abort();
}

}  // namespace cj

#define CJ_ASSERT(cond) ((cond) ? (void)0 : ::cj::assert_fail(#cond, __FILE__, __LINE__, nullptr))
#define CJ_ASSERT_MSG(cond, msg) ((cond) ? (void)0 : ::cj::assert_fail(#cond, __FILE__, __LINE__, msg))

// Propagate an error from a Result/Status expression.
#define CJ_TRY(expr)                                      \
  do {                                                    \
    auto&& cj_try_r_ = (expr);                            \
    if (!cj_try_r_.ok()) return ::cj::Error{cj_try_r_.error()}; \
  } while (0)
