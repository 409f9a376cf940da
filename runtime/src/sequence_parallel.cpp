// Head-parallel (Ulysses) self-attention and the token shards around it (see sequence_parallel.h).

#include "svdit/runtime/sequence_parallel.h"

#include <ATen/ATen.h>

#include <stdexcept>
#include <string>

namespace svdit::runtime {

SequenceParallel::SequenceParallel(DistributedGroup& group, AttentionBackend* inner, HeadPlacement placement,
                                   int64_t layers, int64_t heads)
    : group_(group), inner_(inner), placement_(std::move(placement)), layers_(layers), heads_(heads) {
  if (placement_.empty()) placement_ = contiguous_head_placement(layers, heads, group.world_size());
  if (static_cast<int64_t>(placement_.size()) != layers) {
    throw std::invalid_argument("head placement: expected " + std::to_string(layers) + " layers, found " +
                                std::to_string(placement_.size()));
  }
  heads_of_.assign(static_cast<size_t>(layers), std::vector<std::vector<int64_t>>(static_cast<size_t>(ranks())));
  for (int64_t l = 0; l < layers; ++l) {
    const std::vector<int32_t>& row = placement_[static_cast<size_t>(l)];
    if (static_cast<int64_t>(row.size()) != heads) {
      throw std::invalid_argument("head placement: layer " + std::to_string(l) + ": expected " +
                                  std::to_string(heads) + " heads, found " + std::to_string(row.size()));
    }
    for (int64_t h = 0; h < heads; ++h) {
      const int32_t r = row[static_cast<size_t>(h)];
      if (r < 0 || r >= ranks()) {
        throw std::invalid_argument("head placement: layer " + std::to_string(l) + " head " + std::to_string(h) +
                                    ": rank " + std::to_string(r) + " outside [0, " + std::to_string(ranks()) +
                                    ")");
      }
      heads_of_[static_cast<size_t>(l)][static_cast<size_t>(r)].push_back(h);
    }
  }
}

std::string SequenceParallel::name() const {
  return "sequence-parallel(" + std::to_string(ranks()) + " " + group_.backend() + " ranks, " +
         (inner_ ? inner_->name() : std::string("dense")) + ")";
}

std::pair<int64_t, int64_t> SequenceParallel::token_range(int64_t S) const {
  const std::vector<int64_t> sizes = even_split(S, ranks());
  int64_t begin = 0;
  for (int r = 0; r < rank(); ++r) begin += sizes[static_cast<size_t>(r)];
  return {begin, begin + sizes[static_cast<size_t>(rank())]};
}

at::Tensor SequenceParallel::gather_tokens(const at::Tensor& shard, int64_t S, const std::string& what) {
  const std::vector<int64_t> tokens = even_split(S, ranks());
  const int64_t B = shard.size(0), per_token = shard.numel() / std::max<int64_t>(1, B * shard.size(1));
  std::vector<int64_t> counts;
  for (const int64_t t : tokens) counts.push_back(B * t * per_token);
  const at::Tensor all = group_.all_gather(shard.contiguous().view({-1}), counts, what);
  std::vector<at::Tensor> parts;
  int64_t offset = 0;
  std::vector<int64_t> shape = shard.sizes().vec();
  for (size_t r = 0; r < tokens.size(); ++r) {
    shape[1] = tokens[r];
    parts.push_back(all.narrow(0, offset, counts[r]).view(shape));
    offset += counts[r];
  }
  return at::cat(parts, 1);  // [B, S, ...]
}

at::Tensor SequenceParallel::self_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                            const SelfAttentionCall& call) {
  if (call.heads != nullptr) throw std::invalid_argument("sequence parallel: the heads are this backend's to place");
  if (call.layer < 0 || call.layer >= layers_ || q.dim() != 4 || q.size(2) != heads_) {
    throw std::invalid_argument("sequence parallel: expected layer in [0, " + std::to_string(layers_) +
                                ") and q of [B, S_r, " + std::to_string(heads_) + ", D], found layer " +
                                std::to_string(call.layer) + " and " + c10::str(q.sizes()));
  }
  const int n = ranks(), me = rank();
  const int64_t B = q.size(0), D = q.size(3), S_me = q.size(1);
  const int64_t S = call.layout ? call.layout->seq_len() : S_me * n;
  const std::vector<int64_t> tokens = even_split(S, n);
  if (tokens[static_cast<size_t>(me)] != S_me) {
    throw std::invalid_argument("sequence parallel: rank " + std::to_string(me) + " expected " +
                                std::to_string(tokens[static_cast<size_t>(me)]) + " of the " + std::to_string(S) +
                                " tokens, found " + std::to_string(S_me));
  }
  const std::vector<std::vector<int64_t>>& heads_of = heads_of_[static_cast<size_t>(call.layer)];
  const int64_t H_me = static_cast<int64_t>(heads_of[static_cast<size_t>(me)].size());
  const auto idx = [&](int r) {
    return at::tensor(heads_of[static_cast<size_t>(r)], at::TensorOptions().dtype(at::kLong)).to(q.device());
  };
  const std::string what = "self-attention of layer " + std::to_string(call.layer) + " at step " +
                           std::to_string(call.step);

  // Tokens → heads: rank j gets q, k, v of this rank's tokens and j's heads, packed as [3, B, S_me, H_j, D].
  const at::Tensor qkv = at::stack({q, k, v});  // [3, B, S_me, H, D]
  std::vector<at::Tensor> send;
  std::vector<int64_t> send_counts, recv_counts;
  for (int j = 0; j < n; ++j) {
    const int64_t H_j = static_cast<int64_t>(heads_of[static_cast<size_t>(j)].size());
    send.push_back(qkv.index_select(3, idx(j)).reshape({-1}));
    send_counts.push_back(3 * B * S_me * H_j * D);
    recv_counts.push_back(3 * B * tokens[static_cast<size_t>(j)] * H_me * D);
  }
  const at::Tensor got = group_.all_to_all(at::cat(send), send_counts, recv_counts, what + ", tokens to heads");
  std::vector<at::Tensor> parts;
  int64_t offset = 0;
  for (int i = 0; i < n; ++i) {
    parts.push_back(got.narrow(0, offset, recv_counts[static_cast<size_t>(i)])
                        .view({3, B, tokens[static_cast<size_t>(i)], H_me, D}));
    offset += recv_counts[static_cast<size_t>(i)];
  }
  const at::Tensor full = at::cat(parts, 2);  // [3, B, S, H_me, D]: every token, in order, of this rank's heads

  at::Tensor out;  // [B, S, H_me, D]
  if (H_me == 0) {
    out = at::empty({B, S, 0, D}, q.options());
  } else {
    SelfAttentionCall inner_call = call;
    inner_call.heads = &heads_of[static_cast<size_t>(me)];
    const at::Tensor qh = full.select(0, 0), kh = full.select(0, 1), vh = full.select(0, 2);
    out = inner_ ? inner_->self_attention(qh, kh, vh, inner_call) : dense_attention(qh, kh, vh);
  }

  // Heads → tokens: rank i gets its tokens of this rank's heads; the parts come back ordered by rank, so the
  // heads are in the order of concat(heads_of) and go back to their places with one index_copy.
  std::vector<at::Tensor> back;
  std::vector<int64_t> back_send, back_recv;
  int64_t begin = 0;
  for (int i = 0; i < n; ++i) {
    const int64_t S_i = tokens[static_cast<size_t>(i)];
    back.push_back(out.narrow(1, begin, S_i).reshape({-1}));
    begin += S_i;
    back_send.push_back(B * S_i * H_me * D);
    back_recv.push_back(B * S_me * static_cast<int64_t>(heads_of[static_cast<size_t>(i)].size()) * D);
  }
  const at::Tensor returned =
      group_.all_to_all(at::cat(back).to(q.scalar_type()), back_send, back_recv, what + ", heads to tokens");
  std::vector<at::Tensor> pieces;
  std::vector<int64_t> order;
  offset = 0;
  for (int j = 0; j < n; ++j) {
    const std::vector<int64_t>& hj = heads_of[static_cast<size_t>(j)];
    pieces.push_back(returned.narrow(0, offset, back_recv[static_cast<size_t>(j)])
                         .view({B, S_me, static_cast<int64_t>(hj.size()), D}));
    offset += back_recv[static_cast<size_t>(j)];
    order.insert(order.end(), hj.begin(), hj.end());
  }
  const at::Tensor order_t = at::tensor(order, at::TensorOptions().dtype(at::kLong)).to(q.device());
  return at::empty_like(q).index_copy_(2, order_t, at::cat(pieces, 2));  // [B, S_me, H, D]
}

}  // namespace svdit::runtime
