#pragma once
// The few OpenGL objects the analyzer makes itself: RGBA textures for heatmaps, and an offscreen framebuffer
// for headless screenshots. ImGui's OpenGL 3 backend renders everything else.

#include <cstdint>
#include <vector>

#include "svdit/analyzer/colormap.h"
#include "svdit/analyzer/image.h"

namespace svdit::analyzer::ui {

// An RGBA8 texture sampled with GL_NEAREST, so that each map cell shows exactly its colour (the screenshot
// checks compare pixels with the colour ramp).
class Texture {
 public:
  Texture() = default;
  ~Texture();
  Texture(const Texture&) = delete;
  Texture& operator=(const Texture&) = delete;
  Texture(Texture&& other) noexcept;
  Texture& operator=(Texture&& other) noexcept;

  void upload(int width, int height, const std::vector<Rgba8>& texels);
  uint32_t id() const { return id_; }
  bool valid() const { return id_ != 0; }
  void* imgui_id() const { return reinterpret_cast<void*>(static_cast<uintptr_t>(id_)); }

 private:
  uint32_t id_ = 0;
};

// Loads the framebuffer-object entry points through GLFW (they are not in GL 1.x's libGL ABI).
// Returns false when the context lacks them.
bool load_gl_functions();

// An offscreen RGBA8 render target of a fixed size.
class Framebuffer {
 public:
  Framebuffer(int width, int height);
  ~Framebuffer();
  Framebuffer(const Framebuffer&) = delete;
  Framebuffer& operator=(const Framebuffer&) = delete;
  void bind() const;
  static void unbind();
  bool complete() const;

 private:
  uint32_t fbo_ = 0, colour_ = 0;
  int width_, height_;
};

// Pixels of the bound read framebuffer, top row first.
Image read_pixels(int x, int y, int width, int height, int framebuffer_height);

}  // namespace svdit::analyzer::ui
