// The matvec/matmul dispatch (activation preparation into thread-local scratch, rows split across the thread pool,
// kernels chosen per CPU). The type table and the reference dequantize/quantize are in engine/format/dtype.cpp.
#include "engine/cpu/quant.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>

#include "engine/base/result.h"
#include "engine/cpu/cpu_features.h"
#include "engine/format/quant_blocks.h"
#include "engine/cpu/quant_kernels.h"
#include "engine/cpu/thread_pool.h"

namespace cj {

using namespace cj::q;

// ------------------------------------------------------------------------------------------------ dispatch

namespace kern {

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return "scalar";
    case Isa::Avx2: return "avx2";
    case Isa::Avx512: return "avx512";
  }
  return "?";
}

bool isa_supported(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return true;
    case Isa::Avx2: return cpu_features().avx2;
    case Isa::Avx512: return cpu_features().avx512 && cpu_features().avx512_vnni;
  }
  return false;
}

Isa active_isa() {
  static const Isa isa = [] {
    Isa best = isa_supported(Isa::Avx512) ? Isa::Avx512 : isa_supported(Isa::Avx2) ? Isa::Avx2 : Isa::Scalar;
    if (const char* env = std::getenv("CJ_ISA")) {
      for (Isa i : {Isa::Scalar, Isa::Avx2, Isa::Avx512}) {
        if (std::strcmp(env, isa_name(i)) == 0 && isa_supported(i)) best = i;
      }
    }
    return best;
  }();
  return isa;
}

namespace {
std::atomic<bool> g_small_batch{std::getenv("CJ_NO_SMALL_BATCH") == nullptr};
}  // namespace
void set_small_batch(bool on) { g_small_batch.store(on, std::memory_order_relaxed); }
bool small_batch() { return g_small_batch.load(std::memory_order_relaxed); }

bool get_kernels(DType t, Isa isa, TypeKernels* out) {
  if (!isa_supported(isa)) return false;
  switch (isa) {
    case Isa::Scalar: return get_kernels_scalar(t, out);
    case Isa::Avx2: return get_kernels_avx2(t, out);
    case Isa::Avx512: return get_kernels_avx512(t, out);
  }
  return false;
}

namespace {

// Grows-only 64-byte-aligned scratch, one per calling thread: after the first calls of a given size nothing
// allocates in the token loop.
struct Scratch {
  struct Free {
    void operator()(uint8_t* p) const { ::operator delete[](p, std::align_val_t(64)); }
  };
  std::unique_ptr<uint8_t[], Free> buf;
  size_t cap = 0;
  uint8_t* get(size_t bytes) {
    if (bytes > cap) {
      buf.reset(static_cast<uint8_t*>(::operator new[](bytes, std::align_val_t(64))));
      cap = bytes;
    }
    return buf.get();
  }
};
thread_local Scratch t_scratch;

constexpr int64_t kInlinePrepRows = 16;

struct PrepCtx {
  PrepFn prep;
  const float* X;
  int64_t cols;
  uint8_t* A;
  size_t a_stride;
  int64_t n;
  int64_t rows_per_task;
};

struct GemmCtx {
  GemmFn gemm;
  const void* W;
  size_t w_stride;
  int64_t rows, cols;
  const void* A;
  size_t a_stride;
  int64_t n;
  float* Y;
  int64_t rows_per_task;
};

}  // namespace

void matmul_isa(Isa isa, DType t, const void* W, int64_t rows, int64_t cols, const float* X, int64_t n, float* Y,
                ThreadPool* pool) {
  TypeKernels k;
  if (!get_kernels(t, isa, &k) && !get_kernels(t, Isa::Scalar, &k)) CJ_ASSERT(false && "no kernels for type");
  CJ_ASSERT(cols % dtype_traits(t).block_elems == 0);
  if (rows <= 0 || n <= 0) return;
  const int threads = pool ? pool->size() : 1;

  const void* A = X;
  size_t a_stride = static_cast<size_t>(cols) * 4;
  if (k.prep) {
    a_stride = q::act_row_bytes(k.act, cols);
    uint8_t* buf = t_scratch.get(a_stride * static_cast<size_t>(n));
    PrepCtx pc{k.prep, X, cols, buf, a_stride, n, std::max<int64_t>(1, (n + threads * 4 - 1) / (threads * 4))};
    const int tasks = static_cast<int>((n + pc.rows_per_task - 1) / pc.rows_per_task);
    auto prep_task = [](void* c, int task) {
      auto* p = static_cast<PrepCtx*>(c);
      const int64_t i0 = task * p->rows_per_task, i1 = std::min(p->n, i0 + p->rows_per_task);
      for (int64_t i = i0; i < i1; ++i) p->prep(p->X + i * p->cols, p->A + static_cast<size_t>(i) * p->a_stride, p->cols);
    };
    if (pool && n > kInlinePrepRows) {  // a few rows (a decode step of several sequences): not worth a dispatch
      pool->run(tasks, prep_task, &pc);
    } else {
      for (int i = 0; i < tasks; ++i) prep_task(&pc, i);
    }
    A = buf;
  }

  // Rows in chunks of a multiple of 16 (the SIMD kernels work on row groups), about 8 chunks per thread so that
  // threads slowed by other work are balanced.
  int64_t chunk = (rows + threads * 8 - 1) / (threads * 8);
  chunk = std::max<int64_t>(16, (chunk + 15) / 16 * 16);
  if (threads == 1) chunk = rows;
  GemmCtx gc{k.gemm, W, row_bytes(t, cols), rows, cols, A, a_stride, n, Y, chunk};
  const int tasks = static_cast<int>((rows + chunk - 1) / chunk);
  auto gemm_task = [](void* c, int task) {
    auto* g = static_cast<GemmCtx*>(c);
    const int64_t r0 = task * g->rows_per_task, r1 = std::min(g->rows, r0 + g->rows_per_task);
    g->gemm(g->W, g->w_stride, r0, r1, g->cols, g->A, g->a_stride, g->n, g->Y, g->rows);
  };
  if (pool) {
    pool->run(tasks, gemm_task, &gc);
  } else {
    for (int i = 0; i < tasks; ++i) gemm_task(&gc, i);
  }
}

}  // namespace kern

namespace {
// The kernels matvec uses for type t (the same as matmul: one kernel per type and CPU for every n).
kern::TypeKernels vec_kernels(DType t) {
  kern::TypeKernels k;
  if (!kern::get_kernels(t, kern::active_isa(), &k) && !kern::get_kernels(t, kern::Isa::Scalar, &k))
    CJ_ASSERT(false && "no kernels for type");
  return k;
}
}  // namespace

size_t matvec_prep_bytes(DType t, int64_t cols) {
  kern::TypeKernels k;
  if (!kern::get_kernels(t, kern::Isa::Scalar, &k)) return 0;
  return q::act_row_bytes(k.act, cols);
}

void matvec_prepare(DType t, const float* x, int64_t cols, void* buf) {
  CJ_ASSERT(cols % dtype_traits(t).block_elems == 0);
  const kern::TypeKernels k = vec_kernels(t);
  if (k.prep)
    k.prep(x, buf, cols);
  else
    std::memcpy(buf, x, static_cast<size_t>(cols) * 4);
}

void matvec_rows(DType t, const void* W, int64_t rows, int64_t cols, const void* prepared, float* y) {
  if (rows <= 0) return;
  const kern::TypeKernels k = vec_kernels(t);
  k.gemm(W, row_bytes(t, cols), 0, rows, cols, prepared, matvec_prep_bytes(t, cols), 1, y, rows);
}

void matvec(DType t, const void* W, int64_t rows, int64_t cols, const float* x, float* y, ThreadPool* pool) {
  kern::matmul_isa(kern::active_isa(), t, W, rows, cols, x, 1, y, pool);
}

void matmul(DType t, const void* W, int64_t rows, int64_t cols, const float* X, int64_t n, float* Y, ThreadPool* pool) {
  kern::matmul_isa(kern::active_isa(), t, W, rows, cols, X, n, Y, pool);
}

const char* kernel_isa_name() { return kern::isa_name(kern::active_isa()); }

// ------------------------------------------------------------------------------------------------ grouped

namespace {

// Grow-only arrays of the calling thread (the per-call bookkeeping of matmul_grouped).
template <class T>
struct GrowVec {
  std::unique_ptr<T[]> p;
  size_t cap = 0;
  T* get(size_t n) {
    if (n > cap) {
      p.reset(new T[n]);
      cap = n;
    }
    return p.get();
  }
};

struct JobPlan {
  kern::GemmFn gemm;
  const uint8_t* A;   // prepared input rows
  size_t a_stride;
  size_t w_stride;    // bytes per weight row
  int64_t chunk;      // rows per item
  int64_t items;
  int share;          // index of the job whose prepared input this one uses (itself when it prepares)
  kern::PrepFn prep;
  q::ActFormat act;
  size_t prep_off;    // offset of its prepared rows in the scratch (when it prepares)
};

struct GroupedScratch {
  kern::Scratch prep;    // prepared input rows of every job
  GrowVec<JobPlan> plans;
  GrowVec<int> order;    // jobs by decreasing item cost
  GrowVec<int64_t> first_item;
};
thread_local GroupedScratch t_grouped;

}  // namespace

void matmul_grouped(const GemmJob* jobs, int n_jobs, ThreadPool* pool) {
  if (n_jobs <= 0) return;
  GroupedScratch& S = t_grouped;
  JobPlan* plan = S.plans.get(size_t(n_jobs));
  const int threads = pool ? pool->size() : 1;
  // 1. Kernels and input sharing.
  size_t prep_bytes = 0;
  double total_cost = 0;
  for (int j = 0; j < n_jobs; ++j) {
    const GemmJob& J = jobs[j];
    JobPlan& P = plan[j];
    P = JobPlan{};
    P.share = j;
    if (J.n <= 0 || J.rows <= 0) continue;
    CJ_ASSERT(J.cols % dtype_traits(J.type).block_elems == 0);
    kern::TypeKernels k;
    if (!kern::get_kernels(J.type, kern::active_isa(), &k) && !kern::get_kernels(J.type, kern::Isa::Scalar, &k))
      CJ_ASSERT(false && "no kernels for type");
    P.gemm = k.gemm;
    P.prep = k.prep;
    P.act = k.act;
    P.w_stride = row_bytes(J.type, J.cols);
    for (int i = 0; i < j; ++i) {
      const GemmJob& I = jobs[i];
      if (plan[i].share == i && I.n == J.n && I.X == J.X && I.ldx == J.ldx && I.idx == J.idx && I.cols == J.cols &&
          plan[i].prep == P.prep && plan[i].act == P.act && plan[i].gemm != nullptr) {
        P.share = i;
        break;
      }
    }
    if (P.share == j) {
      if (!P.prep && !J.idx) {  // f32 input used in place
        P.a_stride = J.ldx * 4;
      } else {
        P.a_stride = P.prep ? q::act_row_bytes(P.act, J.cols) : (size_t(J.cols) * 4 + 63) / 64 * 64;
        P.prep_off = prep_bytes;
        prep_bytes += P.a_stride * size_t(J.n);
      }
    }
    total_cost += double(J.rows) * double(P.w_stride) * (1.0 + double(J.n) / 4);
  }
  uint8_t* prep = S.prep.get(std::max<size_t>(prep_bytes, 64));
  // 2. Prepare every distinct input (rows across the pool when there are many).
  int64_t prep_rows = 0;
  for (int j = 0; j < n_jobs; ++j) {
    JobPlan& P = plan[j];
    if (P.share != j || !P.gemm) continue;
    if (!P.prep && !jobs[j].idx) {
      P.A = reinterpret_cast<const uint8_t*>(jobs[j].X);
    } else {
      P.A = prep + P.prep_off;
      prep_rows += jobs[j].n;
    }
  }
  auto prep_row = [&](int j, int64_t i) {
    const GemmJob& J = jobs[j];
    const JobPlan& P = plan[j];
    const float* x = J.X + size_t(J.idx ? J.idx[i] : i) * J.ldx;
    uint8_t* dst = const_cast<uint8_t*>(P.A) + size_t(i) * P.a_stride;
    if (P.prep) P.prep(x, dst, J.cols);
    else std::memcpy(dst, x, size_t(J.cols) * 4);
  };
  if (prep_rows > 0) {
    if (pool && prep_rows > kern::kInlinePrepRows) {
      // Row r of the concatenation of the prepared inputs; tasks of 8 rows.
      const int64_t per = 8;
      const int tasks = int((prep_rows + per - 1) / per);
      pool->parallel_for(tasks, [&](int t) {
        int64_t r0 = t * per, r1 = std::min(prep_rows, r0 + per), base = 0;
        for (int j = 0; j < n_jobs && r0 < r1; ++j) {
          const JobPlan& P = plan[j];
          if (P.share != j || !P.gemm || P.A == reinterpret_cast<const uint8_t*>(jobs[j].X)) continue;
          const int64_t n = jobs[j].n;
          for (int64_t r = std::max(r0, base); r < std::min(r1, base + n); ++r) prep_row(j, r - base);
          base += n;
        }
      });
    } else {
      for (int j = 0; j < n_jobs; ++j) {
        const JobPlan& P = plan[j];
        if (P.share != j || !P.gemm || P.A == reinterpret_cast<const uint8_t*>(jobs[j].X)) continue;
        for (int64_t i = 0; i < jobs[j].n; ++i) prep_row(j, i);
      }
    }
  }
  // 3. Items: each job's rows in chunks (multiples of 16) of about total / (8 threads) cost; jobs of the largest
  // per-row cost first, so that the dynamic hand-out ends with the small items.
  const double target = std::max(1.0, total_cost / (8.0 * threads));
  int* order = S.order.get(size_t(n_jobs));
  int n_active = 0;
  for (int j = 0; j < n_jobs; ++j) {
    JobPlan& P = plan[j];
    if (!P.gemm) continue;
    const GemmJob& J = jobs[j];
    if (P.share != j) {
      P.A = plan[P.share].A;
      P.a_stride = plan[P.share].a_stride;
    }
    const double row_cost = double(P.w_stride) * (1.0 + double(J.n) / 4);
    int64_t chunk = int64_t(target / row_cost);
    chunk = threads == 1 ? J.rows : std::clamp<int64_t>((chunk + 15) / 16 * 16, 16, std::max<int64_t>(16, J.rows));
    P.chunk = chunk;
    P.items = (J.rows + chunk - 1) / chunk;
    order[n_active++] = j;
  }
  auto item_cost = [&](int j) { return double(plan[j].chunk) * double(plan[j].w_stride) * (1.0 + double(jobs[j].n) / 4); };
  for (int a = 1; a < n_active; ++a)  // insertion sort, few jobs
    for (int b = a; b > 0 && item_cost(order[b]) > item_cost(order[b - 1]); --b) std::swap(order[b], order[b - 1]);
  int64_t* first = S.first_item.get(size_t(n_active) + 1);
  first[0] = 0;
  for (int a = 0; a < n_active; ++a) first[a + 1] = first[a] + plan[order[a]].items;
  const int64_t n_items = first[n_active];
  auto run_item = [&](int64_t it) {
    const int a = int(std::upper_bound(first, first + n_active + 1, it) - first) - 1;
    const int j = order[a];
    const GemmJob& J = jobs[j];
    const JobPlan& P = plan[j];
    const int64_t r0 = (it - first[a]) * P.chunk, r1 = std::min(J.rows, r0 + P.chunk);
    P.gemm(J.W, P.w_stride, r0, r1, J.cols, P.A, P.a_stride, J.n, J.Y, int64_t(J.ldy));
  };
  if (pool && n_items > 1) {
    pool->parallel_for(int(n_items), [&](int it) { run_item(it); });
  } else {
    for (int64_t it = 0; it < n_items; ++it) run_item(it);
  }
}

}  // namespace cj
