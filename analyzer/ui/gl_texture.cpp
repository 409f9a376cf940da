#include "ui/gl_texture.h"

#define GLFW_INCLUDE_GLEXT
#include <GLFW/glfw3.h>

#include <stdexcept>
#include <utility>

namespace svdit::analyzer::ui {

namespace {

PFNGLGENFRAMEBUFFERSPROC gen_framebuffers = nullptr;
PFNGLDELETEFRAMEBUFFERSPROC delete_framebuffers = nullptr;
PFNGLBINDFRAMEBUFFERPROC bind_framebuffer = nullptr;
PFNGLFRAMEBUFFERTEXTURE2DPROC framebuffer_texture_2d = nullptr;
PFNGLCHECKFRAMEBUFFERSTATUSPROC check_framebuffer_status = nullptr;

template <class F>
bool load(F& f, const char* name) {
  f = reinterpret_cast<F>(glfwGetProcAddress(name));
  return f != nullptr;
}

}  // namespace

bool load_gl_functions() {
  return load(gen_framebuffers, "glGenFramebuffers") && load(delete_framebuffers, "glDeleteFramebuffers") &&
         load(bind_framebuffer, "glBindFramebuffer") && load(framebuffer_texture_2d, "glFramebufferTexture2D") &&
         load(check_framebuffer_status, "glCheckFramebufferStatus");
}

Texture::~Texture() {
  if (id_ != 0) glDeleteTextures(1, &id_);
}

Texture::Texture(Texture&& other) noexcept : id_(std::exchange(other.id_, 0)) {}

Texture& Texture::operator=(Texture&& other) noexcept {
  if (this != &other) {
    if (id_ != 0) glDeleteTextures(1, &id_);
    id_ = std::exchange(other.id_, 0);
  }
  return *this;
}

void Texture::upload(int width, int height, const std::vector<Rgba8>& texels) {
  if (id_ == 0) glGenTextures(1, &id_);
  glBindTexture(GL_TEXTURE_2D, id_);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
  glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
  glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, width, height, 0, GL_RGBA, GL_UNSIGNED_BYTE, texels.data());
}

Framebuffer::Framebuffer(int width, int height) : width_(width), height_(height) {
  if (gen_framebuffers == nullptr) throw std::runtime_error("framebuffer objects are not loaded");
  glGenTextures(1, &colour_);
  glBindTexture(GL_TEXTURE_2D, colour_);
  glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, width_, height_, 0, GL_RGBA, GL_UNSIGNED_BYTE, nullptr);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
  gen_framebuffers(1, &fbo_);
  bind_framebuffer(GL_FRAMEBUFFER, fbo_);
  framebuffer_texture_2d(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, colour_, 0);
  bind_framebuffer(GL_FRAMEBUFFER, 0);
}

Framebuffer::~Framebuffer() {
  if (fbo_ != 0) delete_framebuffers(1, &fbo_);
  if (colour_ != 0) glDeleteTextures(1, &colour_);
}

void Framebuffer::bind() const { bind_framebuffer(GL_FRAMEBUFFER, fbo_); }
void Framebuffer::unbind() { bind_framebuffer(GL_FRAMEBUFFER, 0); }

bool Framebuffer::complete() const {
  bind();
  const bool ok = check_framebuffer_status(GL_FRAMEBUFFER) == GL_FRAMEBUFFER_COMPLETE;
  unbind();
  return ok;
}

Image read_pixels(int x, int y, int width, int height, int framebuffer_height) {
  Image img;
  img.width = width;
  img.height = height;
  img.rgba.resize(static_cast<size_t>(width) * static_cast<size_t>(height) * 4);
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  // GL rows count from the bottom.
  glReadPixels(x, framebuffer_height - y - height, width, height, GL_RGBA, GL_UNSIGNED_BYTE, img.rgba.data());
  img.flip_vertically();
  for (size_t i = 3; i < img.rgba.size(); i += 4) img.rgba[i] = 255;  // the window is opaque
  return img;
}

}  // namespace svdit::analyzer::ui
