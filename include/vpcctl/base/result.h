// Errors as values: every library function that can fail returns Result<T> or Status.
// No exception crosses from src/ to cmd/; main() is the only catch.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace vpcctl {

// Exit codes of the vpcctl binary, documented in --help, the README and vpcctl(8).
enum class Exit : int {
  kOk = 0,         // everything succeeded / converged
  kFailure = 1,    // the operation failed (nothing or everything was changed, see message)
  kUsage = 2,      // bad command line or invalid value; nothing was changed
  kPartial = 3,    // some nodes succeeded, some failed
  kAllFailed = 4,  // every node failed
  kNotConverged = 5,  // status: something is down or drifted
  kLocked = 6,     // another vpcctl holds the state lock
  kDeadline = 124,  // --deadline passed: stopped, with everything it ran (as timeout(1) exits)
};

struct Error {
  Error() = default;
  Error(std::string m, Exit c = Exit::kFailure, std::string k = {})  // NOLINT
      : message(std::move(m)), code(c), kind(std::move(k)) {}
  std::string message;
  Exit code = Exit::kFailure;
  std::string kind;  // optional category for callers that report by kind ("connect", "auth", ...)
};

inline Error UsageError(std::string message) { return Error{std::move(message), Exit::kUsage}; }
inline Error Failure(std::string message) { return Error{std::move(message), Exit::kFailure}; }

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}    // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(v_); }
  Error&& take_error() { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT(google-explicit-constructor)
  static Status Ok() { return Status(); }
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }
  Error&& take_error() { return std::move(error_); }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace vpcctl

// Propagates an error from an expression yielding Result<T> or Status.
#define VPC_TRY(expr)                                        \
  do {                                                       \
    auto vpc_try_r_ = (expr);                                \
    if (!vpc_try_r_.ok()) return vpc_try_r_.take_error();    \
  } while (0)

#define VPC_CONCAT_INNER(a, b) a##b
#define VPC_CONCAT(a, b) VPC_CONCAT_INNER(a, b)
// Assigns the value of a Result<T> expression to `lhs`, or propagates its error.
#define VPC_ASSIGN_OR_RETURN(lhs, expr) \
  VPC_ASSIGN_OR_RETURN_IMPL(VPC_CONCAT(vpc_r_, __LINE__), lhs, expr)
#define VPC_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.take_error();         \
  lhs = std::move(tmp).value()
