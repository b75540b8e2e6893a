// Status and Result<T>: the error type of every fallible qcal boundary.
//
// A Status is either OK or carries a code and a message. Messages say where the
// problem is (file and offset, node name and op type, layer and algorithm) and,
// where possible, what to do about it.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace qcal {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // bad user input: flags, shapes, names, values
  kNotFound,         // a file, tensor, layer or record entry is missing
  kUnsupported,      // valid input that qcal does not implement
  kCorrupt,          // a model/record/config/tensor file that does not parse
  kIoError,          // the OS refused a read or write
  kFailedPrecondition,  // a step run out of order or with incomplete state
  kOutOfRange,       // a value outside its allowed range / resource limit
  kInternal,         // a qcal bug
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "InvalidArgument: message" (or "OK").
  std::string ToString() const;
  // Returns a copy whose message is "context: message". OK stays OK.
  Status WithContext(const std::string& context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status Unsupported(std::string m) { return {StatusCode::kUnsupported, std::move(m)}; }
inline Status Corrupt(std::string m) { return {StatusCode::kCorrupt, std::move(m)}; }
inline Status IoError(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
inline Status FailedPrecondition(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
inline Status OutOfRange(std::string m) { return {StatusCode::kOutOfRange, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

// Result<T> holds either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    assert(!std::get<Status>(v_).ok() && "Result constructed from OK status");
  }
  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace qcal

#define QCAL_CONCAT_IMPL(a, b) a##b
#define QCAL_CONCAT(a, b) QCAL_CONCAT_IMPL(a, b)

// Returns the status from the enclosing function if it is not OK.
#define QCAL_RETURN_IF_ERROR(expr)            \
  do {                                        \
    ::qcal::Status _qcal_st = (expr);         \
    if (!_qcal_st.ok()) return _qcal_st;      \
  } while (0)

// QCAL_ASSIGN_OR_RETURN(auto x, MakeX()); declares x or returns the error.
#define QCAL_ASSIGN_OR_RETURN(lhs, expr) \
  QCAL_ASSIGN_OR_RETURN_IMPL(QCAL_CONCAT(_qcal_res_, __LINE__), lhs, expr)
#define QCAL_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return tmp.status();              \
  lhs = std::move(tmp).value()
