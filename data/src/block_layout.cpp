// Compilation of a pattern to a block layout (see block_layout.h for the layout order and what is selected).
//
// Instead of testing every (query, key) pair, each query block is split into runs of rows that are consecutive
// in one video coordinate (same frame and consecutive positions, or same position and consecutive frames). For
// such a run every component's key set is a union of a few "rectangles" {f in [fa, fb], p in [pa, pb]}, and a
// rectangle maps to a few contiguous ranges of layout positions, i.e. ranges of key blocks. compile_pattern_brute_force
// checks this against attends() pair by pair in the tests.
#include "svdit/data/block_layout.h"

#include <algorithm>
#include <limits>

#include "svdit/data/error.h"

namespace svdit::data {

double BlockLayout::block_density() const {
  if (num_blocks == 0) return 0.0;
  return static_cast<double>(computed_blocks()) / (static_cast<double>(num_blocks) * static_cast<double>(num_blocks));
}

std::span<const int32_t> BlockLayout::keys_of(int64_t query_block) const {
  const auto begin = static_cast<size_t>(row_begin[static_cast<size_t>(query_block)]);
  const auto end = static_cast<size_t>(row_begin[static_cast<size_t>(query_block) + 1]);
  return std::span<const int32_t>(key_blocks).subspan(begin, end - begin);
}

std::vector<int32_t> inverse_permutation(const std::vector<int32_t>& order) {
  std::vector<int32_t> inverse(order.size());
  for (size_t l = 0; l < order.size(); ++l) inverse[static_cast<size_t>(order[l])] = static_cast<int32_t>(l);
  return inverse;
}

namespace {

// The token order a pattern is computed in, and the maps from body coordinates to layout positions.
struct LayoutOrder {
  bool position_major = false;       // body order p·F + f instead of f·P + p
  int64_t gathered = 0;              // G: stripe video tokens moved in front of the body
  std::vector<int32_t> order;        // [S] layout position -> original token
  std::vector<int32_t> next_pos;     // [V+1] body coord c -> layout position of the first non-stripe token >= c
  std::vector<int32_t> prev_pos;     // [V] body coord c -> layout position of the last non-stripe token <= c, or -1
};

LayoutOrder make_layout_order(const Pattern& pattern, const TokenLayout& layout) {
  LayoutOrder lo;
  const int64_t frames = layout.frames, positions = layout.tokens_per_frame(), video = layout.video_tokens();
  const int64_t t0 = layout.text_prefix, seq_len = layout.seq_len();
  lo.position_major = pattern.find(ComponentKind::temporal) != nullptr;

  std::vector<uint8_t> is_stripe(static_cast<size_t>(video), 0);  // [V] by frame-major video index
  if (const Component* stripe = pattern.find(ComponentKind::stripe)) {
    for (const TokenRange& r : stripe->columns) {
      for (int64_t t = std::max(r.begin, layout.video_begin()); t < std::min(r.end, layout.video_end()); ++t) {
        is_stripe[static_cast<size_t>(t - t0)] = 1;
        ++lo.gathered;
      }
    }
  }
  auto body_to_video = [&](int64_t c) {  // body coordinate -> frame-major video index
    return lo.position_major ? (c % frames) * positions + c / frames : c;
  };

  lo.order.resize(static_cast<size_t>(seq_len));
  int64_t l = 0;
  for (int64_t t = 0; t < t0; ++t) lo.order[static_cast<size_t>(l++)] = static_cast<int32_t>(t);
  for (int64_t v = 0; v < video; ++v) {
    if (is_stripe[static_cast<size_t>(v)]) lo.order[static_cast<size_t>(l++)] = static_cast<int32_t>(t0 + v);
  }
  lo.next_pos.assign(static_cast<size_t>(video + 1), std::numeric_limits<int32_t>::max());
  lo.prev_pos.assign(static_cast<size_t>(video), -1);
  for (int64_t c = 0; c < video; ++c) {
    const int64_t v = body_to_video(c);
    if (!is_stripe[static_cast<size_t>(v)]) {
      lo.prev_pos[static_cast<size_t>(c)] = static_cast<int32_t>(l);
      lo.order[static_cast<size_t>(l++)] = static_cast<int32_t>(t0 + v);
    } else if (c > 0) {
      lo.prev_pos[static_cast<size_t>(c)] = lo.prev_pos[static_cast<size_t>(c - 1)];
    }
  }
  for (int64_t c = video - 1; c >= 0; --c) {
    const bool stripe = is_stripe[static_cast<size_t>(body_to_video(c))];
    lo.next_pos[static_cast<size_t>(c)] =
        stripe ? lo.next_pos[static_cast<size_t>(c + 1)] : lo.prev_pos[static_cast<size_t>(c)];
  }
  for (int64_t t = layout.video_end(); t < seq_len; ++t) lo.order[static_cast<size_t>(l++)] = static_cast<int32_t>(t);

  bool identity = true;
  for (size_t i = 0; i < lo.order.size() && identity; ++i) identity = lo.order[i] == static_cast<int32_t>(i);
  if (identity) lo.order.clear();
  return lo;
}

BlockLayout empty_layout(const TokenLayout& layout) {
  BlockLayout out;
  out.seq_len = layout.seq_len();
  out.block_size = layout.block_size;
  out.num_blocks = layout.num_blocks();
  out.row_begin.assign(static_cast<size_t>(out.num_blocks + 1), 0);
  return out;
}

class Compiler {
 public:
  Compiler(const Pattern& pattern, const TokenLayout& layout)
      : layout_(layout),
        frames_(layout.frames),
        positions_(layout.tokens_per_frame()),
        video_(layout.video_tokens()),
        t0_(layout.text_prefix),
        block_(layout.block_size),
        num_blocks_(layout.num_blocks()),
        dense_(pattern.is_dense()),
        window_(pattern.find(ComponentKind::window)),
        temporal_(pattern.find(ComponentKind::temporal)),
        order_(make_layout_order(pattern, layout)),
        marked_(static_cast<size_t>(num_blocks_), 0) {}

  BlockLayout run() {
    BlockLayout out = empty_layout(layout_);
    out.order = order_.order;
    const int64_t seq_len = layout_.seq_len();
    for (int64_t qb = 0; qb < num_blocks_; ++qb) {
      const int64_t row_end = std::min(seq_len, (qb + 1) * block_);
      bool text_row = false;
      for (int64_t l = qb * block_; l < row_end && !text_row; ++l) text_row = !is_video(token_at(l));
      if (dense_ || text_row) {
        mark_layout_range(0, seq_len - 1);
      } else {
        mark_block_keys(qb * block_, row_end);
      }
      std::sort(touched_.begin(), touched_.end());
      for (int32_t kb : touched_) {
        out.key_blocks.push_back(kb);
        marked_[static_cast<size_t>(kb)] = 0;
      }
      touched_.clear();
      out.row_begin[static_cast<size_t>(qb + 1)] = static_cast<int32_t>(out.key_blocks.size());
    }
    return out;
  }

 private:
  struct Run {  // rows {(f, p): f in [fa, fb], p in [pa, pb]} with fa == fb or pa == pb
    int64_t fa, fb, pa, pb;
  };

  int64_t token_at(int64_t l) const { return order_.order.empty() ? l : order_.order[static_cast<size_t>(l)]; }
  bool is_video(int64_t token) const { return token >= t0_ && token < t0_ + video_; }

  // All rows of the block [row_begin, row_end) are video tokens.
  void mark_block_keys(int64_t row_begin, int64_t row_end) {
    if (t0_ > 0) mark_layout_range(0, t0_ - 1);                                   // text prefix columns
    if (layout_.text_suffix > 0) mark_layout_range(t0_ + video_, layout_.seq_len() - 1);  // text suffix columns
    if (order_.gathered > 0) mark_layout_range(t0_, t0_ + order_.gathered - 1);     // stripe columns
    if (window_ == nullptr && temporal_ == nullptr) return;

    bool open = false;
    Run run{};
    for (int64_t l = row_begin; l < row_end; ++l) {
      const int64_t v = token_at(l) - t0_;
      const int64_t f = v / positions_, p = v % positions_;
      if (open) {
        const bool single = run.fa == run.fb && run.pa == run.pb;
        if (f == run.fa && run.fa == run.fb && p == run.pb + 1) {
          run.pb = p;
          continue;
        }
        if (p == run.pa && run.pa == run.pb && f == run.fb + 1 && (single || run.fb > run.fa)) {
          run.fb = f;
          continue;
        }
        emit_run(run);
      }
      run = Run{f, f, p, p};
      open = true;
    }
    if (open) emit_run(run);
  }

  void emit_run(const Run& run) {
    if (window_ != nullptr) {
      const int64_t w = window_->window;
      if (run.fa == run.fb) {
        emit_frame_major_interval(run.fa * positions_ + run.pa - w, run.fa * positions_ + run.pb + w);
      } else {
        for (int64_t f = run.fa; f <= run.fb; ++f) {
          emit_frame_major_interval(f * positions_ + run.pa - w, f * positions_ + run.pa + w);
        }
      }
    }
    if (temporal_ != nullptr) {
      emit_rectangle(run.fa - temporal_->frame_width, run.fb + temporal_->frame_width,
                     run.pa - temporal_->spatial_width, run.pb + temporal_->spatial_width);
    }
  }

  // Video keys with frame-major index in [lo, hi], split into at most three rectangles.
  void emit_frame_major_interval(int64_t lo, int64_t hi) {
    lo = std::max<int64_t>(lo, 0);
    hi = std::min(hi, video_ - 1);
    if (lo > hi) return;
    const int64_t f_lo = lo / positions_, f_hi = hi / positions_;
    if (f_lo == f_hi) {
      emit_rectangle(f_lo, f_lo, lo % positions_, hi % positions_);
      return;
    }
    emit_rectangle(f_lo, f_lo, lo % positions_, positions_ - 1);
    if (f_hi - f_lo >= 2) emit_rectangle(f_lo + 1, f_hi - 1, 0, positions_ - 1);
    emit_rectangle(f_hi, f_hi, 0, hi % positions_);
  }

  // Video keys {(f, p): f in [fa, fb], p in [pa, pb]} (clipped to the grid).
  void emit_rectangle(int64_t fa, int64_t fb, int64_t pa, int64_t pb) {
    fa = std::max<int64_t>(fa, 0);
    fb = std::min(fb, frames_ - 1);
    pa = std::max<int64_t>(pa, 0);
    pb = std::min(pb, positions_ - 1);
    if (fa > fb || pa > pb) return;
    // In body coordinates the rectangle is a run of "outer" rows, each an interval of "inner" coordinates.
    const bool pm = order_.position_major;
    const int64_t inner_size = pm ? frames_ : positions_;
    const int64_t oa = pm ? pa : fa, ob = pm ? pb : fb;
    const int64_t ia = pm ? fa : pa, ib = pm ? fb : pb;
    if (ia == 0 && ib == inner_size - 1) {
      emit_body_interval(oa * inner_size, ob * inner_size + inner_size - 1);
      return;
    }
    for (int64_t o = oa; o <= ob; ++o) emit_body_interval(o * inner_size + ia, o * inner_size + ib);
  }

  // Non-stripe body tokens with body coordinate in [c0, c1]: a contiguous range of layout positions.
  void emit_body_interval(int64_t c0, int64_t c1) {
    const int64_t l0 = order_.next_pos[static_cast<size_t>(c0)];
    const int64_t l1 = order_.prev_pos[static_cast<size_t>(c1)];
    if (l0 <= l1) mark_layout_range(l0, l1);
  }

  void mark_layout_range(int64_t l0, int64_t l1) {
    for (int64_t kb = l0 / block_; kb <= l1 / block_; ++kb) {
      uint8_t& m = marked_[static_cast<size_t>(kb)];
      if (!m) {
        m = 1;
        touched_.push_back(static_cast<int32_t>(kb));
      }
    }
  }

  const TokenLayout& layout_;
  const int64_t frames_, positions_, video_, t0_, block_, num_blocks_;
  const bool dense_;
  const Component* window_;
  const Component* temporal_;
  const LayoutOrder order_;
  std::vector<uint8_t> marked_;   // [num_blocks] key blocks marked for the current query block
  std::vector<int32_t> touched_;  // the marked key blocks, to reset them cheaply
};

}  // namespace

BlockLayout compile_pattern(const Pattern& pattern, const TokenLayout& layout) {
  validate(layout);
  validate(pattern, layout);
  if (pattern.is_skip()) {
    BlockLayout out = empty_layout(layout);
    out.skip = true;
    return out;
  }
  return Compiler(pattern, layout).run();
}

BlockLayout compile_pattern_brute_force(const Pattern& pattern, const TokenLayout& layout) {
  validate(layout);
  validate(pattern, layout);
  BlockLayout out = empty_layout(layout);
  if (pattern.is_skip()) {
    out.skip = true;
    return out;
  }
  out.order = make_layout_order(pattern, layout).order;
  const int64_t seq_len = layout.seq_len(), block = layout.block_size;
  for (int64_t qb = 0; qb < out.num_blocks; ++qb) {
    for (int64_t kb = 0; kb < out.num_blocks; ++kb) {
      bool any = false;
      for (int64_t lq = qb * block; lq < std::min(seq_len, (qb + 1) * block) && !any; ++lq) {
        for (int64_t lk = kb * block; lk < std::min(seq_len, (kb + 1) * block) && !any; ++lk) {
          any = attends(pattern, layout, out.token_at(lq), out.token_at(lk));
        }
      }
      if (any) out.key_blocks.push_back(static_cast<int32_t>(kb));
    }
    out.row_begin[static_cast<size_t>(qb + 1)] = static_cast<int32_t>(out.key_blocks.size());
  }
  return out;
}

}  // namespace svdit::data
