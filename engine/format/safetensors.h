// HF safetensors reader (mmap, validated): an 8-byte little-endian header length, a JSON header naming each
// tensor's dtype, shape and byte range, then the data. Shapes are row-major as PyTorch stores them.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/base/result.h"

namespace cj {

struct SafeTensor {
  std::string dtype;            // "F32" | "F16" | "BF16" (others are rejected)
  std::vector<int64_t> shape;   // row-major, e.g. [out_features, in_features]
  const uint8_t* data = nullptr;
  size_t bytes = 0;
  int64_t n_elements() const;
};

class SafetensorsFile {
 public:
  static constexpr size_t kMaxTensorName = 1024;  // longer names are refused (real ones are < 100 bytes)
  ~SafetensorsFile();
  SafetensorsFile(SafetensorsFile&&) noexcept;
  SafetensorsFile& operator=(SafetensorsFile&&) noexcept;
  static Result<SafetensorsFile> open(const std::string& path);
  // Parses an in-memory image (fuzzing, tests); the buffer must outlive the result.
  static Result<SafetensorsFile> parse(const uint8_t* data, size_t size, const std::string& name = "<memory>");
  const std::map<std::string, SafeTensor>& tensors() const { return tensors_; }
  const SafeTensor* find(const std::string& name) const;

 private:
  SafetensorsFile() = default;
  void* map_ = nullptr;
  size_t size_ = 0;
  std::map<std::string, SafeTensor> tensors_;
};

// Element i of a tensor as f32 (F32/F16/BF16).
void safetensor_to_f32(const SafeTensor& t, float* out);

}  // namespace cj
