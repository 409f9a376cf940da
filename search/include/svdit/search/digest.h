#pragma once
// Identifies the profile a plan was searched from. FNV-1a (64-bit) over the file's bytes: not a cryptographic
// hash — it guards against mixing up files, not against tampering — but it is a few lines, needs no library,
// and anyone can recompute it (docs/SEARCH.md gives a Python one-liner).

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

namespace svdit::search {

inline constexpr uint64_t kFnv1a64Offset = 0xcbf29ce484222325ull;
inline constexpr uint64_t kFnv1a64Prime = 0x100000001b3ull;

// Continues an FNV-1a 64 hash over `bytes` (start from kFnv1a64Offset).
uint64_t fnv1a64(std::span<const unsigned char> bytes, uint64_t state = kFnv1a64Offset);

struct FileDigest {
  std::string text;  // "fnv1a64:0123456789abcdef"
  int64_t bytes = 0;
};

// Streams the file. Throws data::FormatError(path, "file", …) when it cannot be read.
FileDigest digest_file(const std::filesystem::path& path);

}  // namespace svdit::search
