#include "studio/generator.h"

#include <atomic>
#include <chrono>
#include <random>

namespace cj::studio {

uint64_t fresh_seed() {
  static std::atomic<uint64_t> counter{0};
  static const uint64_t base = [] {
    std::random_device rd;
    return (uint64_t(rd()) << 32) ^ uint64_t(rd());
  }();
  // splitmix64 of (device bits, clock, call number): distinct per call, unpredictable across runs.
  uint64_t z = base + uint64_t(std::chrono::steady_clock::now().time_since_epoch().count()) +
               0x9E3779B97F4A7C15ULL * (counter.fetch_add(1) + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return z & 0x7fffffffffffffffULL;
}

}  // namespace cj::studio
