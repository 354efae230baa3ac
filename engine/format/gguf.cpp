#include "engine/format/gguf.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "engine/base/file.h"

namespace cj::gguf {

namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" little-endian
constexpr uint64_t kMaxTensors = 1u << 20;
constexpr uint64_t kMaxKv = 1u << 20;
constexpr uint32_t kMaxDims = 4;

// Bounds-checked little-endian cursor over the file image.
class Cursor {
 public:
  Cursor(const uint8_t* p, size_t n) : p_(p), n_(n) {}
  size_t pos() const { return pos_; }
  size_t left() const { return n_ - pos_; }
  bool read(void* dst, size_t k) {
    if (k > left()) return false;
    std::memcpy(dst, p_ + pos_, k);
    pos_ += k;
    return true;
  }
  template <typename T>
  bool get(T* v) {
    return read(v, sizeof(T));
  }
  bool str(std::string* s) {
    uint64_t len;
    if (!get(&len) || len > left()) return false;
    s->assign(reinterpret_cast<const char*>(p_ + pos_), len);
    pos_ += len;
    return true;
  }
  bool skip(uint64_t k) {
    if (k > left()) return false;
    pos_ += k;
    return true;
  }

 private:
  const uint8_t* p_;
  size_t n_;
  size_t pos_ = 0;
};

size_t scalar_size(ValueType t) {
  switch (t) {
    case ValueType::UINT8: case ValueType::INT8: case ValueType::BOOL: return 1;
    case ValueType::UINT16: case ValueType::INT16: return 2;
    case ValueType::UINT32: case ValueType::INT32: case ValueType::FLOAT32: return 4;
    case ValueType::UINT64: case ValueType::INT64: case ValueType::FLOAT64: return 8;
    default: return 0;
  }
}

bool valid_type(uint32_t t) { return t <= static_cast<uint32_t>(ValueType::FLOAT64); }

// Reads one scalar of type t into v (ints → i/u, floats → f).
bool read_scalar(Cursor& c, ValueType t, int64_t* i, uint64_t* u, double* f) {
  switch (t) {
    case ValueType::UINT8: { uint8_t x; if (!c.get(&x)) return false; *i = x; *u = x; return true; }
    case ValueType::INT8: { int8_t x; if (!c.get(&x)) return false; *i = x; *u = static_cast<uint64_t>(x); return true; }
    case ValueType::UINT16: { uint16_t x; if (!c.get(&x)) return false; *i = x; *u = x; return true; }
    case ValueType::INT16: { int16_t x; if (!c.get(&x)) return false; *i = x; *u = static_cast<uint64_t>(x); return true; }
    case ValueType::UINT32: { uint32_t x; if (!c.get(&x)) return false; *i = x; *u = x; return true; }
    case ValueType::INT32: { int32_t x; if (!c.get(&x)) return false; *i = x; *u = static_cast<uint64_t>(x); return true; }
    case ValueType::UINT64: { uint64_t x; if (!c.get(&x)) return false; *i = static_cast<int64_t>(x); *u = x; return true; }
    case ValueType::INT64: { int64_t x; if (!c.get(&x)) return false; *i = x; *u = static_cast<uint64_t>(x); return true; }
    case ValueType::BOOL: { uint8_t x; if (!c.get(&x) || x > 1) return false; *i = x; *u = x; return true; }
    case ValueType::FLOAT32: { float x; if (!c.get(&x)) return false; *f = x; return true; }
    case ValueType::FLOAT64: { double x; if (!c.get(&x)) return false; *f = x; return true; }
    default: return false;
  }
}

bool mul_overflow(uint64_t a, uint64_t b, uint64_t* out) { return __builtin_mul_overflow(a, b, out); }

}  // namespace

bool Value::is_int() const {
  switch (type) {
    case ValueType::FLOAT32: case ValueType::FLOAT64: case ValueType::STRING: case ValueType::ARRAY: return false;
    default: return true;
  }
}

int64_t TensorInfo::n_elements() const {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

int64_t TensorInfo::rows() const {
  int64_t n = 1;
  for (size_t k = 1; k < dims.size(); ++k) n *= dims[k];
  return n;
}

File::~File() {
  if (map_) ::munmap(map_, size_);
}

File::File(File&& o) noexcept { *this = std::move(o); }

File& File::operator=(File&& o) noexcept {
  if (this != &o) {
    if (map_) ::munmap(map_, size_);
    path_ = std::move(o.path_);
    base_ = o.base_;
    size_ = o.size_;
    map_ = o.map_;
    data_ = o.data_;
    version_ = o.version_;
    alignment_ = o.alignment_;
    kv_ = std::move(o.kv_);
    tensors_ = std::move(o.tensors_);
    tensor_index_ = std::move(o.tensor_index_);
    o.map_ = nullptr;
    o.base_ = o.data_ = nullptr;
    o.size_ = 0;
  }
  return *this;
}

Result<File> File::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_error("cannot open model " + path + ": " + errno_message(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return make_error(path + " is not a regular file");
  }
  const auto size = static_cast<size_t>(st.st_size);
  if (size < 24) {
    ::close(fd);
    return make_error(path + " is not a GGUF model (file too small: " + std::to_string(size) + " bytes)");
  }
  void* m = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  const int err = errno;
  ::close(fd);
  if (m == MAP_FAILED) return make_error("cannot map " + path + ": " + errno_message(err));
  auto r = parse(static_cast<const uint8_t*>(m), size, path);
  if (!r.ok()) {
    ::munmap(m, size);
    return r;
  }
  r->map_ = m;
  return r;
}

Result<File> File::parse(const uint8_t* data, size_t size, std::string name) {
  File f;
  f.path_ = std::move(name);
  f.base_ = data;
  f.size_ = size;
  const std::string& who = f.path_;
  auto bad = [&](const std::string& why) { return make_error(who + ": invalid GGUF: " + why); };
  Cursor c(data, size);
  uint32_t magic = 0;
  if (!c.get(&magic) || magic != kMagic) return bad("bad magic (not a GGUF file)");
  if (!c.get(&f.version_)) return bad("truncated header");
  if (f.version_ != 2 && f.version_ != 3)
    return make_error(who + ": GGUF version " + std::to_string(f.version_) + " is not supported (2 and 3 are)");
  uint64_t n_tensors = 0, n_kv = 0;
  if (!c.get(&n_tensors) || !c.get(&n_kv)) return bad("truncated header");
  if (n_tensors > kMaxTensors) return bad("implausible tensor count " + std::to_string(n_tensors));
  if (n_kv > kMaxKv) return bad("implausible metadata count " + std::to_string(n_kv));

  for (uint64_t k = 0; k < n_kv; ++k) {
    std::string key;
    uint32_t t;
    if (!c.str(&key)) return bad("truncated metadata key #" + std::to_string(k));
    if (!c.get(&t) || !valid_type(t)) return bad("metadata '" + key + "' has an unknown value type");
    Value v;
    v.type = static_cast<ValueType>(t);
    if (v.type == ValueType::STRING) {
      if (!c.str(&v.s)) return bad("metadata '" + key + "' string runs past the end of the file");
    } else if (v.type == ValueType::ARRAY) {
      uint32_t et;
      uint64_t n;
      if (!c.get(&et) || !valid_type(et)) return bad("metadata '" + key + "' array has an unknown element type");
      if (!c.get(&n)) return bad("metadata '" + key + "' truncated");
      v.elem_type = static_cast<ValueType>(et);
      v.array_size = n;
      if (v.elem_type == ValueType::STRING) {
        if (n > c.left() / 8) return bad("metadata '" + key + "' array runs past the end of the file");
        v.strings.resize(n);
        for (uint64_t j = 0; j < n; ++j)
          if (!c.str(&v.strings[j])) return bad("metadata '" + key + "' string runs past the end of the file");
      } else if (v.elem_type == ValueType::ARRAY) {
        return bad("metadata '" + key + "': nested arrays are not supported");
      } else {
        const size_t es = scalar_size(v.elem_type);
        if (n > c.left() / es) return bad("metadata '" + key + "' array runs past the end of the file");
        const bool fl = v.elem_type == ValueType::FLOAT32 || v.elem_type == ValueType::FLOAT64;
        (fl ? v.floats.reserve(n) : v.ints.reserve(n));
        for (uint64_t j = 0; j < n; ++j) {
          int64_t i = 0;
          uint64_t u = 0;
          double d = 0;
          if (!read_scalar(c, v.elem_type, &i, &u, &d)) return bad("metadata '" + key + "' has a bad array element");
          if (fl) v.floats.push_back(d); else v.ints.push_back(i);
        }
      }
    } else {
      if (!read_scalar(c, v.type, &v.i, &v.u, &v.f)) return bad("metadata '" + key + "' truncated or invalid");
    }
    if (f.kv_.count(key)) return bad("duplicate metadata key '" + key + "'");
    f.kv_.emplace(std::move(key), std::move(v));
  }

  if (auto a = f.find("general.alignment")) {
    if (!a->is_int() || a->i <= 0 || a->i > (1 << 20) || (a->i & (a->i - 1)) != 0)
      return bad("general.alignment must be a power of two");
    f.alignment_ = static_cast<size_t>(a->i);
  }

  f.tensors_.reserve(n_tensors);
  for (uint64_t k = 0; k < n_tensors; ++k) {
    TensorInfo ti;
    uint32_t nd, type;
    if (!c.str(&ti.name)) return bad("truncated tensor info #" + std::to_string(k));
    if (!c.get(&nd) || nd == 0 || nd > kMaxDims) return bad("tensor '" + ti.name + "' has an invalid dimension count");
    uint64_t n_el = 1;
    for (uint32_t d = 0; d < nd; ++d) {
      uint64_t dim;
      if (!c.get(&dim)) return bad("tensor '" + ti.name + "' truncated");
      if (dim == 0 || dim > (1ull << 40) || mul_overflow(n_el, dim, &n_el) || n_el > (1ull << 42))
        return bad("tensor '" + ti.name + "' has an invalid shape");
      ti.dims.push_back(static_cast<int64_t>(dim));
    }
    if (!c.get(&type)) return bad("tensor '" + ti.name + "' truncated");
    if (!dtype_known(type))
      return make_error(who + ": tensor '" + ti.name + "' has type " + std::to_string(type) +
                        ", which this engine does not support (supported: f32, f16, bf16, q8_0, q4_0, q4_k, q6_k)");
    ti.type = static_cast<DType>(type);
    if (!c.get(&ti.offset)) return bad("tensor '" + ti.name + "' truncated");
    const auto& tr = dtype_traits(ti.type);
    if (ti.dims[0] % tr.block_elems != 0)
      return bad("tensor '" + ti.name + "' row length " + std::to_string(ti.dims[0]) + " is not a multiple of the " +
                 tr.name + " block size");
    uint64_t bytes;
    if (mul_overflow(static_cast<uint64_t>(ti.dims[0] / tr.block_elems) * 1, tr.block_bytes, &bytes) ||
        mul_overflow(bytes, static_cast<uint64_t>(ti.rows()), &bytes))
      return bad("tensor '" + ti.name + "' is too large");
    ti.bytes = bytes;
    if (ti.offset % f.alignment_ != 0) return bad("tensor '" + ti.name + "' data is not aligned");
    if (f.tensor_index_.count(ti.name)) return bad("duplicate tensor '" + ti.name + "'");
    f.tensor_index_.emplace(ti.name, f.tensors_.size());
    f.tensors_.push_back(std::move(ti));
  }

  const size_t data_start = (c.pos() + f.alignment_ - 1) / f.alignment_ * f.alignment_;
  if (n_tensors > 0 && data_start > size) return bad("tensor data section starts past the end of the file");
  f.data_ = data + std::min(data_start, size);
  const size_t data_size = size - std::min(data_start, size);
  for (const auto& t : f.tensors_) {
    if (t.offset > data_size || t.bytes > data_size - t.offset)
      return make_error(who + ": tensor '" + t.name + "' extends past the end of the file (truncated download?)");
  }
  return f;
}

const Value* File::find(std::string_view key) const {
  auto it = kv_.find(std::string(key));
  return it == kv_.end() ? nullptr : &it->second;
}

std::optional<std::string> File::get_string(std::string_view key) const {
  const Value* v = find(key);
  if (!v || v->type != ValueType::STRING) return std::nullopt;
  return v->s;
}

std::optional<int64_t> File::get_int(std::string_view key) const {
  const Value* v = find(key);
  if (!v || !v->is_int()) return std::nullopt;
  return v->i;
}

std::optional<double> File::get_float(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return std::nullopt;
  if (v->is_float()) return v->f;
  if (v->is_int()) return static_cast<double>(v->i);
  return std::nullopt;
}

std::optional<bool> File::get_bool(std::string_view key) const {
  const Value* v = find(key);
  if (!v || !v->is_int()) return std::nullopt;
  return v->i != 0;
}

const TensorInfo* File::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

Result<VocabSpec> read_vocab(const File& f) {
  VocabSpec v;
  auto model = f.get_string("tokenizer.ggml.model");
  if (!model) return make_error(f.path() + " has no tokenizer (tokenizer.ggml.model missing)");
  v.model = *model;
  if (v.model != "gpt2" && v.model != "llama")
    return make_error(f.path() + ": tokenizer model '" + v.model + "' is not supported (gpt2 and llama are)");
  v.pre = f.get_string("tokenizer.ggml.pre").value_or("");
  const Value* toks = f.find("tokenizer.ggml.tokens");
  if (!toks || toks->type != ValueType::ARRAY || toks->elem_type != ValueType::STRING || toks->strings.empty())
    return make_error(f.path() + ": tokenizer.ggml.tokens missing or not a string array");
  v.tokens = toks->strings;
  const size_t n = v.tokens.size();
  if (const Value* s = f.find("tokenizer.ggml.scores")) {
    if (s->type != ValueType::ARRAY || s->floats.size() != n)
      return make_error(f.path() + ": tokenizer.ggml.scores does not match the vocabulary size");
    v.scores.assign(s->floats.begin(), s->floats.end());
  }
  if (const Value* t = f.find("tokenizer.ggml.token_type")) {
    if (t->type != ValueType::ARRAY || t->ints.size() != n)
      return make_error(f.path() + ": tokenizer.ggml.token_type does not match the vocabulary size");
    v.token_types.assign(t->ints.begin(), t->ints.end());
  }
  if (const Value* m = f.find("tokenizer.ggml.merges")) {
    if (m->type != ValueType::ARRAY || m->elem_type != ValueType::STRING)
      return make_error(f.path() + ": tokenizer.ggml.merges is not a string array");
    v.merges = m->strings;
  }
  auto id = [&](const char* key, TokenId* out) -> Status {
    if (auto x = f.get_int(key)) {
      if (*x < 0 || static_cast<size_t>(*x) >= n)
        return make_error(f.path() + ": " + key + " = " + std::to_string(*x) + " is outside the vocabulary");
      *out = static_cast<TokenId>(*x);
    }
    return Status::Ok();
  };
  CJ_TRY(id("tokenizer.ggml.bos_token_id", &v.bos_id));
  CJ_TRY(id("tokenizer.ggml.eos_token_id", &v.eos_id));
  CJ_TRY(id("tokenizer.ggml.unknown_token_id", &v.unk_id));
  CJ_TRY(id("tokenizer.ggml.padding_token_id", &v.pad_id));
  v.add_bos = f.get_bool("tokenizer.ggml.add_bos_token").value_or(v.model == "llama");
  v.add_space_prefix = f.get_bool("tokenizer.ggml.add_space_prefix").value_or(v.model == "llama");
  v.chat_template = f.get_string("tokenizer.chat_template").value_or("");
  return v;
}

// ---- Writer ----

namespace {
template <typename T>
void put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof(T));
}
void put_str(std::string& out, const std::string& s) {
  put<uint64_t>(out, s.size());
  out += s;
}
}  // namespace

void Writer::put_key(const std::string& key, ValueType t) {
  put_str(meta_, key);
  put<uint32_t>(meta_, static_cast<uint32_t>(t));
  ++n_kv_;
}

void Writer::set_string(const std::string& key, const std::string& v) {
  put_key(key, ValueType::STRING);
  put_str(meta_, v);
}
void Writer::set_u32(const std::string& key, uint32_t v) {
  put_key(key, ValueType::UINT32);
  put(meta_, v);
}
void Writer::set_i32(const std::string& key, int32_t v) {
  put_key(key, ValueType::INT32);
  put(meta_, v);
}
void Writer::set_u64(const std::string& key, uint64_t v) {
  put_key(key, ValueType::UINT64);
  put(meta_, v);
}
void Writer::set_f32(const std::string& key, float v) {
  put_key(key, ValueType::FLOAT32);
  put(meta_, v);
}
void Writer::set_bool(const std::string& key, bool v) {
  put_key(key, ValueType::BOOL);
  put<uint8_t>(meta_, v ? 1 : 0);
}
void Writer::set_strings(const std::string& key, const std::vector<std::string>& v) {
  put_key(key, ValueType::ARRAY);
  put<uint32_t>(meta_, static_cast<uint32_t>(ValueType::STRING));
  put<uint64_t>(meta_, v.size());
  for (const auto& s : v) put_str(meta_, s);
}
void Writer::set_f32s(const std::string& key, const std::vector<float>& v) {
  put_key(key, ValueType::ARRAY);
  put<uint32_t>(meta_, static_cast<uint32_t>(ValueType::FLOAT32));
  put<uint64_t>(meta_, v.size());
  meta_.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}
void Writer::set_i32s(const std::string& key, const std::vector<int32_t>& v) {
  put_key(key, ValueType::ARRAY);
  put<uint32_t>(meta_, static_cast<uint32_t>(ValueType::INT32));
  put<uint64_t>(meta_, v.size());
  meta_.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(int32_t));
}

void Writer::add_tensor(const std::string& name, DType type, const std::vector<int64_t>& dims, const void* data) {
  CJ_ASSERT(!dims.empty() && dims.size() <= kMaxDims);
  int64_t rows = 1;
  for (size_t k = 1; k < dims.size(); ++k) rows *= dims[k];
  const size_t bytes = row_bytes(type, dims[0]) * static_cast<size_t>(rows);
  tensors_.push_back({name, type, dims, std::string(static_cast<const char*>(data), bytes)});
}

std::string Writer::serialize() const {
  std::string out;
  put<uint32_t>(out, kMagic);
  put<uint32_t>(out, 3);
  put<uint64_t>(out, tensors_.size());
  put<uint64_t>(out, n_kv_ + (alignment_ != 32 ? 1 : 0));
  out += meta_;
  if (alignment_ != 32) {
    put_str(out, "general.alignment");
    put<uint32_t>(out, static_cast<uint32_t>(ValueType::UINT32));
    put<uint32_t>(out, static_cast<uint32_t>(alignment_));
  }
  uint64_t offset = 0;
  for (const auto& t : tensors_) {
    put_str(out, t.name);
    put<uint32_t>(out, static_cast<uint32_t>(t.dims.size()));
    for (int64_t d : t.dims) put<uint64_t>(out, static_cast<uint64_t>(d));
    put<uint32_t>(out, static_cast<uint32_t>(t.type));
    put<uint64_t>(out, offset);
    offset += (t.data.size() + alignment_ - 1) / alignment_ * alignment_;
  }
  out.resize((out.size() + alignment_ - 1) / alignment_ * alignment_, '\0');
  for (const auto& t : tensors_) {
    out += t.data;
    out.resize((out.size() + alignment_ - 1) / alignment_ * alignment_, '\0');
  }
  return out;
}

Status Writer::write(const std::string& path) const { return write_file_atomic(path, serialize()); }

void write_vocab(Writer& w, const VocabSpec& v) {
  w.set_string("tokenizer.ggml.model", v.model);
  if (!v.pre.empty()) w.set_string("tokenizer.ggml.pre", v.pre);
  w.set_strings("tokenizer.ggml.tokens", v.tokens);
  if (!v.scores.empty()) w.set_f32s("tokenizer.ggml.scores", v.scores);
  if (!v.token_types.empty()) w.set_i32s("tokenizer.ggml.token_type", v.token_types);
  if (!v.merges.empty()) w.set_strings("tokenizer.ggml.merges", v.merges);
  if (v.bos_id >= 0) w.set_u32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(v.bos_id));
  if (v.eos_id >= 0) w.set_u32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(v.eos_id));
  if (v.unk_id >= 0) w.set_u32("tokenizer.ggml.unknown_token_id", static_cast<uint32_t>(v.unk_id));
  if (v.pad_id >= 0) w.set_u32("tokenizer.ggml.padding_token_id", static_cast<uint32_t>(v.pad_id));
  w.set_bool("tokenizer.ggml.add_bos_token", v.add_bos);
  w.set_bool("tokenizer.ggml.add_space_prefix", v.add_space_prefix);
  if (!v.chat_template.empty()) w.set_string("tokenizer.chat_template", v.chat_template);
}

}  // namespace cj::gguf
