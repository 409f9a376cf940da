// `svdit <verb> …` runs `svdit-<verb> …` (as git does), so each verb links only what it needs and a build without
// LibTorch or GLFW still has a working launcher for the verbs it does have.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct Verb {
  const char* name;
  const char* summary;
};

// Every verb the toolkit knows, in pipeline order. Only those whose executable exists are offered.
constexpr Verb kVerbs[] = {
    {"profile", "run a model and record attention maps, candidate errors and measured kernel costs (HDF5)"},
    {"search", "choose a sparse pattern per head from a profile and write a plan (JSON)"},
    {"analyze", "open a profile (and plan) in the interactive analyzer"},
    {"generate", "sample a video with a model of any supported family (Wan2.1, CogVideoX1.5), dense or with a plan"},
    {"forward", "one forward of a model on given latents, timestep and prompt (the reference tests' entry)"},
    {"compare", "PSNR/SSIM between two generated outputs"},
    {"bench", "benchmark kernels and DiT steps, dense vs sparse"},
    {"inspect", "print a readable summary of a profile, plan or safetensors file"},
    {"train-demo", "train the demo model on procedural videos (data/samples/demo/)"},
    {"demo-video", "render the demo model's procedural training videos for a prompt (PNG strip)"},
    {"demo-score", "score demo videos for following their prompt (colour, shape, motion, background, camera)"},
    {"demo-gif", "side-by-side GIF of two demo videos and their magnified difference"},
};

std::filesystem::path own_directory() {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path() : self.parent_path();
}

bool is_executable(const std::filesystem::path& path) {
  return ::access(path.c_str(), X_OK) == 0 && std::filesystem::is_regular_file(path);
}

void print_help(const std::filesystem::path& dir) {
  std::printf(
      "usage: svdit <verb> [options]   (svdit <verb> --help for the verb's options)\n\n"
      "svdit makes video diffusion transformers faster with a sparse attention pattern per head.\n"
      "Pipeline: profile -> search -> (analyze) -> generate / bench.\n\nverbs in this build:\n");
  int present = 0;
  for (const Verb& verb : kVerbs) {
    if (is_executable(dir / (std::string("svdit-") + verb.name))) {
      std::printf("  %-10s %s\n", verb.name, verb.summary);
      ++present;
    }
  }
  if (present == 0) std::printf("  (none found beside %s)\n", dir.c_str());
  std::printf("\nverbs not in this build:");
  for (const Verb& verb : kVerbs) {
    if (!is_executable(dir / (std::string("svdit-") + verb.name))) std::printf(" %s", verb.name);
  }
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  const std::filesystem::path dir = own_directory();
  if (argc < 2) {
    print_help(dir);
    return 2;
  }
  const std::string_view verb = argv[1];
  if (verb == "--help" || verb == "-h" || verb == "help") {
    print_help(dir);
    return 0;
  }
  if (verb == "--version") {
    std::printf("svdit %s\n", SVDIT_VERSION);
    return 0;
  }
  if (verb.empty() || verb.front() == '-' || verb.find('/') != std::string_view::npos) {
    std::fprintf(stderr, "svdit: '%s' is not a verb (see svdit --help)\n", argv[1]);
    return 2;
  }
  const std::filesystem::path target = dir / ("svdit-" + std::string(verb));
  if (!is_executable(target)) {
    std::fprintf(stderr, "svdit: '%s' is not a verb of this build (no %s); see svdit --help\n", argv[1],
                 target.c_str());
    return 2;
  }
  std::vector<char*> args;
  std::string program = target.string();
  args.push_back(program.data());
  for (int i = 2; i < argc; ++i) args.push_back(argv[i]);
  args.push_back(nullptr);
  ::execv(program.c_str(), args.data());
  std::fprintf(stderr, "svdit: cannot run %s: %s\n", program.c_str(), std::strerror(errno));
  return 127;
}
