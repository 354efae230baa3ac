// safetensors: the header (JSON, offsets, shapes against the file) and reading each small tensor as f32.
#include <vector>

#include "engine/format/safetensors.h"
#include "tests/fuzz/fuzz_entry.h"

int cj_fuzz_safetensors(const uint8_t* data, size_t size) {
  auto f = cj::SafetensorsFile::parse(data, size, "fuzz.safetensors");
  if (!f.ok()) return 0;
  std::vector<float> buf;
  for (const auto& [name, t] : f->tensors()) {
    if (t.n_elements() > (1 << 16)) continue;
    buf.resize(size_t(t.n_elements()));
    cj::safetensor_to_f32(t, buf.data());
  }
  return 0;
}

CJ_FUZZ_MAIN(safetensors)
