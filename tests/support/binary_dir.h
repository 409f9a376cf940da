#pragma once
// The build folder the tests run from (its bin/ holds the executables under test). The path is defined in a
// file CMake writes into the build folder (binary_dir.cpp.in), not on the compiler's command line, so that every
// test object is the same in every build folder and ccache serves a second one (build-nocuda) from the first.

namespace svdit::test {
const char* binary_dir();
}  // namespace svdit::test

#define SVDIT_BINARY_DIR (::svdit::test::binary_dir())
