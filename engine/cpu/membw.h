// Memory read bandwidth of this machine, measured the way decode reads weights: n threads streaming disjoint
// slices of a buffer much larger than the last-level cache. The `bench` command reports utilization against it.
#pragma once
#include <cstddef>

namespace cj {

class ThreadPool;

// Best of `repeats` passes over a `bytes`-sized buffer (default 1 GiB), read by every thread of pool (null: the
// calling thread alone). Returns GB/s (1e9 bytes per second). Allocates and touches the buffer first.
double measure_read_bandwidth_gbs(ThreadPool* pool, size_t bytes = size_t{1} << 30, int repeats = 3);

}  // namespace cj
