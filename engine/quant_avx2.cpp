// AVX2 + FMA + F16C kernels (compiled with -mavx2 -mfma -mf16c; called only when the CPU has them).
#include "engine/quant_kernels.h"

namespace cj::kern {

bool get_kernels_avx2(DType, TypeKernels*) { return false; }

}  // namespace cj::kern
