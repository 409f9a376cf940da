#pragma once
// Portable backend: the order in which a CTA visits key tiles (its scheduler).

#include <climits>
#include <cstdint>

namespace svdit::kernels::detail {

// Walks the 64-row key tiles a CTA must load, with a 2-bit mask of which half of the CTA (warps 0–3: query
// block 2t, warps 4–7: block 2t+1; b = 64 only) computes each tile.
struct KeyTileWalker {
  const int32_t* blocks;
  int a, a_end, b, b_end;
  bool wide;  // b = 128: both halves share one list
  int sub = 0;

  __device__ bool next(int& tile, unsigned& mask) {
    if (wide) {
      if (a >= a_end) return false;
      tile = blocks[a] * 2 + sub;
      mask = 3u;
      if (++sub == 2) {
        sub = 0;
        ++a;
      }
      return true;
    }
    const int ka = a < a_end ? __ldg(blocks + a) : INT_MAX;
    const int kb = b < b_end ? __ldg(blocks + b) : INT_MAX;
    if (ka == INT_MAX && kb == INT_MAX) return false;
    const int k = min(ka, kb);
    mask = (ka == k ? 1u : 0u) | (kb == k ? 2u : 0u);
    a += ka == k;
    b += kb == k;
    tile = k;
    return true;
  }
};

}  // namespace svdit::kernels::detail
