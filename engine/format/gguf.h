// GGUF v3: a validating mmap reader and a writer. A truncated or hostile file gives an error, never a crash or
// an out-of-bounds read: every count, length, offset and shape is checked against the file size before use.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/result.h"
#include "engine/format/dtype.h"
#include "engine/format/vocab_spec.h"

namespace cj::gguf {

enum class ValueType : uint32_t {
  UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6, BOOL = 7,
  STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12,
};

// One metadata value. Scalars live in the matching field; arrays in the vectors, by element kind.
struct Value {
  ValueType type = ValueType::UINT32;
  ValueType elem_type = ValueType::UINT32;  // for ARRAY
  int64_t i = 0;                            // any integer or bool
  uint64_t u = 0;                           // UINT64 exact
  double f = 0;                             // FLOAT32 / FLOAT64
  std::string s;                            // STRING
  std::vector<int64_t> ints;                // ARRAY of integers/bools
  std::vector<double> floats;               // ARRAY of floats
  std::vector<std::string> strings;         // ARRAY of strings
  size_t array_size = 0;                    // number of elements (arrays of arrays are kept only as a count)
  bool is_int() const;
  bool is_float() const { return type == ValueType::FLOAT32 || type == ValueType::FLOAT64; }
};

struct TensorInfo {
  std::string name;
  DType type = DType::F32;
  std::vector<int64_t> dims;  // ggml order: dims[0] is the contiguous (row) length, e.g. [n_embd, n_vocab]
  uint64_t offset = 0;        // relative to the data section
  size_t bytes = 0;
  int64_t n_elements() const;
  int64_t rows() const;       // product of dims[1..]
};

class File {
 public:
  ~File();
  File(File&&) noexcept;
  File& operator=(File&&) noexcept;

  // mmaps and validates the whole structure (header, metadata, tensor infos, alignment, bounds).
  static Result<File> open(const std::string& path);
  // Parses an in-memory image (for fuzzing and tests); the buffer must outlive the File.
  static Result<File> parse(const uint8_t* data, size_t size, std::string name = "<memory>");

  uint32_t version() const { return version_; }
  size_t alignment() const { return alignment_; }
  const std::string& path() const { return path_; }
  const std::map<std::string, Value>& metadata() const { return kv_; }
  const Value* find(std::string_view key) const;
  std::optional<std::string> get_string(std::string_view key) const;
  std::optional<int64_t> get_int(std::string_view key) const;     // any integer type
  std::optional<double> get_float(std::string_view key) const;    // float or integer
  std::optional<bool> get_bool(std::string_view key) const;

  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* find_tensor(std::string_view name) const;
  const uint8_t* tensor_data(const TensorInfo& t) const { return data_ + t.offset; }
  size_t file_size() const { return size_; }

 private:
  File() = default;
  std::string path_;
  const uint8_t* base_ = nullptr;   // whole file image
  size_t size_ = 0;
  void* map_ = nullptr;             // non-null when we own an mmap
  const uint8_t* data_ = nullptr;   // start of the tensor data section
  uint32_t version_ = 0;
  size_t alignment_ = 32;
  std::map<std::string, Value> kv_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t, std::less<>> tensor_index_;
};

// tokenizer.ggml.* → VocabSpec (model gpt2 or llama). Error if the file has no tokenizer.
Result<VocabSpec> read_vocab(const File& f);

// Builds a GGUF v3 file: metadata in insertion order, tensors aligned to `alignment`.
class Writer {
 public:
  explicit Writer(size_t alignment = 32) : alignment_(alignment) {}
  void set_string(const std::string& key, const std::string& v);
  void set_u32(const std::string& key, uint32_t v);
  void set_i32(const std::string& key, int32_t v);
  void set_u64(const std::string& key, uint64_t v);
  void set_f32(const std::string& key, float v);
  void set_bool(const std::string& key, bool v);
  void set_strings(const std::string& key, const std::vector<std::string>& v);
  void set_f32s(const std::string& key, const std::vector<float>& v);
  void set_i32s(const std::string& key, const std::vector<int32_t>& v);
  // Adds a tensor; `data` must hold row_bytes(type, dims[0]) * rows bytes and is copied.
  void add_tensor(const std::string& name, DType type, const std::vector<int64_t>& dims, const void* data);
  // Writes atomically (temp file + rename).
  Status write(const std::string& path) const;
  std::string serialize() const;

 private:
  struct Tensor {
    std::string name;
    DType type;
    std::vector<int64_t> dims;
    std::string data;
  };
  void put_key(const std::string& key, ValueType t);
  size_t alignment_;
  std::string meta_;       // serialized key/value pairs
  uint64_t n_kv_ = 0;
  std::vector<Tensor> tensors_;
};

// Writes VocabSpec as tokenizer.ggml.* keys.
void write_vocab(Writer& w, const VocabSpec& v);

}  // namespace cj::gguf
