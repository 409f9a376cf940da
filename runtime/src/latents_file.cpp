// Latents as a safetensors file (see latents_file.h).

#include "svdit/runtime/latents_file.h"

#include <ATen/ATen.h>

#include <span>
#include <vector>

#include "svdit/data/error.h"
#include "svdit/data/safetensors.h"

namespace svdit::runtime {

void save_latents(const std::filesystem::path& path, const at::Tensor& latents,
                  const std::map<std::string, std::string>& metadata) {
  const at::Tensor host = latents.to(at::kCPU, at::kFloat).contiguous();  // [1, C, T, H, W]
  data::TensorData d;
  d.name = "latents";
  d.dtype = data::DType::f32;
  d.shape = host.sizes().vec();
  d.bytes = std::span<const std::byte>(static_cast<const std::byte*>(host.const_data_ptr()), host.nbytes());
  std::map<std::string, std::string> meta = metadata;
  meta.emplace("format", "svdit-latents");
  data::write_safetensors(path, std::span<const data::TensorData>(&d, 1), meta);
}

LatentsFile load_latents(const std::filesystem::path& path) {
  const data::SafetensorsFile file = data::SafetensorsFile::open(path);
  const data::TensorInfo* info = file.find("latents");
  if (info == nullptr) {
    throw data::FormatError(path.string(), "latents", "missing: expected the output of svdit generate");
  }
  if (info->shape.size() != 5) {
    throw data::FormatError(path.string(), "latents", "expected shape [1, C, T, H, W], found " +
                                                          c10::str(at::IntArrayRef(info->shape)));
  }
  const std::vector<float> values = data::to_float(*info, file.bytes(*info));
  LatentsFile out;
  out.latents = at::from_blob(const_cast<float*>(values.data()), info->shape, at::TensorOptions().dtype(at::kFloat))
                    .clone();  // [1, C, T, H, W]
  out.metadata = file.metadata();
  return out;
}

}  // namespace svdit::runtime
