#pragma once
// Sequence parallelism with head-parallel (Ulysses) self-attention over a DistributedGroup (docs/RUNTIME.md
// "Sequence parallel"). Each of the N ranks holds a contiguous shard of the S video tokens through the whole DiT
// block (modulation, projections, RMSNorm, RoPE, cross-attention, FFN are per token); only self-attention needs
// every token, so around it one all-to-all turns [B, S_r, H, D] token shards into [B, S, H_r, D] head shards
// (every token, the heads placed on this rank), the inner backend (dense or the plan, restricted to those heads)
// runs, and a second all-to-all turns the result back. Before unpatchify the token shards are all-gathered.
//
// Uneven sizes are split, not padded: rank r holds even_split(S, N)[r] tokens (the first S mod N ranks one more),
// and a layer's heads go where the placement says (any count per rank, zero included), so no rank computes on
// padding and the result is the single-process one up to the order of floating-point sums.

#include <cstdint>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

#include "svdit/data/head_placement.h"
#include "svdit/runtime/attention_backend.h"
#include "svdit/runtime/distributed.h"

namespace svdit::runtime {

// The split rules live in data/head_placement.h, shared with the search that writes a plan's placement:
// even_split (token shards, the contiguous head split), contiguous_head_placement, and head_placement(plan, N),
// which gives a run over N ranks the plan's placement when it was made for N ranks, the contiguous split otherwise.
using data::contiguous_head_placement;
using data::even_split;
using data::HeadPlacement;  // placement[layer][head] = the rank that runs that head's self-attention

class SequenceParallel final : public AttentionBackend {
 public:
  // `inner` runs this rank's heads (null: dense). `placement` is [layers][heads] with every rank in [0, N); empty:
  // the contiguous placement. Throws std::invalid_argument naming the layer and head of a bad entry.
  SequenceParallel(DistributedGroup& group, AttentionBackend* inner, HeadPlacement placement, int64_t layers,
                   int64_t heads);

  std::string name() const override;
  int rank() const { return group_.rank(); }
  int ranks() const { return group_.world_size(); }
  const HeadPlacement& placement() const { return placement_; }

  // This rank's tokens [begin, end) of S.
  std::pair<int64_t, int64_t> token_range(int64_t S) const;
  // [B, S_r, X] on every rank → [B, S, X] on every rank (X any trailing size; the same dtype everywhere).
  at::Tensor gather_tokens(const at::Tensor& shard, int64_t S, const std::string& what);

  // q, k, v: [B, S_r, H, D] this rank's token shard, RoPE applied; returns [B, S_r, H, D]. call.layout is the
  // full video's; call.heads must be null (this backend decides the heads).
  at::Tensor self_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                            const SelfAttentionCall& call) override;

 private:
  DistributedGroup& group_;
  AttentionBackend* inner_;
  HeadPlacement placement_;
  int64_t layers_, heads_;
  std::vector<std::vector<std::vector<int64_t>>> heads_of_;  // [layer][rank] → the model's head indices, ascending
};

}  // namespace svdit::runtime
