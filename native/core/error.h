// Errors thrown by compute code. Kernels never print or abort: they throw itk::Error, and the
// binding layer turns it into a JS error whose `code` is the stable string below.
#pragma once
#include <stdexcept>
#include <string>

namespace itk {

enum class Code {
  InvalidArg,
  Shape,
  Dtype,
  ModelFormat,
  DeviceUnavailable,
  Device,
  Numerical,
  Aborted,
  OutOfMemory,
  Internal,
};

inline const char* code_string(Code c) {
  switch (c) {
    case Code::InvalidArg: return "ERR_ITOKIT_INVALID_ARG";
    case Code::Shape: return "ERR_ITOKIT_SHAPE";
    case Code::Dtype: return "ERR_ITOKIT_DTYPE";
    case Code::ModelFormat: return "ERR_ITOKIT_MODEL_FORMAT";
    case Code::DeviceUnavailable: return "ERR_ITOKIT_DEVICE_UNAVAILABLE";
    case Code::Device: return "ERR_ITOKIT_DEVICE";
    case Code::Numerical: return "ERR_ITOKIT_NUMERICAL";
    case Code::Aborted: return "ERR_ITOKIT_ABORTED";
    case Code::OutOfMemory: return "ERR_ITOKIT_OUT_OF_MEMORY";
    case Code::Internal: return "ERR_ITOKIT_INTERNAL";
  }
  return "ERR_ITOKIT_INTERNAL";
}

class Error : public std::runtime_error {
 public:
  Error(Code code, const std::string& message) : std::runtime_error(message), code_(code) {}
  Code code() const { return code_; }

 private:
  Code code_;
};

// Argument checks inside compute code (the TypeScript layer validates first; these guard the
// native surface against direct misuse so nothing reads out of bounds).
inline void require(bool ok, Code code, const std::string& message) {
  if (!ok) throw Error(code, message);
}

}  // namespace itk
