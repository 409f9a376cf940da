// svdit-make-sample-profile OUT.h5 — writes the bundled sample profile (data/samples/sample_profile.h5).
//
// SYNTHETIC: no model is run (the file says so: root attribute synthetic = 1, model "svdit-sample"). Instead of a
// DiT, each (step, layer, head) gets an attention matrix built from a hand-written logit rule of one of five
// kinds, and random values; the generator then measures that attention exactly as the profiler measures a real
// one (definitions in docs/REFERENCE.md): block-pooled and frame maps of the probabilities, and for every
// candidate the recall and relative MSE of the attention the compiled block layout computes. So maps, recall and
// error agree with each other, and the numbers behave like real ones — each head kind prefers its own pattern,
// error falls as the window widens, early (noisier) steps are more diffuse — while staying small and
// deterministic (our own RNG, no std:: distributions, whose output differs between standard libraries).
// The cost table is a model, not a measurement: a fixed launch part plus, per head, a tile part and time ∝ block
// density.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <numbers>
#include <string>
#include <vector>

#include "svdit/cli/arg_parser.h"
#include "svdit/data/block_layout.h"
#include "svdit/data/pattern.h"
#include "svdit/data/profile_writer.h"

namespace {

using namespace svdit::data;

constexpr int64_t kLayers = 4;
constexpr int64_t kHeads = 6;
constexpr int64_t kValueDim = 16;  // channels of the synthetic values; only the error's statistics depend on it
constexpr uint64_t kSeed = 20261123;

// splitmix64: tiny, and the same sequence on every platform.
class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1p-53; }  // [0, 1)
  double normal() {                                                         // Box–Muller
    const double u = 1.0 - uniform();
    return std::sqrt(-2.0 * std::log(u)) * std::cos(2.0 * std::numbers::pi * uniform());
  }

 private:
  uint64_t state_;
};

ProfileMeta sample_meta() {
  ProfileMeta meta;
  meta.model = "svdit-sample";
  meta.layers = kLayers;
  meta.heads = kHeads;
  meta.head_dim = 64;
  meta.layout =
      TokenLayout{.frames = 6, .height = 8, .width = 12, .text_prefix = 0, .text_suffix = 0, .block_size = 64};
  meta.dtype = "float32";
  meta.sampling_steps = 10;
  meta.steps = {0, 4, 9};
  for (int64_t step : meta.steps) meta.timesteps.push_back(1000.0 * (1.0 - static_cast<double>(step) / 10.0));
  meta.prompts = {"red circle bouncing", "blue square panning"};
  // Fixed, so that regenerating the sample gives the same bytes (the file is committed).
  meta.created = "2026-11-23T00:00:00Z";
  meta.synthetic = true;
  return meta;
}

std::vector<ProfileCandidate> sample_candidates(const TokenLayout& layout) {
  const std::vector<Pattern> patterns = {
      make_pattern({dense_component()}),
      make_pattern({skip_component()}),
      make_pattern({window_component(48)}),
      make_pattern({window_component(96)}),
      make_pattern({window_component(192)}),
      make_pattern({temporal_component(24, 5)}),
      make_pattern({first_frame_stripe(layout), window_component(48)}),
      make_pattern({temporal_component(48, 2)}),
  };
  std::vector<ProfileCandidate> candidates;
  for (size_t c = 0; c < patterns.size(); ++c) {
    candidates.push_back(ProfileCandidate{.id = static_cast<int32_t>(c),
                                          .pattern = patterns[c],
                                          .block_density = compile_pattern(patterns[c], layout).block_density(),
                                          .token_density = token_density(patterns[c], layout)});
  }
  return candidates;
}

// [S, S] true where the kernel computes (query i, key j): whole blocks of the compiled layout, in original
// token order — a superset of the token mask, and what error and recall are measured on.
std::vector<uint8_t> computed_mask(const Pattern& pattern, const TokenLayout& layout) {
  const int64_t s = layout.seq_len();
  std::vector<uint8_t> mask(static_cast<size_t>(s * s), 0);
  const BlockLayout blocks = compile_pattern(pattern, layout);
  if (blocks.skip) return mask;
  const int64_t b = blocks.block_size;
  for (int64_t qb = 0; qb < blocks.num_blocks; ++qb) {
    for (int32_t kb : blocks.keys_of(qb)) {
      for (int64_t lq = qb * b; lq < std::min(s, (qb + 1) * b); ++lq) {
        for (int64_t lk = kb * b; lk < std::min(s, (kb + 1) * b); ++lk) {
          mask[static_cast<size_t>(blocks.token_at(lq) * s + blocks.token_at(lk))] = 1;
        }
      }
    }
  }
  return mask;
}

// The five synthetic head kinds and the pattern each one favours.
enum class HeadKind {
  local,     // neighbours in frame-major order            → window
  temporal,  // the same spatial position in every frame   → temporal
  sink,      // local, plus frame 0 from everywhere        → stripe(first_frame) + window
  global,    // scattered, content-dependent               → dense
  diffuse,   // near-uniform over zero-mean values: its output is ~0, so every sparse pattern only adds noise;
             // skip (error 1, no time) is its best cheap option
};

HeadKind head_kind(int64_t layer, int64_t head) {
  if (layer == 2 && head == 5) return HeadKind::diffuse;
  static constexpr HeadKind kCycle[] = {HeadKind::local, HeadKind::temporal, HeadKind::sink,
                                        HeadKind::local, HeadKind::global,   HeadKind::temporal};
  return kCycle[(layer + head) % 6];
}

struct Token {
  int64_t f, y, x;
};

// [S, S] attention probabilities of one head (rows sum to 1).
std::vector<double> attention(HeadKind kind, const TokenLayout& layout, int64_t step_index, int64_t layer,
                              Random& random) {
  const int64_t s = layout.seq_len();
  const int64_t p = layout.tokens_per_frame();
  std::vector<Token> tokens(static_cast<size_t>(s));
  for (int64_t i = 0; i < s; ++i) tokens[static_cast<size_t>(i)] = {i / p, i % p / layout.width, i % layout.width};
  // Content vectors for the global kind: attention follows them, not position.
  std::vector<double> content(static_cast<size_t>(s * 4));
  for (double& v : content) v = random.normal();
  // Early denoising steps see mostly noise: flatter attention.
  static constexpr double kSharpness[] = {0.6, 0.85, 1.0};
  const double sharpness = kSharpness[step_index];
  const double reach = 30.0 + 10.0 * static_cast<double>(layer);  // tokens; deeper layers look further

  std::vector<double> probabilities(static_cast<size_t>(s * s));
  for (int64_t i = 0; i < s; ++i) {
    const Token& a = tokens[static_cast<size_t>(i)];
    double* row = &probabilities[static_cast<size_t>(i * s)];
    double max_logit = -1e300;
    for (int64_t j = 0; j < s; ++j) {
      const Token& k = tokens[static_cast<size_t>(j)];
      double logit = 0.0;
      switch (kind) {
        case HeadKind::local: logit = -static_cast<double>(std::abs(i - j)) / reach; break;
        case HeadKind::temporal:
          logit = -1.2 * static_cast<double>(std::abs(a.y - k.y) + std::abs(a.x - k.x)) -
                  0.35 * static_cast<double>(std::abs(a.f - k.f));
          break;
        case HeadKind::sink:  // frame 0 as a whole draws about as much mass as the neighbourhood
          logit = k.f == 0 ? -0.7 : -static_cast<double>(std::abs(i - j)) / reach;
          break;
        case HeadKind::global:
          for (int64_t d = 0; d < 4; ++d) {
            logit += content[static_cast<size_t>(i * 4 + d)] * content[static_cast<size_t>(j * 4 + d)];
          }
          break;
        case HeadKind::diffuse: break;
      }
      logit = sharpness * logit + 0.15 * random.normal();  // the prompt's own variation
      row[j] = logit;
      max_logit = std::max(max_logit, logit);
    }
    double sum = 0.0;
    for (int64_t j = 0; j < s; ++j) sum += row[j] = std::exp(row[j] - max_logit);
    for (int64_t j = 0; j < s; ++j) row[j] /= sum;
  }
  return probabilities;
}

// [S, kValueDim]: a shared offset, a per-frame component (so that losing a frame's mass shows in the output) and
// per-token noise — except for the diffuse kind, whose values are zero-mean noise only.
std::vector<double> values(HeadKind kind, const TokenLayout& layout, Random& random) {
  const bool structured = kind != HeadKind::diffuse;
  std::vector<double> offset(kValueDim);
  for (double& o : offset) o = structured ? 0.5 * random.normal() : 0.0;
  std::vector<double> per_frame(static_cast<size_t>(layout.frames * kValueDim));
  for (double& v : per_frame) v = structured ? 0.8 * random.normal() : 0.0;
  const int64_t s = layout.seq_len();
  std::vector<double> v(static_cast<size_t>(s * kValueDim));
  for (int64_t i = 0; i < s; ++i) {
    const int64_t frame = i / layout.tokens_per_frame();
    for (int64_t d = 0; d < kValueDim; ++d) {
      v[static_cast<size_t>(i * kValueDim + d)] =
          offset[static_cast<size_t>(d)] + per_frame[static_cast<size_t>(frame * kValueDim + d)] + random.normal();
    }
  }
  return v;
}

struct Measurement {
  float error;
  float recall;
};

// Relative MSE ‖O_c − O‖²/‖O‖² and mean kept mass of the attention restricted to `mask` (renormalised per row).
Measurement measure(const std::vector<double>& probabilities, const std::vector<double>& v,
                    const std::vector<uint8_t>& mask, int64_t s) {
  double diff = 0.0, norm = 0.0, kept_total = 0.0;
  std::vector<double> dense(kValueDim), sparse(kValueDim);
  for (int64_t i = 0; i < s; ++i) {
    std::fill(dense.begin(), dense.end(), 0.0);
    std::fill(sparse.begin(), sparse.end(), 0.0);
    double kept = 0.0;
    for (int64_t j = 0; j < s; ++j) {
      const double pij = probabilities[static_cast<size_t>(i * s + j)];
      const double* vj = &v[static_cast<size_t>(j * kValueDim)];
      const bool in = mask[static_cast<size_t>(i * s + j)] != 0;
      if (in) kept += pij;
      for (int64_t d = 0; d < kValueDim; ++d) {
        dense[d] += pij * vj[d];
        if (in) sparse[d] += pij * vj[d];
      }
    }
    kept_total += kept;
    for (int64_t d = 0; d < kValueDim; ++d) {
      const double o_c = kept > 0.0 ? sparse[d] / kept : 0.0;  // a row with no keys outputs 0
      diff += (o_c - dense[d]) * (o_c - dense[d]);
      norm += dense[d] * dense[d];
    }
  }
  return {static_cast<float>(diff / norm), static_cast<float>(kept_total / static_cast<double>(s))};
}

// pooled [G, G]: mean attention row of each query block, summed over each key block (original token order).
// frames [F, F]: the same over frames.
void accumulate_maps(const std::vector<double>& probabilities, const TokenLayout& layout, double weight,
                     std::vector<double>& pooled, std::vector<double>& frames) {
  const int64_t s = layout.seq_len();
  const int64_t b = layout.block_size;
  const int64_t g = layout.num_blocks();
  const int64_t p = layout.tokens_per_frame();
  const int64_t f = layout.frames;
  for (int64_t i = 0; i < s; ++i) {
    const double rows_in_block = static_cast<double>(std::min(s, (i / b + 1) * b) - i / b * b);
    for (int64_t j = 0; j < s; ++j) {
      const double pij = probabilities[static_cast<size_t>(i * s + j)] * weight;
      pooled[static_cast<size_t>(i / b * g + j / b)] += pij / rows_in_block;
      frames[static_cast<size_t>(i / p * f + j / p)] += pij / static_cast<double>(p);
    }
  }
}

std::vector<float> to_float(const std::vector<double>& values) { return {values.begin(), values.end()}; }

CostTable sample_cost(const std::vector<ProfileCandidate>& candidates, Random& random) {
  CostTable cost{.source = "cupti",
                 .device = "synthetic (not measured)",
                 .repetitions = 3,
                 .num_candidates = static_cast<int64_t>(candidates.size()),
                 .max_group = kHeads,
                 .us = {}};
  // One launch of g heads: a fixed part (launch and the last wave's tail) plus g times a head's share (its tiles'
  // fixed cost plus time in proportion to its computed blocks); a skip head still runs its empty tiles.
  for (const ProfileCandidate& c : candidates) {
    for (int64_t g = 1; g <= kHeads; ++g) {
      const double jitter = 1.0 + 0.03 * (2.0 * random.uniform() - 1.0);
      const double density = c.pattern.is_skip() ? 0.0 : c.block_density;
      cost.us.push_back((6.0 + static_cast<double>(g) * (1.0 + 55.0 * density)) * jitter);
    }
  }
  cost.dense_layer_us = 0.9 * (6.0 + static_cast<double>(kHeads) * 56.0);  // the dense path beats the sparse kernel
  cost.skip_layer_us = 2.0;
  return cost;
}

// `repetitions` launch records per timed (candidate, group size) entry, matching the table's medians (every
// candidate launches, skip included: its tiles write zeros).
std::vector<KernelRecord> sample_kernel_records(const CostTable& cost,
                                                const TokenLayout& layout, Random& random) {
  std::vector<KernelRecord> records;
  int64_t clock_ns = 1'000'000;
  for (int64_t c = 0; c < cost.num_candidates; ++c) {
    for (int64_t g = 1; g <= cost.max_group; ++g) {
      for (int64_t r = 0; r < cost.repetitions; ++r) {
        const double us = cost.time_us(c, g) * (1.0 + 0.02 * (2.0 * random.uniform() - 1.0));
        const int64_t duration_ns = static_cast<int64_t>(us * 1000.0);
        records.push_back(KernelRecord{.name = "svdit::block_sparse_attention_fwd<64, float>",
                                       .start_ns = clock_ns,
                                       .end_ns = clock_ns + duration_ns,
                                       .grid_x = static_cast<int32_t>(layout.num_blocks()),
                                       .grid_y = static_cast<int32_t>(g),
                                       .grid_z = 1,
                                       .block_x = 128,
                                       .block_y = 1,
                                       .block_z = 1,
                                       .registers = 128,
                                       .shared_memory_bytes = 49152,
                                       .candidate = static_cast<int32_t>(c),
                                       .group_size = static_cast<int32_t>(g)});
        clock_ns += duration_ns + 5'000;
      }
    }
  }
  return records;
}

void make_sample(const std::string& out) {
  const ProfileMeta meta = sample_meta();
  const TokenLayout& layout = meta.layout;
  const std::vector<ProfileCandidate> candidates = sample_candidates(layout);
  const int64_t s = layout.seq_len();
  const int64_t g = layout.num_blocks();
  const int64_t f = layout.frames;
  const auto num_candidates = static_cast<int64_t>(candidates.size());
  std::vector<std::vector<uint8_t>> masks;
  for (const ProfileCandidate& c : candidates) masks.push_back(computed_mask(c.pattern, layout));

  ProfileWriter writer = ProfileWriter::create(out, meta, candidates);
  Random random(kSeed);
  const double prompt_weight = 1.0 / static_cast<double>(meta.num_prompts());
  for (int64_t step = 0; step < meta.num_steps(); ++step) {
    for (int64_t layer = 0; layer < kLayers; ++layer) {
      // [prompt][head, candidate]
      std::vector<std::vector<float>> error(static_cast<size_t>(meta.num_prompts()),
                                            std::vector<float>(static_cast<size_t>(kHeads * num_candidates)));
      std::vector<std::vector<float>> recall = error;
      for (int64_t head = 0; head < kHeads; ++head) {
        const HeadKind kind = head_kind(layer, head);
        std::vector<double> pooled(static_cast<size_t>(g * g), 0.0);  // [G, G], mean over prompts
        std::vector<double> frames(static_cast<size_t>(f * f), 0.0);  // [F, F], mean over prompts
        for (int64_t prompt = 0; prompt < meta.num_prompts(); ++prompt) {
          const std::vector<double> probabilities = attention(kind, layout, step, layer, random);
          const std::vector<double> v = values(kind, layout, random);
          accumulate_maps(probabilities, layout, prompt_weight, pooled, frames);
          for (int64_t c = 0; c < num_candidates; ++c) {
            const Pattern& pattern = candidates[static_cast<size_t>(c)].pattern;
            const size_t at = static_cast<size_t>(head * num_candidates + c);
            // Dense and skip are exact by definition; measuring them would only add rounding.
            const Measurement m = pattern.is_dense()  ? Measurement{0.0f, 1.0f}
                                  : pattern.is_skip() ? Measurement{1.0f, 0.0f}
                                                      : measure(probabilities, v, masks[static_cast<size_t>(c)], s);
            error[static_cast<size_t>(prompt)][at] = m.error;
            recall[static_cast<size_t>(prompt)][at] = m.recall;
          }
        }
        writer.write_maps(step, layer, head, to_float(pooled), to_float(frames));
      }
      for (int64_t prompt = 0; prompt < meta.num_prompts(); ++prompt) {
        writer.write_error_recall(prompt, step, layer, error[static_cast<size_t>(prompt)],
                                  recall[static_cast<size_t>(prompt)]);
      }
    }
  }
  const CostTable cost = sample_cost(candidates, random);
  writer.write_cost(cost, sample_kernel_records(cost, layout, random));
  writer.finish();
}

}  // namespace

int main(int argc, char** argv) {
  svdit::cli::ArgParser args("svdit-make-sample-profile", "svdit-make-sample-profile OUT.h5",
                             "Writes the synthetic sample profile (see docs/FORMATS.md).");
  return svdit::cli::run_tool(args, argc, argv, [](const svdit::cli::ArgParser& parsed) {
    if (parsed.positional().size() != 1) throw svdit::cli::UsageError("expected one OUT.h5");
    make_sample(parsed.positional()[0]);
    std::printf("wrote %s\n", parsed.positional()[0].c_str());
    return 0;
  });
}
