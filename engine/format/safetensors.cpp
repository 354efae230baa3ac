#include "engine/format/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "engine/base/file.h"
#include "engine/base/json_limits.h"

namespace cj {

namespace {
float f16_to_f32(uint16_t h) {
  const uint32_t sign = (h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1F, man = h & 0x3FF, bits;
  if (exp == 0) {
    if (man == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      exp = 127 - 15 + 1;
      while (!(man & 0x400)) man <<= 1, --exp;
      bits = sign | (exp << 23) | ((man & 0x3FF) << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7F800000u | (man << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}
}  // namespace

int64_t SafeTensor::n_elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

SafetensorsFile::~SafetensorsFile() {
  if (map_) ::munmap(map_, size_);
}
SafetensorsFile::SafetensorsFile(SafetensorsFile&& o) noexcept { *this = std::move(o); }
SafetensorsFile& SafetensorsFile::operator=(SafetensorsFile&& o) noexcept {
  if (this != &o) {
    if (map_) ::munmap(map_, size_);
    map_ = o.map_;
    size_ = o.size_;
    tensors_ = std::move(o.tensors_);
    o.map_ = nullptr;
    o.size_ = 0;
  }
  return *this;
}

const SafeTensor* SafetensorsFile::find(const std::string& name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

Result<SafetensorsFile> SafetensorsFile::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_error("cannot open " + path + ": " + errno_message(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 8) {
    ::close(fd);
    return make_error(path + " is not a safetensors file (too small or not a regular file)");
  }
  const auto size = static_cast<size_t>(st.st_size);
  void* m = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  const int err = errno;
  ::close(fd);
  if (m == MAP_FAILED) return make_error("cannot map " + path + ": " + errno_message(err));
  auto f = parse(static_cast<const uint8_t*>(m), size, path);
  if (!f.ok()) {
    ::munmap(m, size);
    return f;
  }
  f->map_ = m;
  f->size_ = size;
  return f;
}

Result<SafetensorsFile> SafetensorsFile::parse(const uint8_t* base, size_t size, const std::string& path) {
  if (size < 8) return make_error(path + " is not a safetensors file (too small)");
  SafetensorsFile f;
  uint64_t hlen;
  std::memcpy(&hlen, base, 8);
  if (hlen > size - 8 || hlen > (100u << 20)) return make_error(path + ": invalid safetensors header length");
  const std::string_view header(reinterpret_cast<const char*>(base + 8), hlen);
  if (std::string why = json_limit_violation(header, {.max_depth = 16, .max_values = size_t(1) << 21}); !why.empty())
    return make_error(path + ": the safetensors header is " + why);
  nlohmann::json h = nlohmann::json::parse(header.begin(), header.end(), nullptr, false);
  if (h.is_discarded() || !h.is_object()) return make_error(path + ": safetensors header is not valid JSON");
  const uint8_t* data = base + 8 + hlen;
  const size_t data_size = size - 8 - hlen;
  for (auto& item : h.items()) {
    const std::string& name = item.key();
    const nlohmann::json& t = item.value();
    if (name == "__metadata__") continue;
    if (name.size() > kMaxTensorName)
      return make_error(path + ": a tensor name is " + std::to_string(name.size()) + " bytes long (at most " +
                        std::to_string(kMaxTensorName) + ")");
    auto bad = [&](const std::string& why) { return make_error(path + ": tensor '" + name + "': " + why); };
    if (!t.is_object() || !t.contains("dtype") || !t.contains("shape") || !t.contains("data_offsets"))
      return bad("missing dtype/shape/data_offsets");
    SafeTensor st2;
    if (!t["dtype"].is_string()) return bad("dtype is not a string");
    st2.dtype = t["dtype"].get<std::string>();
    size_t es;
    if (st2.dtype == "F32") es = 4;
    else if (st2.dtype == "F16" || st2.dtype == "BF16") es = 2;
    else return bad("dtype " + st2.dtype.substr(0, 32) + " is not supported (F32, F16, BF16 are)");
    if (!t["shape"].is_array() || t["shape"].size() > 8) return bad("shape is not an array of at most 8 dimensions");
    // Elements and bytes in unsigned 64-bit with overflow checks: a shape whose byte count wraps must not pass
    // as a small tensor (n_elements() multiplies in int64).
    uint64_t n = 1, nbytes = 0;
    for (auto& d : t["shape"]) {
      if (!d.is_number_unsigned()) return bad("shape has a non-integer dimension");
      const auto v = d.get<uint64_t>();
      if (v > (1ull << 40) || __builtin_mul_overflow(n, v, &n)) return bad("shape too large");
      st2.shape.push_back(static_cast<int64_t>(v));
    }
    if (__builtin_mul_overflow(n, uint64_t(es), &nbytes) || nbytes > data_size)
      return bad("shape too large for the file");
    auto& off = t["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      return bad("data_offsets must be two integers");
    const auto b = off[0].get<uint64_t>(), e = off[1].get<uint64_t>();
    if (b > e || e > data_size) return bad("data lies outside the file (truncated download?)");
    if (e - b != nbytes) return bad("byte size does not match its shape and dtype");
    st2.data = data + b;
    st2.bytes = e - b;
    f.tensors_.emplace(name, std::move(st2));
  }
  return f;
}

void safetensor_to_f32(const SafeTensor& t, float* out) {
  const int64_t n = t.n_elements();
  if (t.dtype == "F32") {
    std::memcpy(out, t.data, static_cast<size_t>(n) * 4);
  } else if (t.dtype == "F16") {
    for (int64_t i = 0; i < n; ++i) {
      uint16_t h;
      std::memcpy(&h, t.data + 2 * i, 2);
      out[i] = f16_to_f32(h);
    }
  } else {  // BF16
    for (int64_t i = 0; i < n; ++i) {
      uint16_t h;
      std::memcpy(&h, t.data + 2 * i, 2);
      const uint32_t bits = static_cast<uint32_t>(h) << 16;
      std::memcpy(&out[i], &bits, 4);
    }
  }
}

}  // namespace cj
