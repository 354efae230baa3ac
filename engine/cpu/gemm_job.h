// A GemmJob (quant.h: one product of a grouped dispatch) for a weight matrix of the model.
#pragma once
#include <cstddef>
#include <cstdint>

#include "engine/cpu/quant.h"
#include "engine/model/model.h"

namespace cj {

// Y[i, :] = W · X[idx ? idx[i] : i, :] for i < n; X rows ldx floats apart, Y rows ldy floats apart.
inline GemmJob gemm_job(const WeightView& w, const float* X, size_t ldx, const int32_t* idx, int64_t n, float* Y,
                        size_t ldy) {
  GemmJob J;
  J.type = w.type;
  J.W = w.data;
  J.rows = w.rows;
  J.cols = w.cols;
  J.X = X;
  J.ldx = ldx;
  J.idx = idx;
  J.n = n;
  J.Y = Y;
  J.ldy = ldy;
  return J;
}

}  // namespace cj
