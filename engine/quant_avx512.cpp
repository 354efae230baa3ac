// AVX-512 (F/BW/VL/DQ + VNNI) kernels (compiled with the matching -m flags; called only when the CPU has them).
#include "engine/quant_kernels.h"

namespace cj::kern {

bool get_kernels_avx512(DType, TypeKernels*) { return false; }

}  // namespace cj::kern
