// Profile HDF5 (docs/FORMATS.md "Profile (HDF5)"): round trip, lazy maps, resume, atomic finish, the bundled
// sample, and one test per kind of bad input a reader must refuse with a message naming the file and object.
// Bad files are made by editing good ones with HDF5's C API directly, not through the code under test.
#include <gtest/gtest.h>
#include <hdf5.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "svdit/data/block_layout.h"
#include "svdit/data/error.h"
#include "svdit/data/profile_reader.h"
#include "svdit/data/profile_writer.h"
#include "svdit/data/target_lock.h"

namespace fs = std::filesystem;
using namespace svdit::data;

namespace {

const fs::path kSampleProfile = fs::path(SVDIT_SOURCE_DIR) / "data" / "samples" / "sample_profile.h5";

// --- a small profile whose every value is a known function of its indices ------------------------------------

constexpr int64_t kPrompts = 2, kSteps = 2, kLayers = 2, kHeads = 3;

ProfileMeta small_meta() {
  ProfileMeta meta;
  meta.model = "test-model";
  meta.layers = kLayers;
  meta.heads = kHeads;
  meta.head_dim = 64;
  // P = 32, 128 video tokens + 20 text tokens at the end: S = 148, G = 3 (the last block partial).
  meta.layout =
      TokenLayout{.frames = 4, .height = 4, .width = 8, .text_prefix = 0, .text_suffix = 20, .block_size = 64};
  meta.dtype = "bfloat16";
  meta.sampling_steps = 8;
  meta.steps = {0, 5};
  meta.timesteps = {1000.0, 375.0};
  meta.prompts = {"a cat", "a dog — ünïcode"};
  meta.created = "2026-01-02T03:04:05Z";
  meta.tool_version = "svdit test";
  return meta;
}

std::vector<ProfileCandidate> small_candidates(const TokenLayout& layout) {
  std::vector<ProfileCandidate> candidates;
  const std::vector<Pattern> patterns = {make_pattern({dense_component()}), make_pattern({skip_component()}),
                                         make_pattern({window_component(32)}),
                                         make_pattern({temporal_component(4, 1)})};
  for (size_t c = 0; c < patterns.size(); ++c) {
    candidates.push_back({static_cast<int32_t>(10 + c), patterns[c],
                          compile_pattern(patterns[c], layout).block_density(), token_density(patterns[c], layout)});
  }
  return candidates;
}
constexpr int64_t kCandidates = 4;

float error_value(int64_t p, int64_t s, int64_t l, int64_t h, int64_t c) {
  if (c == 0) return 0.0f;
  if (c == 1) return 1.0f;
  return 0.05f * static_cast<float>(c) + 0.001f * static_cast<float>(p * 100 + s * 50 + l * 10 + h);
}
float recall_value(int64_t p, int64_t s, int64_t l, int64_t h, int64_t c) {
  if (c == 0) return 1.0f;
  if (c == 1) return 0.0f;
  return 0.5f + 0.01f * static_cast<float>(c) + 0.001f * static_cast<float>(p * 100 + s * 50 + l * 10 + h);
}
std::vector<float> slice(float (*value)(int64_t, int64_t, int64_t, int64_t, int64_t), int64_t p, int64_t s, int64_t l) {
  std::vector<float> out;  // [head, candidate]
  for (int64_t h = 0; h < kHeads; ++h) {
    for (int64_t c = 0; c < kCandidates; ++c) out.push_back(value(p, s, l, h, c));
  }
  return out;
}

// [n, n] rows normalised to row_sum; entries vary with (s, l, h) and include values fp16 cannot hold exactly
// (thirds) and a subnormal fp16 value.
std::vector<float> map_values(int64_t n, double row_sum, int64_t s, int64_t l, int64_t h) {
  std::vector<float> map(static_cast<size_t>(n * n));
  for (int64_t r = 0; r < n; ++r) {
    std::vector<double> raw(static_cast<size_t>(n));
    double total = 0.0;
    for (int64_t k = 0; k < n; ++k)
      total += raw[static_cast<size_t>(k)] = 1.0 + static_cast<double>((r + k + s + 2 * l + 3 * h) % 3);
    if (r == 0) {
      raw[0] = 3e-6 * total;  // ≈ 3e-6 after normalising: below fp16's smallest normal (6.1e-5)
      total = 0.0;
      for (double v : raw) total += v;
    }
    for (int64_t k = 0; k < n; ++k)
      map[static_cast<size_t>(r * n + k)] = static_cast<float>(raw[static_cast<size_t>(k)] / total * row_sum);
  }
  return map;
}
std::vector<float> pooled_values(const ProfileMeta& m, int64_t s, int64_t l, int64_t h) {
  return map_values(m.layout.num_blocks(), 1.0, s, l, h);
}
std::vector<float> frame_values(const ProfileMeta& m, int64_t s, int64_t l, int64_t h) {
  return map_values(m.layout.frames, 0.85, s, l, h);  // the rest of each row's mass is on text tokens
}

CostTable small_cost() {
  CostTable cost{.source = "cpu-aten",
                 .device = "test cpu",
                 .repetitions = 5,
                 .num_candidates = kCandidates,
                 .max_group = 2,
                 .group_sizes = {1, 2},
                 .us = {}};
  for (int64_t c = 0; c < kCandidates; ++c) {
    for (int64_t g = 1; g <= 2; ++g) {
      cost.us.push_back(c == 1 ? 0.5 : 10.0 * static_cast<double>(c + 1) * std::pow(static_cast<double>(g), 0.8));
      cost.permute_us.push_back(c == 2 ? 0.25 * static_cast<double>(g) : 0.0);
    }
  }
  cost.dense_layer_us = 35.0;
  cost.skip_layer_us = 1.5;
  return cost;
}

std::vector<KernelRecord> small_records() {
  return {KernelRecord{"sparse_fwd<64>", 100, 250, 3, 2, 1, 128, 1, 1, 96, 32768, 2, 2},
          KernelRecord{"dense_reference", 300, 900, 3, 1, 1, 256, 1, 1, 64, 0, -1, 1}};
}

// The nearest float16 value of x ≥ 0 (ties to even), computed independently of the library's bit manipulation.
float nearest_half(float x) {
  if (x == 0.0f) return 0.0f;
  const int exponent = std::max(std::ilogb(x), -14);  // below 2^-14 the spacing stays 2^-24 (subnormals)
  const double ulp = std::ldexp(1.0, exponent - 10);
  return static_cast<float>(std::nearbyint(static_cast<double>(x) / ulp) * ulp);
}

void write_slice(ProfileWriter& w, int64_t p, int64_t s, int64_t l) {
  w.write_error_recall(p, s, l, slice(error_value, p, s, l), slice(recall_value, p, s, l));
}
void write_head_maps(ProfileWriter& w, int64_t s, int64_t l, int64_t h) {
  w.write_maps(s, l, h, pooled_values(w.meta(), s, l, h), frame_values(w.meta(), s, l, h));
}

void write_complete_profile(const fs::path& target) {
  const ProfileMeta meta = small_meta();
  ProfileWriter w = ProfileWriter::create(target, meta, small_candidates(meta.layout));
  for (int64_t p = 0; p < kPrompts; ++p)
    for (int64_t s = 0; s < kSteps; ++s)
      for (int64_t l = 0; l < kLayers; ++l) write_slice(w, p, s, l);
  for (int64_t s = 0; s < kSteps; ++s)
    for (int64_t l = 0; l < kLayers; ++l)
      for (int64_t h = 0; h < kHeads; ++h) write_head_maps(w, s, l, h);
  const std::vector<KernelRecord> records = small_records();
  w.write_cost(small_cost(), records);
  w.finish();
}

std::string file_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// --- editing files with HDF5's C API to make bad inputs ------------------------------------------------------

void edit_h5(const fs::path& path, const std::function<void(hid_t)>& edit) {
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  edit(file);
  ASSERT_GE(H5Fclose(file), 0);
}

// Replaces a string attribute by one of `value`, fixed-length (as svdit writes) or variable-length.
void set_string_attribute(hid_t file, const char* object, const char* name, const std::string& value,
                          bool variable_length = false) {
  ASSERT_GE(H5Adelete_by_name(file, object, name, H5P_DEFAULT), 0);
  const hid_t type = H5Tcopy(H5T_C_S1);
  ASSERT_GE(H5Tset_size(type, variable_length ? H5T_VARIABLE : value.size()), 0);
  const hid_t space = H5Screate(H5S_SCALAR);
  const hid_t attr = H5Acreate_by_name(file, object, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(attr, 0);
  const char* text = value.c_str();
  ASSERT_GE(H5Awrite(attr, type, variable_length ? static_cast<const void*>(&text) : text), 0);
  H5Aclose(attr);
  H5Sclose(space);
  H5Tclose(type);
}

// Replaces an integer attribute (delete and create: HDF5 1.10.8 fails H5Awrite on an attribute in dense storage,
// as /meta's are).
void set_int_attribute(hid_t file, const char* object, const char* name, int64_t value) {
  ASSERT_GE(H5Adelete_by_name(file, object, name, H5P_DEFAULT), 0);
  const hid_t space = H5Screate(H5S_SCALAR);
  const hid_t attr = H5Acreate_by_name(file, object, name, H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(attr, 0);
  ASSERT_GE(H5Awrite(attr, H5T_NATIVE_INT64, &value), 0);
  H5Aclose(attr);
  H5Sclose(space);
}

// Replaces dataset `path` by a float dataset of `dims` (zero-filled) and element type `type`.
void replace_dataset(hid_t file, const char* path, std::vector<hsize_t> dims, hid_t type) {
  ASSERT_GE(H5Ldelete(file, path, H5P_DEFAULT), 0);
  const hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
  const hid_t dataset = H5Dcreate2(file, path, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(dataset, 0);
  H5Dclose(dataset);
  H5Sclose(space);
}

// Writes one element of a dataset (memory type `type`) at `index`.
void poke(hid_t file, const char* path, std::vector<hsize_t> index, hid_t type, const void* value) {
  const hid_t dataset = H5Dopen2(file, path, H5P_DEFAULT);
  ASSERT_GE(dataset, 0);
  const hid_t space = H5Dget_space(dataset);
  std::vector<hsize_t> ones(index.size(), 1);
  ASSERT_GE(H5Sselect_hyperslab(space, H5S_SELECT_SET, index.data(), nullptr, ones.data(), nullptr), 0);
  const hsize_t one = 1;
  const hid_t memory = H5Screate_simple(1, &one, nullptr);
  ASSERT_GE(H5Dwrite(dataset, type, memory, space, H5P_DEFAULT, value), 0);
  H5Sclose(memory);
  H5Sclose(space);
  H5Dclose(dataset);
}

class ProfileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("svdit_profile_test_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Expects open() to throw FormatError whose message names the file and `object`, and contains `text`.
  void expect_refused(const fs::path& path, const std::string& object, const std::string& text) {
    try {
      ProfileReader::open(path);
      ADD_FAILURE() << "opened " << path << " without error";
    } catch (const FormatError& e) {
      const std::string message = e.what();
      EXPECT_EQ(e.source(), path.string());
      EXPECT_NE(message.find(path.string()), std::string::npos) << message;
      EXPECT_EQ(e.object(), object) << message;
      EXPECT_NE(message.find(text), std::string::npos) << message;
    }
  }

  fs::path dir_;
};

// --- round trip ---------------------------------------------------------------------------------------------

TEST_F(ProfileTest, RoundTripKeepsEverything) {
  const fs::path target = dir_ / "p.h5";
  write_complete_profile(target);
  const ProfileReader r = ProfileReader::open(target);

  const ProfileMeta meta = small_meta();
  EXPECT_EQ(r.meta(), meta);
  EXPECT_EQ(r.candidates(), small_candidates(meta.layout));
  EXPECT_TRUE(r.complete());
  EXPECT_EQ(r.num_blocks(), 3);
  ASSERT_EQ(r.error().shape, (std::array<int64_t, 5>{kPrompts, kSteps, kLayers, kHeads, kCandidates}));
  ASSERT_EQ(r.recall().shape, r.error().shape);
  for (int64_t p = 0; p < kPrompts; ++p)
    for (int64_t s = 0; s < kSteps; ++s)
      for (int64_t l = 0; l < kLayers; ++l)
        for (int64_t h = 0; h < kHeads; ++h)
          for (int64_t c = 0; c < kCandidates; ++c) {
            EXPECT_EQ(r.error().at(p, s, l, h, c), error_value(p, s, l, h, c));
            EXPECT_EQ(r.recall().at(p, s, l, h, c), recall_value(p, s, l, h, c));
            EXPECT_TRUE(r.measured(p, s, l, h, c));
          }
  ASSERT_TRUE(r.cost().has_value());
  EXPECT_EQ(*r.cost(), small_cost());
  EXPECT_EQ(r.cost()->time_us(3, 2), small_cost().us[7]);
  EXPECT_EQ(r.kernel_records(), small_records());

  for (int64_t s = 0; s < kSteps; ++s)
    for (int64_t l = 0; l < kLayers; ++l)
      for (int64_t h = 0; h < kHeads; ++h) {
        ASSERT_TRUE(r.maps_written(s, l, h));
        const std::vector<float> pooled = r.pooled_map(s, l, h);
        const std::vector<float> expected_pooled = pooled_values(meta, s, l, h);
        ASSERT_EQ(pooled.size(), expected_pooled.size());
        for (size_t i = 0; i < pooled.size(); ++i) EXPECT_EQ(pooled[i], nearest_half(expected_pooled[i])) << i;
        EXPECT_EQ(r.frame_map(s, l, h), frame_values(meta, s, l, h));  // float32: exact
      }
}

TEST_F(ProfileTest, WriterFillsInCreationTimeAndVersion) {
  const fs::path target = dir_ / "p.h5";
  ProfileMeta meta = small_meta();
  meta.created.clear();
  meta.tool_version.clear();
  ProfileWriter w = ProfileWriter::create(target, meta, small_candidates(meta.layout));
  EXPECT_EQ(w.meta().tool_version.rfind("svdit ", 0), 0u) << w.meta().tool_version;
  const std::string& created = w.meta().created;
  ASSERT_EQ(created.size(), 20u) << created;  // 2026-11-23T10:00:00Z
  EXPECT_EQ(created[4], '-');
  EXPECT_EQ(created[10], 'T');
  EXPECT_EQ(created[19], 'Z');
}

TEST_F(ProfileTest, PooledMapsAreReadOnDemandAndRefuseNaN) {
  const fs::path target = dir_ / "p.h5";
  write_complete_profile(target);
  // A NaN inside one stored map: open() does not read maps, so it succeeds; reading that map fails.
  const uint16_t half_nan = 0x7e00;
  edit_h5(target, [&](hid_t file) {
    const hid_t half = H5Tcopy(H5T_IEEE_F32LE);
    H5Tset_fields(half, 15, 10, 5, 0, 10);
    H5Tset_size(half, 2);
    H5Tset_ebias(half, 15);
    poke(file, "/maps/pooled", {1, 0, 2, 2, 1}, half, &half_nan);
    H5Tclose(half);
  });
  const ProfileReader r = ProfileReader::open(target);
  EXPECT_EQ(r.pooled_map(1, 0, 1), [&] {
    std::vector<float> v = pooled_values(r.meta(), 1, 0, 1);
    for (float& x : v) x = nearest_half(x);
    return v;
  }());
  try {
    r.pooled_map(1, 0, 2);
    ADD_FAILURE() << "read a map holding NaN";
  } catch (const FormatError& e) {
    EXPECT_EQ(e.source(), target.string());
    EXPECT_EQ(e.object(), "/maps/pooled");
    EXPECT_NE(std::string(e.what()).find("step 1, layer 0, head 2"), std::string::npos) << e.what();
  }
  EXPECT_THROW(r.pooled_map(kSteps, 0, 0), std::out_of_range);
  EXPECT_THROW(r.frame_map(0, 0, kHeads), std::out_of_range);
}

// --- resume and atomic finish ---------------------------------------------------------------------------------

TEST_F(ProfileTest, ResumeReportsWhatIsWrittenAndFinishesLikeAStraightRun) {
  const fs::path straight = dir_ / "straight.h5";
  write_complete_profile(straight);

  const fs::path target = dir_ / "resumed.h5";
  auto first_half = [](int64_t p, int64_t s, int64_t l) { return (p + s + l) % 2 == 0; };
  auto first_half_maps = [](int64_t s, int64_t l, int64_t h) { return s == 0 && h != l; };
  {
    const ProfileMeta meta = small_meta();
    ProfileWriter w = ProfileWriter::create(target, meta, small_candidates(meta.layout));
    for (int64_t p = 0; p < kPrompts; ++p)
      for (int64_t s = 0; s < kSteps; ++s)
        for (int64_t l = 0; l < kLayers; ++l)
          if (first_half(p, s, l)) write_slice(w, p, s, l);
    for (int64_t s = 0; s < kSteps; ++s)
      for (int64_t l = 0; l < kLayers; ++l)
        for (int64_t h = 0; h < kHeads; ++h)
          if (first_half_maps(s, l, h)) write_head_maps(w, s, l, h);
  }  // destroyed without finish(): an interrupted run

  EXPECT_FALSE(fs::exists(target));
  ASSERT_TRUE(fs::exists(ProfileWriter::partial_path(target)));
  {
    // The partial file is a readable, incomplete profile.
    const ProfileReader partial = ProfileReader::open(ProfileWriter::partial_path(target));
    EXPECT_FALSE(partial.complete());
    EXPECT_FALSE(partial.cost().has_value());
    EXPECT_TRUE(partial.kernel_records().empty());
    EXPECT_TRUE(partial.measured(0, 0, 0, 2, 3));
    EXPECT_FALSE(partial.measured(0, 0, 1, 2, 3));
    EXPECT_TRUE(std::isnan(partial.error().at(0, 0, 1, 0, 0)));
    EXPECT_FALSE(partial.maps_written(0, 1, 1));
    EXPECT_THROW(partial.pooled_map(0, 1, 1), std::logic_error);
    EXPECT_TRUE(partial.maps_written(0, 1, 2));
    EXPECT_EQ(partial.frame_map(0, 1, 2), frame_values(partial.meta(), 0, 1, 2));
  }

  ProfileWriter w = ProfileWriter::resume(target);
  EXPECT_EQ(w.meta(), small_meta());
  EXPECT_FALSE(w.cost_written());
  for (int64_t p = 0; p < kPrompts; ++p)
    for (int64_t s = 0; s < kSteps; ++s)
      for (int64_t l = 0; l < kLayers; ++l) {
        EXPECT_EQ(w.slice_written(p, s, l), first_half(p, s, l)) << p << s << l;
        if (!w.slice_written(p, s, l)) write_slice(w, p, s, l);
      }
  for (int64_t s = 0; s < kSteps; ++s)
    for (int64_t l = 0; l < kLayers; ++l)
      for (int64_t h = 0; h < kHeads; ++h) {
        EXPECT_EQ(w.maps_written(s, l, h), first_half_maps(s, l, h)) << s << l << h;
        if (!w.maps_written(s, l, h)) write_head_maps(w, s, l, h);
      }
  const std::vector<KernelRecord> records = small_records();
  w.write_cost(small_cost(), records);
  w.finish();
  EXPECT_FALSE(fs::exists(ProfileWriter::partial_path(target)));

  const ProfileReader a = ProfileReader::open(straight);
  const ProfileReader b = ProfileReader::open(target);
  EXPECT_EQ(a.meta(), b.meta());
  EXPECT_EQ(a.candidates(), b.candidates());
  EXPECT_EQ(a.error(), b.error());
  EXPECT_EQ(a.recall(), b.recall());
  EXPECT_EQ(a.cost(), b.cost());
  EXPECT_EQ(a.kernel_records(), b.kernel_records());
  for (int64_t s = 0; s < kSteps; ++s)
    for (int64_t l = 0; l < kLayers; ++l)
      for (int64_t h = 0; h < kHeads; ++h) {
        EXPECT_EQ(a.pooled_map(s, l, h), b.pooled_map(s, l, h));
        EXPECT_EQ(a.frame_map(s, l, h), b.frame_map(s, l, h));
      }
}

// --- resume after a real crash (issue 20 item 1) and one writer per target (item 2) ----------------------------

// Runs `work` in a child process that then dies by SIGKILL, as a killed profiler would: no destructor, no close,
// HDF5's "open for write" mark left in the file.
void in_killed_child(const std::function<void()>& work) {
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    work();
    raise(SIGKILL);
    _exit(3);  // not reached
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child status " << status;
}

bool wrote_first(int64_t p, int64_t s, int64_t l) { return (p + s + l) % 2 == 0; }

void write_first_part_and_die(const fs::path& target) {
  in_killed_child([&] {
    const ProfileMeta meta = small_meta();
    ProfileWriter w = ProfileWriter::create(target, meta, small_candidates(meta.layout));
    for (int64_t p = 0; p < kPrompts; ++p)
      for (int64_t s = 0; s < kSteps; ++s)
        for (int64_t l = 0; l < kLayers; ++l)
          if (wrote_first(p, s, l)) write_slice(w, p, s, l);
    write_head_maps(w, 0, 1, 2);
  });
}

// Writes whatever resume() reports missing, finishes, and compares with an uninterrupted run.
void complete_and_compare(ProfileWriter& w, const fs::path& target, const fs::path& straight) {
  for (int64_t p = 0; p < kPrompts; ++p)
    for (int64_t s = 0; s < kSteps; ++s)
      for (int64_t l = 0; l < kLayers; ++l)
        if (!w.slice_written(p, s, l)) write_slice(w, p, s, l);
  for (int64_t s = 0; s < kSteps; ++s)
    for (int64_t l = 0; l < kLayers; ++l)
      for (int64_t h = 0; h < kHeads; ++h)
        if (!w.maps_written(s, l, h)) write_head_maps(w, s, l, h);
  const std::vector<KernelRecord> records = small_records();
  if (!w.cost_written()) w.write_cost(small_cost(), records);
  w.finish();
  const ProfileReader a = ProfileReader::open(straight);
  const ProfileReader b = ProfileReader::open(target);
  EXPECT_EQ(a.error(), b.error());
  EXPECT_EQ(a.recall(), b.recall());
  EXPECT_EQ(a.cost(), b.cost());
  for (int64_t s = 0; s < kSteps; ++s)
    for (int64_t l = 0; l < kLayers; ++l)
      for (int64_t h = 0; h < kHeads; ++h) {
        EXPECT_EQ(a.pooled_map(s, l, h), b.pooled_map(s, l, h));
        EXPECT_EQ(a.frame_map(s, l, h), b.frame_map(s, l, h));
      }
  EXPECT_FALSE(fs::exists(ProfileWriter::partial_path(target)));
  EXPECT_FALSE(fs::exists(ProfileWriter::partial_path(target).string() + ".journal"));
  EXPECT_FALSE(fs::exists(TargetLock::lock_path(target)));
}

TEST_F(ProfileTest, ResumesAfterTheWriterWasKilled) {
  const fs::path straight = dir_ / "straight.h5";
  write_complete_profile(straight);
  const fs::path target = dir_ / "killed.h5";
  write_first_part_and_die(target);

  ASSERT_TRUE(ProfileWriter::resumable(target));
  ProfileWriter w = ProfileWriter::resume(target);  // today: "file is already open for write ... h5clear"
  for (int64_t p = 0; p < kPrompts; ++p)
    for (int64_t s = 0; s < kSteps; ++s)
      for (int64_t l = 0; l < kLayers; ++l) EXPECT_EQ(w.slice_written(p, s, l), wrote_first(p, s, l)) << p << s << l;
  EXPECT_TRUE(w.maps_written(0, 1, 2));
  EXPECT_FALSE(w.maps_written(0, 1, 1));
  complete_and_compare(w, target, straight);
}

// Opens a crashed writer's file with HDF5's C API (clearing its status mark, as h5clear -s does) to damage it.
void edit_crashed_h5(const fs::path& path, const std::function<void(hid_t)>& edit) {
  const hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  hbool_t clear = true;
  ASSERT_GE(H5Pset(fapl, "clear_status_flags", &clear), 0);
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, fapl);
  H5Pclose(fapl);
  ASSERT_GE(file, 0);
  edit(file);
  ASSERT_GE(H5Fclose(file), 0);
}

TEST_F(ProfileTest, ResumeRedoesUnitsWhoseBytesDoNotMatchTheirChecksum) {
  const fs::path straight = dir_ / "straight.h5";
  write_complete_profile(straight);
  const fs::path target = dir_ / "killed.h5";
  write_first_part_and_die(target);
  // A slice cut off mid-write: the bytes of (prompt 0, step 0, layer 0) are not what its journal record says.
  edit_crashed_h5(ProfileWriter::partial_path(target), [](hid_t file) {
    const hid_t dataset = H5Dopen2(file, "/error", H5P_DEFAULT);
    const hid_t space = H5Dget_space(dataset);
    const hsize_t start[5] = {0, 0, 0, 1, 2}, count[5] = {1, 1, 1, 1, 1};
    ASSERT_GE(H5Sselect_hyperslab(space, H5S_SELECT_SET, start, nullptr, count, nullptr), 0);
    const hid_t one = H5Screate_simple(1, count, nullptr);
    const float torn = 0.5f;
    ASSERT_GE(H5Dwrite(dataset, H5T_NATIVE_FLOAT, one, space, H5P_DEFAULT, &torn), 0);
    H5Sclose(one);
    H5Sclose(space);
    H5Dclose(dataset);
  });
  ProfileWriter w = ProfileWriter::resume(target);
  EXPECT_FALSE(w.slice_written(0, 0, 0));
  EXPECT_TRUE(w.slice_written(0, 1, 1));
  complete_and_compare(w, target, straight);
}

TEST_F(ProfileTest, ResumeRedoesAUnitWhoseJournalLineIsTorn) {
  const fs::path straight = dir_ / "straight.h5";
  write_complete_profile(straight);
  const fs::path target = dir_ / "killed.h5";
  write_first_part_and_die(target);
  // The last record (the maps of step 0, layer 1, head 2) cut off in the middle of its line.
  const fs::path journal = ProfileWriter::partial_path(target).string() + ".journal";
  fs::resize_file(journal, fs::file_size(journal) - 5);
  ProfileWriter w = ProfileWriter::resume(target);
  EXPECT_FALSE(w.maps_written(0, 1, 2));
  EXPECT_TRUE(w.slice_written(1, 1, 0));
  complete_and_compare(w, target, straight);
}

TEST_F(ProfileTest, APartialCutOffWhileBeingCreatedIsNotResumable) {
  const fs::path target = dir_ / "killed.h5";
  write_first_part_and_die(target);
  fs::remove(ProfileWriter::partial_path(target).string() + ".journal");  // what a kill inside create() leaves
  EXPECT_FALSE(ProfileWriter::resumable(target));
  try {
    ProfileWriter::resume(target);
    ADD_FAILURE() << "resumed a partial file without a journal";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("no journal"), std::string::npos) << e.what();
  }
}

// A child that holds a writer on `target` until told to stop (a byte on the pipe), then exits cleanly.
struct WriterInChild {
  pid_t pid = -1;
  int go = -1;
  WriterInChild(const fs::path& target, bool resume) {
    int ready[2], stop[2];
    EXPECT_EQ(pipe(ready), 0);
    EXPECT_EQ(pipe(stop), 0);
    pid = fork();
    if (pid == 0) {
      {
        const ProfileMeta meta = small_meta();
        ProfileWriter w = resume ? ProfileWriter::resume(target)
                                 : ProfileWriter::create(target, meta, small_candidates(meta.layout));
        char byte = 1;
        if (write(ready[1], &byte, 1) < 0) {}  // a pipe hand-off; EOF or an error shows up in the checks that follow
        if (read(stop[0], &byte, 1) < 0) {}  // a pipe hand-off; EOF or an error shows up in the checks that follow
      }
      _exit(0);
    }
    char byte = 0;
    EXPECT_EQ(read(ready[0], &byte, 1), 1);
    close(ready[0]);
    close(ready[1]);
    close(stop[0]);
    go = stop[1];
  }
  int finish() {
    char byte = 1;
    if (write(go, &byte, 1) < 0) {}  // a pipe hand-off; EOF or an error shows up in the checks that follow
    close(go);
    int status = 0;
    waitpid(pid, &status, 0);
    return status;
  }
};

TEST_F(ProfileTest, ASecondWriterOfATargetIsRefusedNamingTheFirst) {
  const fs::path target = dir_ / "p.h5";
  write_complete_profile(target);
  const std::string before = file_bytes(target);
  WriterInChild first(target, /*resume=*/false);
  const std::string partial_before = file_bytes(ProfileWriter::partial_path(target));
  for (const bool resume : {false, true}) {
    try {
      const ProfileMeta meta = small_meta();
      if (resume) ProfileWriter::resume(target);
      else ProfileWriter::create(target, meta, small_candidates(meta.layout));
      ADD_FAILURE() << "a second writer of the target was let in";
    } catch (const TargetBusy& e) {
      EXPECT_EQ(e.holder_pid(), first.pid);
      EXPECT_NE(std::string(e.what()).find("pid " + std::to_string(first.pid)), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(target.string()), std::string::npos) << e.what();
    }
  }
  // Nothing of the first run's files was touched by the refused ones.
  EXPECT_EQ(file_bytes(ProfileWriter::partial_path(target)), partial_before);
  EXPECT_EQ(file_bytes(target), before);
  EXPECT_EQ(first.finish(), 0);
  // The first is gone: the target is free again.
  ProfileWriter again = ProfileWriter::resume(target);
  EXPECT_FALSE(again.slice_written(0, 0, 0));
}

TEST_F(ProfileTest, AKilledWritersLockIsReleasedByTheKernel) {
  const fs::path target = dir_ / "killed.h5";
  write_first_part_and_die(target);
  EXPECT_NO_THROW(ProfileWriter::resume(target));
}

TEST_F(ProfileTest, ResumeWithoutPartialFileNamesIt) {
  const fs::path target = dir_ / "never.h5";
  try {
    ProfileWriter::resume(target);
    ADD_FAILURE() << "resumed a profile that was never started";
  } catch (const FormatError& e) {
    EXPECT_EQ(e.source(), ProfileWriter::partial_path(target).string());
    EXPECT_NE(std::string(e.what()).find("does not exist"), std::string::npos) << e.what();
  }
}

TEST_F(ProfileTest, TargetAppearsOnlyAtFinish) {
  const fs::path target = dir_ / "p.h5";
  const ProfileMeta meta = small_meta();
  ProfileWriter w = ProfileWriter::create(target, meta, small_candidates(meta.layout));
  write_slice(w, 0, 0, 0);
  EXPECT_FALSE(fs::exists(target));
  EXPECT_TRUE(fs::exists(ProfileWriter::partial_path(target)));
  // finish() refuses an incomplete profile, naming the first missing slice, and leaves the target absent.
  try {
    w.finish();
    ADD_FAILURE() << "finished an incomplete profile";
  } catch (const FormatError& e) {
    EXPECT_EQ(e.object(), "/error");
    EXPECT_NE(std::string(e.what()).find("(prompt 0, step 0, layer 1)"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(target));
}

TEST_F(ProfileTest, OldTargetSurvivesAnUnfinishedWriter) {
  const fs::path target = dir_ / "p.h5";
  write_complete_profile(target);
  const std::string before = file_bytes(target);
  {
    ProfileMeta meta = small_meta();
    meta.model = "another-model";
    ProfileWriter w = ProfileWriter::create(target, meta, small_candidates(meta.layout));
    write_slice(w, 0, 0, 0);
    write_head_maps(w, 0, 0, 0);
  }
  EXPECT_EQ(file_bytes(target), before);
  EXPECT_EQ(ProfileReader::open(target).meta().model, "test-model");
}

TEST_F(ProfileTest, FinishReplacesTheOldTarget) {
  const fs::path target = dir_ / "p.h5";
  write_complete_profile(target);
  write_complete_profile(target);  // a second run over the first
  EXPECT_TRUE(ProfileReader::open(target).complete());
  EXPECT_FALSE(fs::exists(ProfileWriter::partial_path(target)));
}

// --- writer misuse ---------------------------------------------------------------------------------------------

TEST_F(ProfileTest, WriterRefusesBadCalls) {
  const fs::path target = dir_ / "p.h5";
  const ProfileMeta meta = small_meta();
  ProfileWriter w = ProfileWriter::create(target, meta, small_candidates(meta.layout));
  std::vector<float> error = slice(error_value, 0, 0, 0);
  const std::vector<float> recall = slice(recall_value, 0, 0, 0);
  EXPECT_THROW(w.write_error_recall(kPrompts, 0, 0, error, recall), std::out_of_range);
  EXPECT_THROW(w.write_error_recall(0, 0, 0, std::span(error).first(3), recall), std::invalid_argument);
  error[5] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(w.write_error_recall(0, 0, 0, error, recall), std::invalid_argument);
  EXPECT_FALSE(w.slice_written(0, 0, 0));

  std::vector<float> pooled = pooled_values(meta, 0, 0, 0);
  pooled[0] += 0.5f;  // row no longer sums to 1: not attention probabilities
  EXPECT_THROW(w.write_maps(0, 0, 0, pooled, frame_values(meta, 0, 0, 0)), std::invalid_argument);
  EXPECT_FALSE(w.maps_written(0, 0, 0));

  CostTable cost = small_cost();
  cost.max_group = kHeads + 1;
  EXPECT_THROW(w.write_cost(cost, {}), std::invalid_argument);
  w.write_cost(small_cost(), {});
  EXPECT_THROW(w.write_cost(small_cost(), {}), std::logic_error);
}

TEST_F(ProfileTest, CreateRefusesInvalidMetaNamingTheField) {
  ProfileMeta meta = small_meta();
  meta.steps = {5, 0};
  try {
    ProfileWriter::create(dir_ / "p.h5", meta, small_candidates(meta.layout));
    ADD_FAILURE() << "created a profile with descending steps";
  } catch (const FormatError& e) {
    EXPECT_EQ(e.object(), "/meta/steps");
    EXPECT_NE(std::string(e.what()).find("ascending"), std::string::npos) << e.what();
  }
  meta = small_meta();
  meta.layout.block_size = 32;
  try {
    ProfileWriter::create(dir_ / "p.h5", meta, small_candidates(small_meta().layout));
    ADD_FAILURE() << "created a profile with block size 32";
  } catch (const FormatError& e) {
    EXPECT_EQ(e.object(), "/meta attribute block_size");
  }
  meta = small_meta();
  std::vector<ProfileCandidate> candidates = small_candidates(meta.layout);
  candidates[2].id = candidates[1].id;
  EXPECT_THROW(ProfileWriter::create(dir_ / "p.h5", meta, candidates), FormatError);
  EXPECT_FALSE(fs::exists(ProfileWriter::partial_path(dir_ / "p.h5")));
}

// --- bad inputs ----------------------------------------------------------------------------------------------

TEST_F(ProfileTest, RefusesAFileThatIsNotHdf5) {
  const fs::path path = dir_ / "notes.h5";
  std::ofstream(path) << "this is a text file, not a profile\n";
  expect_refused(path, "file", "not an HDF5 file");
}

TEST_F(ProfileTest, RefusesAMissingFile) { expect_refused(dir_ / "absent.h5", "file", "does not exist"); }

TEST_F(ProfileTest, RefusesTruncatedCopiesOfTheSample) {
  const std::string bytes = file_bytes(kSampleProfile);
  ASSERT_GT(bytes.size(), 4096u);
  // Cut at several places: inside the superblock, in the middle, near the end. None may crash or pass.
  for (const size_t keep : {size_t{100}, bytes.size() / 2, bytes.size() - 100}) {
    const fs::path path = dir_ / ("truncated_" + std::to_string(keep) + ".h5");
    std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(keep));
    try {
      ProfileReader::open(path);
      ADD_FAILURE() << "opened a copy truncated to " << keep << " bytes";
    } catch (const FormatError& e) {
      EXPECT_EQ(e.source(), path.string());
      EXPECT_FALSE(e.object().empty());
      EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos);
    }
  }
}

TEST_F(ProfileTest, RefusesAnotherFormat) {
  const fs::path path = dir_ / "p.h5";
  write_complete_profile(path);
  edit_h5(path, [](hid_t file) { set_string_attribute(file, "/", "format", "svdit-plan"); });
  expect_refused(path, "/ attribute format", "expected \"svdit-profile\", found \"svdit-plan\"");
}

TEST_F(ProfileTest, RefusesVariableLengthStrings) {
  const fs::path path = dir_ / "p.h5";
  write_complete_profile(path);
  // Refused before reading: HDF5 1.10 crashes on a damaged global heap, where variable-length strings live.
  edit_h5(path, [](hid_t file) { set_string_attribute(file, "/", "model", "test-model", /*variable_length=*/true); });
  expect_refused(path, "/ attribute model", "expected a fixed-length string, found variable-length string");
}

TEST_F(ProfileTest, RefusesAnUnknownVersion) {
  const fs::path path = dir_ / "p.h5";
  write_complete_profile(path);
  edit_h5(path, [](hid_t file) { set_int_attribute(file, "/", "version", 3); });
  expect_refused(path, "/ attribute version", "expected 1 or 2, found 3");
}

TEST_F(ProfileTest, RefusesAMissingDataset) {
  const fs::path path = dir_ / "p.h5";
  write_complete_profile(path);
  edit_h5(path, [](hid_t file) { ASSERT_GE(H5Ldelete(file, "/recall", H5P_DEFAULT), 0); });
  expect_refused(path, "/recall", "missing dataset");
}

TEST_F(ProfileTest, RefusesAMissingAttribute) {
  const fs::path path = dir_ / "p.h5";
  write_complete_profile(path);
  edit_h5(path, [](hid_t file) { ASSERT_GE(H5Adelete_by_name(file, "/meta", "heads", H5P_DEFAULT), 0); });
  expect_refused(path, "/meta attribute heads", "missing");
}

TEST_F(ProfileTest, RefusesAWrongShape) {
  const fs::path path = dir_ / "p.h5";
  write_complete_profile(path);
  edit_h5(path, [](hid_t file) {
    replace_dataset(file, "/recall", {kPrompts, kSteps, kLayers, kHeads}, H5T_IEEE_F32LE);
  });
  expect_refused(path, "/recall", "expected shape [2, 2, 2, 3, 4], found [2, 2, 2, 3]");
}

TEST_F(ProfileTest, RefusesAWrongDtype) {
  const fs::path path = dir_ / "p.h5";
  write_complete_profile(path);
  edit_h5(path, [](hid_t file) {
    replace_dataset(file, "/error", {kPrompts, kSteps, kLayers, kHeads, kCandidates}, H5T_IEEE_F64LE);
  });
  expect_refused(path, "/error", "expected dtype float32, found float64");
}

TEST_F(ProfileTest, RefusesAnImplausiblyLargeLayoutBeforeAllocating) {
  const fs::path path = dir_ / "p.h5";
  write_complete_profile(path);
  // 150000 frames of 32 tokens: G = 75000 blocks, so one [G, G] map would be 5.6e9 elements.
  edit_h5(path, [](hid_t file) { set_int_attribute(file, "/meta", "frames", 150000); });
  expect_refused(path, "/meta attribute seq_len", "exceeds the bound 8192 blocks");
}

// --- issue 20: bounds before allocating or looping, the documented types only, data inside the file -------------

TEST_F(ProfileTest, RefusesSizesBeyondTheirBoundsNamingFieldValueAndBound) {
  const fs::path path = dir_ / "p.h5";
  write_complete_profile(path);
  // 2^62 sampling steps: inspect and search accepted it and the analyzer's timeline looped over all of them.
  edit_h5(path, [](hid_t file) { set_int_attribute(file, "/meta", "sampling_steps", int64_t{1} << 62); });
  expect_refused(path, "/meta attribute sampling_steps", "4611686018427387904, which exceeds the bound 10000");
  write_complete_profile(path);
  // G = 9000 blocks (2^31 elements would be the old limit): 46336 made the map view take 10 s a frame.
  edit_h5(path, [](hid_t file) { set_int_attribute(file, "/meta", "frames", 9000 * 64 / 32); });
  expect_refused(path, "/meta attribute seq_len", "exceeds the bound 8192 blocks");
  write_complete_profile(path);
  edit_h5(path, [](hid_t file) { set_int_attribute(file, "/meta", "heads", 5000); });
  expect_refused(path, "/meta attribute heads", "5000, which exceeds the bound 1024");
}

TEST_F(ProfileTest, RefusesADatasetLengthBeyondItsBoundBeforeAllocating) {
  // Found by svdit-fuzz-profile: /meta/steps replaced by 2^31 int64 elements (storage allocated late, so the file
  // stays a few kilobytes) made open() allocate 16 GiB for it before any check.
  const fs::path path = dir_ / "p.h5";
  write_complete_profile(path);
  edit_h5(path, [](hid_t file) { replace_dataset(file, "/meta/steps", {hsize_t{1} << 31}, H5T_STD_I64LE); });
  expect_refused(path, "/meta/steps", "2147483648, which exceeds the bound 10000");
  // Any other dataset read whole: no more than 64 Mi elements at once (/candidates/id, 2^27 int32).
  write_complete_profile(path);
  edit_h5(path, [](hid_t file) { replace_dataset(file, "/candidates/id", {hsize_t{1} << 27}, H5T_STD_I32LE); });
  expect_refused(path, "/candidates/id", "larger than svdit loads");
  // Strings count at least their in-memory size: 2^31 prompts reserved 64 GiB of std::string before any check.
  write_complete_profile(path);
  edit_h5(path, [](hid_t file) {
    const hid_t text = H5Tcopy(H5T_C_S1);
    ASSERT_GE(H5Tset_size(text, 16), 0);
    replace_dataset(file, "/meta/prompts", {hsize_t{1} << 31}, text);
    H5Tclose(text);
  });
  expect_refused(path, "/meta/prompts", "larger than svdit loads");
}

TEST_F(ProfileTest, RefusesIntegerAttributesOfAnotherType) {
  // docs/FORMATS.md: "Integer attributes are scalar int64".
  const fs::path path = dir_ / "p.h5";
  write_complete_profile(path);
  edit_h5(path, [](hid_t file) {
    ASSERT_GE(H5Adelete_by_name(file, "/meta", "layers", H5P_DEFAULT), 0);
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t attr = H5Acreate_by_name(file, "/meta", "layers", H5T_STD_I32LE, space, H5P_DEFAULT, H5P_DEFAULT,
                                         H5P_DEFAULT);
    const int32_t two = 2;
    ASSERT_GE(H5Awrite(attr, H5T_NATIVE_INT32, &two), 0);
    H5Aclose(attr);
    H5Sclose(space);
  });
  expect_refused(path, "/meta attribute layers", "expected a scalar int64, found int32");
}

TEST_F(ProfileTest, RefusesADatasetStoredOutsideTheFile) {
  // HDF5 external storage can point at any file (here /dev/zero: every value 0, a "perfect" candidate).
  const fs::path path = dir_ / "p.h5";
  write_complete_profile(path);
  edit_h5(path, [](hid_t file) {
    ASSERT_GE(H5Ldelete(file, "/candidates/block_density", H5P_DEFAULT), 0);
    const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    ASSERT_GE(H5Pset_external(dcpl, "/dev/zero", 0, kCandidates * sizeof(double)), 0);
    const hsize_t n = kCandidates;
    const hid_t space = H5Screate_simple(1, &n, nullptr);
    const hid_t dataset = H5Dcreate2(file, "/candidates/block_density", H5T_IEEE_F64LE, space, H5P_DEFAULT, dcpl,
                                     H5P_DEFAULT);
    ASSERT_GE(dataset, 0);
    H5Dclose(dataset);
    H5Sclose(space);
    H5Pclose(dcpl);
  });
  expect_refused(path, "/candidates/block_density", "stored outside this file");
}

TEST_F(ProfileTest, RefusesADuplicateKeyInACandidatePattern) {
  const fs::path path = dir_ / "p.h5";
  write_complete_profile(path);
  edit_h5(path, [](hid_t file) {
    const hid_t dataset = H5Dopen2(file, "/candidates/components", H5P_DEFAULT);
    const hid_t type = H5Dget_type(dataset);
    std::string bad = R"([{"type":"window","w":32,"w":3}])";
    ASSERT_LE(bad.size(), H5Tget_size(type));
    bad.resize(H5Tget_size(type), '\0');
    poke(file, "/candidates/components", {2}, type, bad.data());
    H5Tclose(type);
    H5Dclose(dataset);
  });
  expect_refused(path, "/candidates/components[2]", "duplicate key \"w\"");
}

TEST_F(ProfileTest, RefusesNaNInACompleteProfile) {
  const fs::path path = dir_ / "p.h5";
  write_complete_profile(path);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  edit_h5(path, [&](hid_t file) { poke(file, "/error", {1, 0, 1, 2, 3}, H5T_NATIVE_FLOAT, &nan); });
  expect_refused(path, "/error", "element [1, 0, 1, 2, 3]");
  expect_refused(path, "/error", "NaN");
  // The same NaN in a profile not marked complete just means "not measured yet".
  edit_h5(path, [](hid_t file) { set_int_attribute(file, "/", "complete", 0); });
  const ProfileReader r = ProfileReader::open(path);
  EXPECT_FALSE(r.measured(1, 0, 1, 2, 3));
  EXPECT_TRUE(r.measured(1, 0, 1, 2, 2));
}

TEST_F(ProfileTest, RefusesABrokenCandidatePattern) {
  const fs::path path = dir_ / "p.h5";
  write_complete_profile(path);
  // The reader validates every pattern against the layout; a negative window width is not a pattern.
  edit_h5(path, [](hid_t file) {
    const hid_t dataset = H5Dopen2(file, "/candidates/components", H5P_DEFAULT);
    const hid_t type = H5Dget_type(dataset);  // fixed-length: write a NUL-padded element of its size
    std::string bad = R"([{"type":"window","w":-3}])";
    ASSERT_LE(bad.size(), H5Tget_size(type));
    bad.resize(H5Tget_size(type), '\0');
    poke(file, "/candidates/components", {2}, type, bad.data());
    H5Tclose(type);
    H5Dclose(dataset);
  });
  try {
    ProfileReader::open(path);
    ADD_FAILURE() << "accepted a negative window";
  } catch (const FormatError& e) {
    EXPECT_EQ(e.source(), path.string());
    EXPECT_NE(e.object().find("/candidates/components[2]"), std::string::npos) << e.what();
  }
}

// --- the bundled sample -------------------------------------------------------------------------------------

TEST(SampleProfile, MatchesItsSpecificationAndIsPlausible) {
  const ProfileReader r = ProfileReader::open(kSampleProfile);
  const ProfileMeta& m = r.meta();
  EXPECT_TRUE(r.complete());
  EXPECT_TRUE(m.synthetic);
  EXPECT_EQ(m.model, "svdit-sample");
  EXPECT_EQ(m.layers, 4);
  EXPECT_EQ(m.heads, 6);
  EXPECT_EQ(m.head_dim, 64);
  EXPECT_EQ(m.layout,
            (TokenLayout{.frames = 6, .height = 8, .width = 12, .text_prefix = 0, .text_suffix = 0, .block_size = 64}));
  EXPECT_EQ(r.num_blocks(), 9);
  EXPECT_EQ(m.steps, (std::vector<int64_t>{0, 4, 9}));
  EXPECT_EQ(m.sampling_steps, 10);
  EXPECT_EQ(m.prompts, (std::vector<std::string>{"red circle bouncing", "blue square panning"}));
  EXPECT_EQ(m.dtype, "float32");

  const std::vector<Pattern> expected = {
      make_pattern({dense_component()}),
      make_pattern({skip_component()}),
      make_pattern({window_component(48)}),
      make_pattern({window_component(96)}),
      make_pattern({window_component(192)}),
      make_pattern({temporal_component(24, 5)}),
      make_pattern({first_frame_stripe(m.layout), window_component(48)}),
      make_pattern({temporal_component(48, 2)}),
  };
  ASSERT_EQ(r.candidates().size(), expected.size());
  for (size_t c = 0; c < expected.size(); ++c) {
    const ProfileCandidate& candidate = r.candidates()[c];
    EXPECT_EQ(candidate.id, static_cast<int32_t>(c));
    EXPECT_EQ(candidate.pattern, expected[c]) << c;
    EXPECT_EQ(candidate.block_density, compile_pattern(expected[c], m.layout).block_density()) << c;
    EXPECT_EQ(candidate.token_density, token_density(expected[c], m.layout)) << c;
  }

  const auto& shape = r.error().shape;
  for (int64_t p = 0; p < shape[0]; ++p)
    for (int64_t s = 0; s < shape[1]; ++s)
      for (int64_t l = 0; l < shape[2]; ++l)
        for (int64_t h = 0; h < shape[3]; ++h) {
          EXPECT_EQ(r.error().at(p, s, l, h, 0), 0.0f);
          EXPECT_EQ(r.error().at(p, s, l, h, 1), 1.0f);
          EXPECT_EQ(r.recall().at(p, s, l, h, 0), 1.0f);
          EXPECT_EQ(r.recall().at(p, s, l, h, 1), 0.0f);
          // Wider windows keep more mass and (on these heads) lose less.
          EXPECT_LE(r.recall().at(p, s, l, h, 2), r.recall().at(p, s, l, h, 3));
          EXPECT_LE(r.recall().at(p, s, l, h, 3), r.recall().at(p, s, l, h, 4));
          for (int64_t c = 0; c < shape[4]; ++c) {
            EXPECT_GE(r.recall().at(p, s, l, h, c), 0.0f);
            EXPECT_LE(r.recall().at(p, s, l, h, c), 1.0f);
          }
        }
  // Heads differ in which sparse candidate serves them best (the point of per-head patterns).
  std::vector<int> best_count(8, 0);
  for (int64_t l = 0; l < m.layers; ++l)
    for (int64_t h = 0; h < m.heads; ++h) {
      int64_t best = 2;
      for (int64_t c = 2; c < 8; ++c)
        if (r.error().at(0, 2, l, h, c) < r.error().at(0, 2, l, h, best)) best = c;
      ++best_count[static_cast<size_t>(best)];
    }
  int kinds = 0;
  for (int n : best_count) kinds += n > 0 ? 1 : 0;
  EXPECT_GE(kinds, 3);

  for (int64_t s = 0; s < m.num_steps(); ++s)
    for (int64_t l = 0; l < m.layers; ++l)
      for (int64_t h = 0; h < m.heads; ++h) {
        const std::vector<float> pooled = r.pooled_map(s, l, h);
        ASSERT_EQ(pooled.size(), 81u);
        for (int64_t row = 0; row < 9; ++row) {
          double sum = 0.0;
          for (int64_t col = 0; col < 9; ++col) sum += pooled[static_cast<size_t>(row * 9 + col)];
          EXPECT_NEAR(sum, 1.0, 1e-2);
        }
        EXPECT_EQ(r.frame_map(s, l, h).size(), 36u);
      }

  ASSERT_TRUE(r.cost().has_value());
  const CostTable& cost = *r.cost();
  EXPECT_EQ(cost.version, 2);
  EXPECT_EQ(cost.max_group, 6);
  EXPECT_EQ(cost.group_sizes, (std::vector<int64_t>{1, 2, 3, 4, 5, 6}));
  for (int64_t c = 0; c < cost.num_candidates; ++c) {
    for (int64_t g = 2; g <= cost.max_group; ++g) {
      EXPECT_GT(cost.time_us(c, g), cost.time_us(c, g - 1));                       // more heads take longer …
      EXPECT_LT(cost.time_us(c, g), cost.time_us(c, 1) * static_cast<double>(g));  // … and one launch is shared
      if (c != 1) {
        EXPECT_LT(cost.time_us(1, g), cost.time_us(c, g));  // skip's empty tiles are cheapest
      }
    }
  }
  EXPECT_LT(cost.time_us(2, 1), cost.time_us(0, 1));  // a sparse window is cheaper than dense
  EXPECT_GT(cost.dense_layer_us, 0.0);
  EXPECT_FALSE(r.kernel_records().empty());
}

TEST(ProfileReader, ReadsAVersionOneProfileWithItsGroupTable) {
  // The bundled sample as version 1 wrote it: /cost/table of every group size 1..heads, skip launching nothing.
  const ProfileReader r = ProfileReader::open(fs::path(SVDIT_SOURCE_DIR) / "tests" / "data" / "fixtures" /
                                              "sample_profile_v1.h5");
  ASSERT_TRUE(r.cost().has_value());
  const CostTable& cost = *r.cost();
  EXPECT_EQ(cost.version, 1);
  EXPECT_EQ(cost.source, "cupti");
  EXPECT_EQ(cost.max_group, 6);
  EXPECT_TRUE(cost.group_sizes.empty());
  EXPECT_EQ(cost.num_sizes(), 6);
  EXPECT_TRUE(cost.permute_us.empty());
  EXPECT_EQ(cost.time_us(1, 3), 0.0);  // version 1: skip launched nothing
  EXPECT_GT(cost.time_us(0, 6), cost.time_us(0, 1));
}

TEST(Array5, AtChecksEveryIndex) {
  Array5<int> a({2, 3, 4, 5, 6}, 0);
  a.at(1, 2, 3, 4, 5) = 7;
  EXPECT_EQ(a.data.back(), 7);
  EXPECT_EQ(a.offset(0, 0, 0, 0, 1), 1u);
  EXPECT_EQ(a.offset(1, 0, 0, 0, 0), static_cast<size_t>(3 * 4 * 5 * 6));
  EXPECT_THROW(a.at(2, 0, 0, 0, 0), std::out_of_range);
  EXPECT_THROW(a.at(0, 0, 0, 0, -1), std::out_of_range);
}

}  // namespace
