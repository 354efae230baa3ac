#include "engine/cpu/membw.h"

#include <emmintrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>

#include "engine/cpu/thread_pool.h"

namespace cj {

namespace {

// Sums a slice with four independent 16-byte accumulators so the loop is limited by memory, not by a
// dependency chain; the result is kept so the reads cannot be optimized away.
uint64_t read_slice(const uint8_t* p, size_t bytes) {
  __m128i a0 = _mm_setzero_si128(), a1 = a0, a2 = a0, a3 = a0;
  for (size_t i = 0; i + 64 <= bytes; i += 64) {
    a0 = _mm_add_epi64(a0, _mm_load_si128(reinterpret_cast<const __m128i*>(p + i)));
    a1 = _mm_add_epi64(a1, _mm_load_si128(reinterpret_cast<const __m128i*>(p + i + 16)));
    a2 = _mm_add_epi64(a2, _mm_load_si128(reinterpret_cast<const __m128i*>(p + i + 32)));
    a3 = _mm_add_epi64(a3, _mm_load_si128(reinterpret_cast<const __m128i*>(p + i + 48)));
  }
  const __m128i s = _mm_add_epi64(_mm_add_epi64(a0, a1), _mm_add_epi64(a2, a3));
  uint64_t out[2];
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), s);
  return out[0] + out[1];
}

struct Free64 {
  void operator()(uint8_t* p) const { ::operator delete[](p, std::align_val_t(64)); }
};

}  // namespace

double measure_read_bandwidth_gbs(ThreadPool* pool, size_t bytes, int repeats) {
  bytes = std::max<size_t>(bytes & ~static_cast<size_t>(4095), 4096);
  std::unique_ptr<uint8_t[], Free64> buf(static_cast<uint8_t*>(::operator new[](bytes, std::align_val_t(64))));
  const int threads = pool ? pool->size() : 1;
  const size_t slice = (bytes / static_cast<size_t>(threads)) & ~static_cast<size_t>(63);
  // Touch every page from the thread that will read it (first-touch placement), with non-zero data.
  auto touch = [&](int t) { std::memset(buf.get() + slice * static_cast<size_t>(t), t + 1, slice); };
  std::atomic<uint64_t> sink{0};
  auto read = [&](int t) { sink.fetch_add(read_slice(buf.get() + slice * static_cast<size_t>(t), slice)); };
  if (pool) {
    pool->parallel_for(threads, touch);
  } else {
    touch(0);
  }
  double best = 0;
  for (int r = 0; r < std::max(1, repeats); ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    if (pool) {
      pool->parallel_for(threads, read);
    } else {
      read(0);
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, static_cast<double>(slice) * threads / s / 1e9);
  }
  if (sink.load() == 42) best += 1e-12;  // keeps the reads observable
  return best;
}

}  // namespace cj
