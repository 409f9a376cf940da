#pragma once
// Hopper backend: the online softmax of one consumer thread's two query rows (rows lane/4 and lane/4 + 8 of its
// warp's 16), over S tiles of 128 keys held in the wgmma accumulator layout: s[4j + e] is row e/2, key
// 8j + 2·(lane % 4) + e % 2. Base 2 with the scale folded in (one ex2.approx per score).
//
// The update is split in two so that the consumer can overlap it with the tensor cores: exponentiate() runs while
// the previous P·V product is still in flight, rescale() once that product has landed in O.

#include <cmath>
#include <cstdint>

#include "device_utils.cuh"

namespace svdit::kernels::detail {

template <int kHeadDim>
struct HopperOnlineSoftmax {
  float scale_log2;  // softmax scale · log2(e)
  float row_max[2] = {-INFINITY, -INFINITY};  // of raw scores q·k (unscaled)
  float row_sum[2] = {0.0f, 0.0f};            // this thread's partial sums; the epilogue reduces them over the quad

  __device__ explicit HopperOnlineSoftmax(float scale) : scale_log2(scale * 1.4426950408889634f) {}

  // Masks keys past S, updates the running max and exponentiates s in place; returns per row the factor the older
  // accumulator and sum must be multiplied by (alpha) and the new block's partial sum. Every key block holds at
  // least one key < S, so the new max is finite and alpha = exp2(old − new) is 0 on the first block.
  __device__ __forceinline__ void exponentiate(float (&s)[64], int key0, int S, int lane, float (&alpha)[2],
                                               float (&sum)[2]) {
    if (key0 + 128 > S) {
#pragma unroll
      for (int j = 0; j < 16; ++j) {
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          if (key0 + j * 8 + 2 * (lane % 4) + (e & 1) >= S) s[4 * j + e] = -INFINITY;
        }
      }
    }
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      float mx = row_max[r];
#pragma unroll
      for (int j = 0; j < 16; ++j) mx = fmaxf(mx, fmaxf(s[4 * j + 2 * r], s[4 * j + 2 * r + 1]));
      mx = quad_max(mx);
      alpha[r] = fast_exp2((row_max[r] - mx) * scale_log2);
      row_max[r] = mx;
      const float shift = mx * scale_log2;
      float acc = 0.0f;
#pragma unroll
      for (int j = 0; j < 16; ++j) {
#pragma unroll
        for (int e = 0; e < 2; ++e) {
          const float x = s[4 * j + 2 * r + e] * scale_log2 - shift;
          s[4 * j + 2 * r + e] = fast_exp2(x);
          acc += s[4 * j + 2 * r + e];
        }
      }
      sum[r] = acc;
    }
  }

  // The first block: nothing to rescale.
  __device__ __forceinline__ void start(const float (&sum)[2]) {
    row_sum[0] = sum[0];
    row_sum[1] = sum[1];
  }

  // Folds a block's sum in and rescales O (flat wgmma accumulator, kHeadDim/2 values) to the new max.
  __device__ __forceinline__ void rescale(float (&o_acc)[kHeadDim / 2], const float (&alpha)[2],
                                          const float (&sum)[2]) {
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      row_sum[r] = row_sum[r] * alpha[r] + sum[r];
#pragma unroll
      for (int j = 0; j < kHeadDim / 8; ++j) {
        o_acc[4 * j + 2 * r] *= alpha[r];
        o_acc[4 * j + 2 * r + 1] *= alpha[r];
      }
    }
  }
};

}  // namespace svdit::kernels::detail
