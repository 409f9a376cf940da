// Error, recall and maps of one self-attention layer, chunked over query rows (see head_measurement.h).

#include "svdit/profiler/head_measurement.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <stdexcept>
#include <string>

#include "svdit/kernels/torch/sparse_attention.h"

namespace svdit::profiler {

namespace ops = svdit::kernels::torch_ops;

struct LayerMeasurer::DeviceState {
  std::vector<at::Tensor> order;        // [orders] int64 [S] layout position → original token (undefined: identity)
  std::vector<at::Tensor> query_block;  // [orders] int64 [S] layout query block of each ORIGINAL row
  at::Tensor masks;                     // [C, G, G] fp32, 1 where the candidate computes the block
  at::Tensor masks_f64;                 // [C, G, G] the same in fp64 (recall)
  std::vector<at::Tensor> order_masks;  // [orders] [Co, G, G] the masks of candidates_of_[o]
  std::vector<at::Tensor> order_index;  // [orders] [Co] int64 their candidate indices
  at::Tensor row_frame;                 // [S] int64 frame of each original row; F for text rows (dropped)
  at::Tensor rows_per_block;            // [G, 1] fp64 query rows in each block of the original order
  // Kernel path, uploaded on first use for a head count.
  int64_t kernel_heads = 0;
  std::vector<ops::DeviceLayouts> kernel_layouts;  // [C] (empty entries for skip and full layouts)
  ops::DeviceLayouts dense_layouts;
};

namespace {

at::Tensor int64_tensor(const std::vector<int64_t>& values, at::Device device) {
  at::Tensor host = at::empty({static_cast<int64_t>(values.size())}, at::TensorOptions().dtype(at::kLong));  // [n]
  std::copy(values.begin(), values.end(), host.data_ptr<int64_t>());
  return host.to(device);
}

// Softmax restricted to the key blocks W selects, from the per-block partial sums of the dense probabilities:
// row i = Σ_kb W[i,kb]·Y[i,kb,:] / Σ_kb W[i,kb]·m[i,kb]; a row with no selected mass outputs 0 (as the kernel does).
at::Tensor restricted_output(const at::Tensor& W,   // [n, G] 0/1
                             const at::Tensor& Y,   // [n, G, D] Σ_{j in kb} p_ij v_j
                             const at::Tensor& m) {  // [n, G] Σ_{j in kb} p_ij
  const at::Tensor num = (Y * W.unsqueeze(2)).sum(1);            // [n, D]
  const at::Tensor den = (W * m).sum(1, /*keepdim=*/true);       // [n, 1]
  return num.div(den.clamp_min(FLT_MIN)).masked_fill_(den <= 0, 0.0);  // [n, D]
}

void check_qkv(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int64_t seq_len) {
  if (q.dim() != 4 || q.size(0) != 1 || q.size(1) != seq_len || k.sizes() != q.sizes() || v.sizes() != q.sizes()) {
    throw std::invalid_argument("LayerMeasurer: expected q, k, v of shape [1, S = " + std::to_string(seq_len) +
                                ", H, D], found q " + c10::str(q.sizes()) + ", k " + c10::str(k.sizes()) + ", v " +
                                c10::str(v.sizes()));
  }
}

}  // namespace

int64_t chunk_rows(int64_t seq_len, int64_t head_dim, int64_t block_size, int64_t chunk_bytes) {
  const int64_t blocks = (seq_len + block_size - 1) / block_size;
  // scores, probabilities, a permuted and a padded copy ([G·b] each), Y and its transpose ([G, D] each), outputs.
  const int64_t floats_per_row = 4 * blocks * block_size + 2 * blocks * head_dim + 4 * head_dim;
  return std::clamp<int64_t>(chunk_bytes / (4 * floats_per_row), 1, seq_len);
}

LayerMeasurer::LayerMeasurer(const data::TokenLayout& layout, std::vector<data::BlockLayout> layouts,
                             MeasureOptions options)
    : layout_(layout), layouts_(std::move(layouts)), options_(options) {
  if (layouts_.empty()) throw std::invalid_argument("LayerMeasurer: no candidate layouts");
  orders_.emplace_back();  // the identity
  for (const data::BlockLayout& bl : layouts_) {
    if (bl.seq_len != layout_.seq_len() || bl.block_size != layout_.block_size) {
      throw std::invalid_argument("LayerMeasurer: a candidate layout was compiled for S = " +
                                  std::to_string(bl.seq_len) + ", b = " + std::to_string(bl.block_size) +
                                  ", the token layout has S = " + std::to_string(layout_.seq_len()) +
                                  ", b = " + std::to_string(layout_.block_size));
    }
    // An order that happens to be the identity (a stripe of the first columns) is the identity.
    std::vector<int32_t> order = bl.order;
    bool identity = true;
    for (size_t l = 0; identity && l < order.size(); ++l) identity = order[l] == static_cast<int32_t>(l);
    if (identity) order.clear();
    const auto it = std::find(orders_.begin(), orders_.end(), order);
    order_of_.push_back(static_cast<size_t>(it - orders_.begin()));
    if (it == orders_.end()) orders_.push_back(std::move(order));
    full_.push_back(!bl.skip && identity && bl.computed_blocks() == bl.num_blocks * bl.num_blocks);
  }
  // The candidates measured through each order (skip and full layouts are exact without computing).
  candidates_of_.resize(orders_.size());
  for (size_t c = 0; c < layouts_.size(); ++c) {
    if (!layouts_[c].skip && !full_[c]) candidates_of_[order_of_[c]].push_back(static_cast<int64_t>(c));
  }
}

LayerMeasurer::~LayerMeasurer() = default;

LayerMeasurer::DeviceState& LayerMeasurer::device_state(at::Device device) {
  std::unique_ptr<DeviceState>& slot = devices_[device.str()];
  if (slot) return *slot;
  auto ds = std::make_unique<DeviceState>();
  const int64_t S = layout_.seq_len(), b = layout_.block_size, G = layout_.num_blocks();
  for (const std::vector<int32_t>& order : orders_) {
    std::vector<int64_t> query_block(static_cast<size_t>(S));
    if (order.empty()) {
      for (int64_t i = 0; i < S; ++i) query_block[static_cast<size_t>(i)] = i / b;
      ds->order.emplace_back();
    } else {
      for (int64_t l = 0; l < S; ++l) query_block[static_cast<size_t>(order[static_cast<size_t>(l)])] = l / b;
      ds->order.push_back(int64_tensor(std::vector<int64_t>(order.begin(), order.end()), device));
    }
    ds->query_block.push_back(int64_tensor(query_block, device));
  }
  const auto C = static_cast<int64_t>(layouts_.size());
  at::Tensor masks = at::zeros({C, G, G}, at::TensorOptions().dtype(at::kFloat));  // [C, G, G]
  auto mask_data = masks.accessor<float, 3>();
  for (int64_t c = 0; c < C; ++c) {
    const data::BlockLayout& bl = layouts_[static_cast<size_t>(c)];
    if (bl.skip) continue;
    for (int64_t qb = 0; qb < G; ++qb) {
      for (const int32_t kb : bl.keys_of(qb)) mask_data[c][qb][kb] = 1.0f;
    }
  }
  ds->masks = masks.to(device);
  ds->masks_f64 = ds->masks.to(at::kDouble);
  for (const std::vector<int64_t>& members : candidates_of_) {
    const at::Tensor index = int64_tensor(members, device);                    // [Co]
    ds->order_index.push_back(index);
    ds->order_masks.push_back(ds->masks.index_select(0, index).contiguous());  // [Co, G, G]
  }
  std::vector<int64_t> row_frame(static_cast<size_t>(S), layout_.frames);
  for (int64_t i = layout_.video_begin(); i < layout_.video_end(); ++i) {
    row_frame[static_cast<size_t>(i)] = (i - layout_.video_begin()) / layout_.tokens_per_frame();
  }
  ds->row_frame = int64_tensor(row_frame, device);
  at::Tensor rows = at::full({G, 1}, static_cast<double>(b), at::TensorOptions().dtype(at::kDouble));  // [G, 1]
  rows[G - 1][0] = static_cast<double>(S - (G - 1) * b);
  ds->rows_per_block = rows.to(device);
  slot = std::move(ds);
  return *slot;
}

bool LayerMeasurer::uses_kernel(const at::Tensor& q) const {
  if (options_.error_path == ErrorPath::reference) return false;
  const bool kernels_built = ops::sparse_attention_runs_on(c10::DeviceType::CUDA);
  const bool can = q.is_cuda() && kernels_built &&
                   (q.scalar_type() == at::kBFloat16 || q.scalar_type() == at::kHalf) &&
                   (q.size(3) == 64 || q.size(3) == 128);
  if (!can && options_.error_path == ErrorPath::kernel) {
    throw std::invalid_argument(
        "LayerMeasurer: the kernel error path needs CUDA tensors in bf16 or fp16 with head_dim 64 or 128 and a "
        "build with the CUDA kernels; found " + q.device().str() + ", " + c10::toString(q.scalar_type()) +
        ", head_dim " + std::to_string(q.size(3)) + (kernels_built ? "" : ", no kernels built"));
  }
  return can;
}

LayerMeasurement LayerMeasurer::measure(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, bool errors,
                                        bool maps) {
  const c10::InferenceMode inference;
  check_qkv(q, k, v, layout_.seq_len());
  LayerMeasurement out;
  out.heads = q.size(2);
  out.candidates = num_candidates();
  out.blocks = layout_.num_blocks();
  out.frames = layout_.frames;
  const auto HC = static_cast<size_t>(out.heads * out.candidates);
  if (errors) {
    out.error.assign(HC, 0.0f);
    out.recall.assign(HC, 0.0f);
  }
  if (maps) {
    out.pooled.assign(static_cast<size_t>(out.heads * out.blocks * out.blocks), 0.0f);
    out.frame_map.assign(static_cast<size_t>(out.heads * out.frames * out.frames), 0.0f);
  }
  if (!errors && !maps) return out;
  const bool kernel = errors && uses_kernel(q);
  if (kernel) kernel_errors(q, k, v, out);
  for (int64_t h = 0; h < out.heads; ++h) measure_head(q, k, v, h, errors, errors && !kernel, maps, out);
  return out;
}

void LayerMeasurer::measure_head(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int64_t head,
                                 bool errors, bool reference_errors, bool maps, LayerMeasurement& out) {
  DeviceState& ds = device_state(q.device());
  const int64_t S = layout_.seq_len(), b = layout_.block_size, G = layout_.num_blocks();
  const int64_t F = layout_.frames, P = layout_.tokens_per_frame(), T0 = layout_.text_prefix;
  const int64_t D = q.size(3), C = num_candidates(), pad = G * b - S;
  const double scale = 1.0 / std::sqrt(static_cast<double>(D));
  const at::Tensor qh = q.select(0, 0).select(1, head).to(at::kFloat);  // [S, D]
  const at::Tensor kt = k.select(0, 0).select(1, head).to(at::kFloat).t();  // [D, S]
  const at::Tensor vh = v.select(0, 0).select(1, head).to(at::kFloat);  // [S, D]
  const at::TensorOptions f64 = at::TensorOptions().dtype(at::kDouble).device(q.device());

  // Which token orders this head needs: all the candidates' for recall and errors, the identity for the maps.
  const size_t num_orders = errors ? orders_.size() : 1;
  std::vector<at::Tensor> mass;  // [orders] [G, G] fp64 block mass in layout order
  for (size_t o = 0; o < num_orders; ++o) mass.push_back(at::zeros({G, G}, f64));
  at::Tensor frames_acc = maps ? at::zeros({F + 1, F}, f64) : at::Tensor();  // [F + 1, F]; row F: text rows
  at::Tensor err_acc, ref_acc;
  std::vector<at::Tensor> v_blocks;  // [orders] [G, b, D] v in layout order, zero-padded
  if (reference_errors) {
    err_acc = at::zeros({C}, f64);  // [C]
    ref_acc = at::zeros({}, f64);   // []
    for (size_t o = 0; o < num_orders; ++o) {
      at::Tensor vo = ds.order[o].defined() ? vh.index_select(0, ds.order[o]) : vh;  // [S, D]
      if (pad > 0) vo = at::constant_pad_nd(vo, {0, 0, 0, pad});                    // [G·b, D]
      v_blocks.push_back(vo.reshape({G, b, D}));                                    // [G, b, D]
    }
  }

  const int64_t R = chunk_rows(S, D, b, options_.chunk_bytes);
  for (int64_t r0 = 0; r0 < S; r0 += R) {
    const int64_t n = std::min(R, S - r0);
    at::Tensor p = at::matmul(qh.narrow(0, r0, n), kt).mul_(scale);  // [n, S] scores
    p = at::softmax(p, 1);                                            // [n, S] dense probabilities
    if (maps) {
      const at::Tensor per_frame = p.narrow(1, T0, F * P).reshape({n, F, P}).sum(2);  // [n, F]
      frames_acc.index_add_(0, ds.row_frame.narrow(0, r0, n), per_frame.to(at::kDouble));
    }
    at::Tensor reference;  // [n, D] the dense output rows (order 0, every block)
    for (size_t o = 0; o < num_orders; ++o) {
      at::Tensor po = ds.order[o].defined() ? p.index_select(1, ds.order[o]) : p;  // [n, S] layout order
      if (pad > 0) po = at::constant_pad_nd(po, {0, pad});                       // [n, G·b]
      const at::Tensor pb = po.view({n, G, b});                                  // [n, G, b]
      const at::Tensor m = pb.sum(2);                                            // [n, G]
      const at::Tensor qb = ds.query_block[o].narrow(0, r0, n);                  // [n]
      mass[o].index_add_(0, qb, m.to(at::kDouble));
      if (!reference_errors) continue;
      const at::Tensor Y = at::bmm(pb.transpose(0, 1), v_blocks[o]).transpose(0, 1).contiguous();  // [n, G, D]
      if (o == 0) {
        reference = restricted_output(at::ones({n, G}, m.options()), Y, m);  // [n, D]
        ref_acc.add_(reference.square().sum());
      }
      if (candidates_of_[o].empty()) continue;
      // Every candidate of this order at once: W[c, i, kb] = 1 when c computes block kb for row i's query block.
      const at::Tensor W = ds.order_masks[o].index_select(1, qb).permute({1, 0, 2});  // [n, Co, G]
      const at::Tensor num = at::bmm(W, Y);                                           // [n, Co, D]
      const at::Tensor den = at::bmm(W, m.unsqueeze(2));                              // [n, Co, 1]
      const at::Tensor out_rows = num.div(den.clamp_min(FLT_MIN)).masked_fill_(den <= 0, 0.0);  // [n, Co, D]
      const at::Tensor sq = (out_rows - reference.unsqueeze(1)).square().sum(at::IntArrayRef{0, 2});         // [Co]
      err_acc.index_add_(0, ds.order_index[o], sq.to(at::kDouble));
    }
  }

  const auto h = static_cast<size_t>(head);
  if (errors) {
    std::vector<at::Tensor> per_candidate;
    for (int64_t c = 0; c < C; ++c) per_candidate.push_back(mass[order_of_[static_cast<size_t>(c)]]);
    const at::Tensor recall =
        (at::stack(per_candidate) * ds.masks_f64).sum({1, 2}).div(static_cast<double>(S)).cpu();  // [C]
    const double ref = reference_errors ? ref_acc.item<double>() : 0.0;
    const at::Tensor err = reference_errors ? err_acc.cpu() : at::Tensor();  // [C]
    for (int64_t c = 0; c < C; ++c) {
      const auto cu = static_cast<size_t>(c);
      // Every block kept: all the mass, exactly (the sum would be 1 up to rounding); otherwise clamped, as float
      // rounding of a near-complete layout may pass 1.
      out.recall[h * static_cast<size_t>(C) + cu] =
          full_[cu] ? 1.0f : static_cast<float>(std::clamp(recall[c].item<double>(), 0.0, 1.0));
      if (!reference_errors) continue;
      double e = 0.0;
      if (layouts_[cu].skip) {
        e = ref > 0 ? 1.0 : 0.0;  // ‖0 − O‖² / ‖O‖²
      } else if (!full_[cu]) {
        const double diff = err[c].item<double>();
        e = ref > 0 ? diff / ref : (diff > 0 ? INFINITY : 0.0);
      }  // a full layout is the reference computation itself: 0
      out.error[h * static_cast<size_t>(C) + cu] = static_cast<float>(e);
    }
  }
  if (maps) {
    const at::Tensor pooled = mass[0].div(ds.rows_per_block).to(at::kFloat).cpu().contiguous();  // [G, G]
    std::copy_n(pooled.const_data_ptr<float>(), G * G, out.pooled.begin() + static_cast<std::ptrdiff_t>(h * G * G));
    const at::Tensor frames =
        frames_acc.narrow(0, 0, F).div(static_cast<double>(P)).to(at::kFloat).cpu().contiguous();  // [F, F]
    std::copy_n(frames.const_data_ptr<float>(), F * F,
                out.frame_map.begin() + static_cast<std::ptrdiff_t>(h * F * F));
  }
}

void LayerMeasurer::kernel_errors(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                  LayerMeasurement& out) {
  DeviceState& ds = device_state(q.device());
  const int64_t H = q.size(2), C = num_candidates();
  if (ds.kernel_heads != H) {
    ds.kernel_layouts.clear();
    for (int64_t c = 0; c < C; ++c) {
      const data::BlockLayout& bl = layouts_[static_cast<size_t>(c)];
      if (bl.skip || full_[static_cast<size_t>(c)]) {
        ds.kernel_layouts.emplace_back();
        continue;
      }
      ds.kernel_layouts.push_back(
          ops::prepare_layouts(std::vector<const data::BlockLayout*>(static_cast<size_t>(H), &bl), q.device()));
    }
    const data::BlockLayout dense = data::compile_pattern(data::make_pattern({data::dense_component()}), layout_);
    ds.dense_layouts =
        ops::prepare_layouts(std::vector<const data::BlockLayout*>(static_cast<size_t>(H), &dense), q.device());
    ds.kernel_heads = H;
  }
  const at::Tensor qc = q.contiguous(), kc = k.contiguous(), vc = v.contiguous();  // [1, S, H, D]
  auto run = [&](const ops::DeviceLayouts& l) {
    return ops::sparse_attention(qc, kc, vc, l).out.to(at::kFloat);  // [1, S, H, D]
  };
  const at::Tensor reference = run(ds.dense_layouts);                                  // [1, S, H, D] fp32
  const at::Tensor ref = reference.square().sum({0, 1, 3}).to(at::kDouble).cpu();       // [H]
  std::vector<at::Tensor> diffs(static_cast<size_t>(C));
  for (int64_t c = 0; c < C; ++c) {
    const auto cu = static_cast<size_t>(c);
    if (layouts_[cu].skip || full_[cu]) continue;
    diffs[cu] = (run(ds.kernel_layouts[cu]) - reference).square().sum({0, 1, 3}).to(at::kDouble);  // [H]
  }
  for (int64_t c = 0; c < C; ++c) {
    const auto cu = static_cast<size_t>(c);
    const at::Tensor d = diffs[cu].defined() ? diffs[cu].cpu() : at::Tensor();
    for (int64_t h = 0; h < H; ++h) {
      const double r = ref[h].item<double>();
      double e = 0.0;
      if (layouts_[cu].skip) {
        e = r > 0 ? 1.0 : 0.0;
      } else if (d.defined()) {
        const double x = d[h].item<double>();
        e = r > 0 ? x / r : (x > 0 ? INFINITY : 0.0);
      }
      out.error[static_cast<size_t>(h * C + c)] = static_cast<float>(e);
    }
  }
}

std::vector<double> column_mass(const at::Tensor& q, const at::Tensor& k, int64_t chunk_bytes) {
  const c10::InferenceMode inference;
  if (q.dim() != 4 || q.size(0) != 1 || k.sizes() != q.sizes()) {
    throw std::invalid_argument("column_mass: expected q, k of shape [1, S, H, D], found q " + c10::str(q.sizes()) +
                                ", k " + c10::str(k.sizes()));
  }
  const int64_t S = q.size(1), H = q.size(2), D = q.size(3);
  const double scale = 1.0 / std::sqrt(static_cast<double>(D));
  const int64_t R = std::clamp<int64_t>(chunk_bytes / (4 * 3 * S), 1, S);
  at::Tensor total = at::zeros({S}, at::TensorOptions().dtype(at::kDouble).device(q.device()));  // [S]
  for (int64_t h = 0; h < H; ++h) {
    const at::Tensor qh = q.select(0, 0).select(1, h).to(at::kFloat);      // [S, D]
    const at::Tensor kt = k.select(0, 0).select(1, h).to(at::kFloat).t();  // [D, S]
    for (int64_t r0 = 0; r0 < S; r0 += R) {
      const int64_t n = std::min(R, S - r0);
      const at::Tensor p = at::softmax(at::matmul(qh.narrow(0, r0, n), kt).mul_(scale), 1);  // [n, S]
      total.add_(p.sum(0).to(at::kDouble));
    }
  }
  const at::Tensor host = total.cpu().contiguous();  // [S]
  return std::vector<double>(host.const_data_ptr<double>(), host.const_data_ptr<double>() + S);
}

}  // namespace svdit::profiler
