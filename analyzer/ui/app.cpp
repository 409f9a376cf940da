#include "ui/app.h"

#include <GLFW/glfw3.h>
#include <imgui.h>
#include <imgui_impl_glfw.h>
#include <imgui_impl_opengl3.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "svdit/data/atomic_file.h"
#include "ui/app_state.h"
#include "ui/panels.h"

namespace svdit::analyzer::ui {

namespace {

std::string glfw_error_text;
std::vector<std::string> dropped_paths;

void on_glfw_error(int code, const char* description) {
  glfw_error_text = "GLFW error " + std::to_string(code) + ": " + (description ? description : "");
}

void on_drop(GLFWwindow*, int count, const char** paths) {
  for (int i = 0; i < count; ++i) dropped_paths.emplace_back(paths[i]);
}

// DejaVu Sans when the system has it (clearer than ImGui's bitmap font and with µ, ×, ε); the built-in font
// otherwise. The screenshot checks do not depend on either.
void load_font() {
  ImGuiIO& io = ImGui::GetIO();
  const char* candidates[] = {"/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                              "/usr/share/fonts/TTF/DejaVuSans.ttf"};
  static const ImWchar ranges[] = {0x0020, 0x00FF, 0x0370, 0x03FF, 0x2010, 0x2027, 0x2190, 0x21FF, 0x2200, 0x22FF, 0};
  for (const char* path : candidates) {
    std::error_code ec;
    if (std::filesystem::exists(path, ec) && io.Fonts->AddFontFromFileTTF(path, 15.0f, nullptr, ranges) != nullptr) return;
  }
  io.Fonts->AddFontDefault();
}

// The tab of a view; `requested` selects it this frame.
bool view_tab(AppState& s, const char* label, View v) {
  const ImGuiTabItemFlags flags = s.view_requested && s.view == v ? ImGuiTabItemFlags_SetSelected : 0;
  if (!ImGui::BeginTabItem(label, nullptr, flags)) return false;
  if (s.view_requested) {
    if (s.view == v) s.view_requested = false;
  } else {
    s.view = v;
  }
  const ImVec2 p = ImGui::GetCursorScreenPos(), a = ImGui::GetContentRegionAvail();
  s.view_rect = ScreenRect{p.x, p.y, a.x, a.y};
  return true;
}

void draw_main(AppState& s) {
  const ImGuiViewport* vp = ImGui::GetMainViewport();
  ImGui::SetNextWindowPos(vp->Pos);
  ImGui::SetNextWindowSize(vp->Size);
  constexpr ImGuiWindowFlags flags = ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove |
                                     ImGuiWindowFlags_NoResize | ImGuiWindowFlags_MenuBar |
                                     ImGuiWindowFlags_NoBringToFrontOnFocus | ImGuiWindowFlags_NoSavedSettings;
  ImGui::Begin("svdit analyze", nullptr, flags);
  draw_menu_bar(s);
  const float status_h = ImGui::GetFrameHeightWithSpacing();
  if (!s.doc) {
    ImGui::TextUnformatted("No profile open. File > Open profile (Ctrl+O), or drop a profile (.h5) on this window.");
    s.view_rect = ScreenRect{vp->Pos.x, vp->Pos.y, vp->Size.x, vp->Size.y};
  } else {
    const ImVec2 avail = ImGui::GetContentRegionAvail();
    const float side_w = std::min(340.0f, avail.x * 0.3f);
    ImGui::BeginChild("##sidebar", ImVec2(side_w, avail.y - status_h), true);
    draw_step_panel(s);
    ImGui::Separator();
    draw_head_panel(s);
    ImGui::Separator();
    draw_legend_panel(s);
    ImGui::Separator();
    draw_groups_panel(s);
    ImGui::EndChild();
    ImGui::SameLine();
    ImGui::BeginChild("##main", ImVec2(0, avail.y - status_h), false);
    if (ImGui::BeginTabBar("##views")) {
      if (view_tab(s, "Grid", View::grid)) {
        const ImVec2 a = ImGui::GetContentRegionAvail();
        ImGui::BeginChild("##grid", ImVec2(a.x, a.y * 0.6f), false);
        draw_grid_panel(s);
        ImGui::EndChild();
        ImGui::BeginChild("##grid_candidates", ImVec2(a.x, 0), false);
        draw_candidate_panel(s);
        ImGui::EndChild();
        ImGui::EndTabItem();
      }
      if (view_tab(s, "Attention map", View::map)) {
        // The two maps side by side, the candidates of the head below at full width (their columns need it).
        const ImVec2 a = ImGui::GetContentRegionAvail();
        ImGui::BeginChild("##maps", ImVec2(a.x, a.y * 0.64f), false);
        ImGui::BeginChild("##map", ImVec2(a.x * 0.6f, 0), false);
        draw_map_panel(s);
        ImGui::EndChild();
        ImGui::SameLine();
        ImGui::BeginChild("##frame_map", ImVec2(0, 0), false);
        draw_frame_map_panel(s);
        ImGui::EndChild();
        ImGui::EndChild();
        ImGui::BeginChild("##map_candidates", ImVec2(0, 0), false);
        draw_candidate_panel(s);
        ImGui::EndChild();
        ImGui::EndTabItem();
      }
      if (view_tab(s, "Trade-off", View::tradeoff)) {
        draw_tradeoff_panel(s);
        ImGui::EndTabItem();
      }
      ImGui::EndTabBar();
    }
    ImGui::EndChild();
  }
  ImGui::Separator();
  draw_status_bar(s);
  ImGui::End();
  draw_file_dialog(s);
  draw_error_dialog(s);
  draw_quit_dialog(s);
}

void frame(AppState& s) {
  for (const std::string& p : dropped_paths) open_path(s, p);
  dropped_paths.clear();
  if (s.doc) s.sel.clamp(s.doc->meta());
  handle_shortcuts(s);
  update_tradeoff(s);
  s.report = nlohmann::json::object();
  draw_main(s);
}

// The command line's --step, --layer, --head; a usage error message, or "".
std::string apply_selection(AppState& s, const Options& o) {
  try {
    s.sel = initial_selection(s.doc->meta(), s.doc->plan(), o.step, o.layer, o.head);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

void write_report(const AppState& s, const Options& o) {
  nlohmann::json r = s.report;
  r["view"] = to_string(s.view);
  r["size"] = {o.width, o.height};
  r["profile"] = s.doc->profile().path().string();
  r["plan"] = s.doc->plan_path().string();
  data::write_file_atomically(*o.report, r.dump(2) + "\n");
}

}  // namespace

int run_app(const Options& options) {
  AppState s;
  s.options = options;
  s.headless = options.screenshot.has_value();
  s.view = options.view;
  s.search = make_search_backend();

  // Files first: headless mode fails without a window, the GUI shows the errors in a dialog.
  if (options.profile) open_path(s, *options.profile);
  if (options.plan && s.doc) {
    open_path(s, *options.plan);
  } else if (options.plan && s.errors.empty()) {
    s.error("A plan needs its profile: open the profile first, then " + options.plan->string());
  }
  if (s.headless) {
    if (!s.doc) {
      std::fprintf(stderr, "svdit analyze: %s\n", s.errors.empty() ? "--screenshot needs a profile" : s.errors.front().c_str());
      return s.errors.empty() ? 2 : 1;
    }
    if (!s.errors.empty()) {
      std::fprintf(stderr, "svdit analyze: %s\n", s.errors.front().c_str());
      return 1;
    }
    if (const std::string e = apply_selection(s, options); !e.empty()) {
      std::fprintf(stderr, "svdit analyze: %s\n", e.c_str());
      return 2;
    }
  } else if (s.doc) {
    if (const std::string e = apply_selection(s, options); !e.empty()) s.error(e);
  }

  glfwSetErrorCallback(on_glfw_error);
  if (!glfwInit()) {
    std::fprintf(stderr, "svdit analyze: cannot open a window (%s). Is there an X display? Headless: run under "
                 "xvfb-run -a.\n", glfw_error_text.c_str());
    return 1;
  }
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
  glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
  if (s.headless) glfwWindowHint(GLFW_VISIBLE, GLFW_FALSE);
  GLFWwindow* window = glfwCreateWindow(options.width, options.height, "svdit analyze", nullptr, nullptr);
  if (window == nullptr) {
    std::fprintf(stderr, "svdit analyze: cannot create an OpenGL 3.3 window (%s)\n", glfw_error_text.c_str());
    glfwTerminate();
    return 1;
  }
  glfwMakeContextCurrent(window);
  glfwSwapInterval(s.headless ? 0 : 1);
  glfwSetDropCallback(window, on_drop);
  if (!load_gl_functions()) {
    std::fprintf(stderr, "svdit analyze: the OpenGL context lacks framebuffer objects\n");
    glfwDestroyWindow(window);
    glfwTerminate();
    return 1;
  }

  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGuiIO& io = ImGui::GetIO();
  io.IniFilename = nullptr;  // the layout is fixed; write nothing into the user's working directory
  ImGui::StyleColorsDark();
  ImGui::GetStyle().WindowRounding = 0;
  load_font();
  ImGui_ImplGlfw_InitForOpenGL(window, true);
  ImGui_ImplOpenGL3_Init("#version 330");

  int status = 0;
  {
    std::unique_ptr<Framebuffer> target;
    if (s.headless) {
      target = std::make_unique<Framebuffer>(options.width, options.height);
      if (!target->complete()) {
        std::fprintf(stderr, "svdit analyze: cannot create an offscreen framebuffer\n");
        status = 1;
      }
    }
    // Frame times: the first frames do the one-off work (font atlas, shaders, reading the map, uploading
    // textures); the rest show the steady state a user sees.
    double first_ms = 0, rest_ms = 0, rest_ui_ms = 0;
    int frames = 0;
    while (status == 0) {
      const auto t0 = std::chrono::steady_clock::now();
      glfwPollEvents();
      ImGui_ImplOpenGL3_NewFrame();
      ImGui_ImplGlfw_NewFrame();
      if (s.headless) {
        io.DisplaySize = ImVec2(static_cast<float>(options.width), static_cast<float>(options.height));
        io.DisplayFramebufferScale = ImVec2(1, 1);
      }
      ImGui::NewFrame();
      frame(s);
      ImGui::Render();
      // What the analyzer's own code costs (panels, figures, ImGui's layout), apart from the rasteriser's work
      // below, which under Xvfb is Mesa's software renderer and on a desktop a GPU's.
      const double ui_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      int fb_w = options.width, fb_h = options.height;
      if (s.headless) {
        target->bind();
      } else {
        glfwGetFramebufferSize(window, &fb_w, &fb_h);
      }
      glViewport(0, 0, fb_w, fb_h);
      glClearColor(0.06f, 0.06f, 0.07f, 1.0f);
      glClear(GL_COLOR_BUFFER_BIT);
      ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());

      if (s.headless) {
        glFinish();
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        (frames == 0 ? first_ms : rest_ms) += ms;
        if (frames > 0) rest_ui_ms += ui_ms;
        if (++frames < options.frames) continue;
        Image img = read_pixels(0, 0, options.width, options.height, options.height);
        Framebuffer::unbind();
        try {
          write_png(img, *options.screenshot);
          if (options.report) write_report(s, options);
          std::printf("svdit analyze: wrote %s (%dx%d, %s view); first frame %.1f ms", options.screenshot->c_str(),
                      options.width, options.height, to_string(s.view), first_ms);
          if (frames > 1) {
            std::printf(", then %.2f ms per frame over %d frames (%.2f ms of it building the frame, the rest "
                        "rendering)", rest_ms / (frames - 1), frames - 1, rest_ui_ms / (frames - 1));
          }
          std::printf("\n");
        } catch (const std::exception& e) {
          std::fprintf(stderr, "svdit analyze: %s\n", e.what());
          status = 1;
        }
        if (!s.errors.empty()) {
          std::fprintf(stderr, "svdit analyze: %s\n", s.errors.front().c_str());
          status = 1;
        }
        break;
      }
      if (s.export_request && --s.export_wait <= 0) {
        // The active view's region of the frame just drawn (before the swap).
        const ImVec2 scale = io.DisplayFramebufferScale;
        const auto x = static_cast<int>(s.view_rect.x * scale.x), y = static_cast<int>(s.view_rect.y * scale.y);
        const auto w = static_cast<int>(s.view_rect.w * scale.x), h = static_cast<int>(s.view_rect.h * scale.y);
        glReadBuffer(GL_BACK);
        const Image full = read_pixels(0, 0, fb_w, fb_h, fb_h);
        const auto path = *s.export_request;
        s.export_request.reset();
        if (s.attempt("Exporting " + path.string(), [&] { write_png(full.crop(x, y, w, h), path); })) {
          s.status = "exported " + path.string();
        }
      }
      glfwSwapBuffers(window);
      if (glfwWindowShouldClose(window)) {
        glfwSetWindowShouldClose(window, GLFW_FALSE);
        if (s.doc && s.doc->dirty()) {
          s.confirm_quit = true;
        } else {
          s.quit = true;
        }
      }
      if (s.quit) break;
    }
  }
  ImGui_ImplOpenGL3_Shutdown();
  ImGui_ImplGlfw_Shutdown();
  ImGui::DestroyContext();
  glfwDestroyWindow(window);
  glfwTerminate();
  return status;
}

}  // namespace svdit::analyzer::ui
