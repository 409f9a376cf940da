#pragma once
// The application: a GLFW window with an OpenGL 3.3 context, Dear ImGui, the frame loop, drag and drop, PNG
// export, and the headless screenshot mode (renders into an offscreen framebuffer, no visible window).

#include "svdit/analyzer/options.h"

namespace svdit::analyzer::ui {

// Runs the analyzer with parsed options; returns the process exit status (0 ok, 1 bad file or no display,
// 2 usage error such as a step that was not profiled).
int run_app(const Options& options);

}  // namespace svdit::analyzer::ui
