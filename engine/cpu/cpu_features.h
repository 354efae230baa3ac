// CPU feature detection for choosing SIMD kernels at run time.
#pragma once

namespace cj {

struct CpuFeatures {
  bool avx2 = false;        // with FMA and F16C (the AVX2 kernels need all three)
  bool avx512 = false;      // AVX-512 F, BW, VL, DQ (the AVX-512 kernels need all four)
  bool avx512_vnni = false; // VPDPBUSD
  bool avx512_bf16 = false; // VDPBF16PS
  bool avx512_vbmi = false; // VPERMB / VPERMT2B (byte permutes)
};

// Detected once (cpuid + OS support of the register state).
const CpuFeatures& cpu_features();

}  // namespace cj
