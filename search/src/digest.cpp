// FNV-1a 64 over a file's bytes: the profile digest recorded in a plan's provenance.
#include "svdit/search/digest.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <vector>

#include "svdit/data/error.h"

namespace svdit::search {

uint64_t fnv1a64(std::span<const unsigned char> bytes, uint64_t state) {
  for (const unsigned char b : bytes) {
    state ^= b;
    state *= kFnv1a64Prime;
  }
  return state;
}

FileDigest digest_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw data::FormatError(path.string(), "file", std::string("cannot open for digest: ") + std::strerror(errno));
  std::vector<char> buffer(1 << 20);
  uint64_t state = kFnv1a64Offset;
  int64_t total = 0;
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const std::streamsize got = in.gcount();
    if (got <= 0) break;
    state = fnv1a64({reinterpret_cast<const unsigned char*>(buffer.data()), static_cast<size_t>(got)}, state);
    total += got;
  }
  if (in.bad()) throw data::FormatError(path.string(), "file", "read error while computing the digest");
  char text[32];
  std::snprintf(text, sizeof text, "fnv1a64:%016llx", static_cast<unsigned long long>(state));
  return {text, total};
}

}  // namespace svdit::search
