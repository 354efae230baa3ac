#include "ui/app.h"

#include <GLFW/glfw3.h>
#include <imgui.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>
#include <stb_image_write.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "studio/build_info.h"

namespace cj::ui {
namespace {

// The UI's own strings; the font atlas holds exactly the glyphs these (and, later, the book's text) need.
const char* kStrings[] = {"长卷", "文件", "打开书稿", "退出", "尚未打开书稿", "用法", "版本", "字数",
                          "章节", "人物", "设定", "大纲", "写作助手", "一致性检查", "任务", "搜索", "上下文", "引擎"};

void load_font(const AppOptions& opt) {
  ImGuiIO& io = ImGui::GetIO();
  if (!std::filesystem::exists(opt.font_path)) {
    std::fprintf(stderr, "changjuan: CJK font not found at %s; Chinese text will not render (install fonts-noto-cjk)\n",
                 opt.font_path.c_str());
    io.Fonts->AddFontDefault();
    return;
  }
  ImFontGlyphRangesBuilder b;
  b.AddRanges(io.Fonts->GetGlyphRangesDefault());
  for (const char* s : kStrings) b.AddText(s);
  static ImVector<ImWchar> ranges;  // must outlive the atlas build
  ranges.clear();
  b.BuildRanges(&ranges);
  ImFontConfig cfg;
  cfg.FontNo = opt.font_face;
  cfg.OversampleH = 1;
  io.Fonts->AddFontFromFileTTF(opt.font_path.c_str(), 18.0f * opt.ui_scale, &cfg, ranges.Data);
}

bool write_png(const std::string& path, int w, int h) {
  std::vector<unsigned char> px(static_cast<size_t>(w) * h * 4);
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  glReadPixels(0, 0, w, h, GL_RGBA, GL_UNSIGNED_BYTE, px.data());
  stbi_flip_vertically_on_write(1);
  return stbi_write_png(path.c_str(), w, h, 4, px.data(), w * 4) != 0;
}

void draw_frame(const AppOptions& opt, bool* quit) {
  const ImGuiViewport* vp = ImGui::GetMainViewport();
  ImGui::SetNextWindowPos(vp->WorkPos);
  ImGui::SetNextWindowSize(vp->WorkSize);
  ImGui::Begin("长卷", nullptr, ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_MenuBar);
  if (ImGui::BeginMenuBar()) {
    if (ImGui::BeginMenu("文件")) {
      if (ImGui::MenuItem("退出", "Ctrl+Q")) *quit = true;
      ImGui::EndMenu();
    }
    ImGui::EndMenuBar();
  }
  if (opt.db.empty()) {
    ImGui::TextUnformatted("尚未打开书稿");
    ImGui::TextDisabled("changjuan --db BOOK.cjbook --book ID");
  } else {
    ImGui::Text("%s  #%lld", opt.db.c_str(), opt.book_id);
  }
  ImGui::Separator();
  static const std::string ver = build_info()["version"].get<std::string>();
  ImGui::TextDisabled("%s %s", "版本", ver.c_str());
  ImGui::End();
}

}  // namespace

int run_app(const AppOptions& opt) {
  if (!glfwInit()) {
    std::fprintf(stderr, "changjuan: cannot open a window (no display? run under xvfb-run for headless use)\n");
    return 1;
  }
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
  glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
  if (!opt.screenshot.empty()) glfwWindowHint(GLFW_VISIBLE, GLFW_FALSE);
  GLFWwindow* win = glfwCreateWindow(opt.width, opt.height, "长卷 Changjuan", nullptr, nullptr);
  if (!win) {
    std::fprintf(stderr, "changjuan: cannot create an OpenGL 3.3 window\n");
    glfwTerminate();
    return 1;
  }
  glfwMakeContextCurrent(win);
  glfwSwapInterval(opt.screenshot.empty() ? 1 : 0);
  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGui::GetIO().IniFilename = nullptr;
  ImGui::StyleColorsLight();
  ImGui_ImplGlfw_InitForOpenGL(win, true);
  ImGui_ImplOpenGL3_Init("#version 330");
  load_font(opt);

  int rc = 0;
  bool quit = false;
  for (int frame = 0; !glfwWindowShouldClose(win) && !quit; ++frame) {
    glfwPollEvents();
    ImGui_ImplOpenGL3_NewFrame();
    ImGui_ImplGlfw_NewFrame();
    ImGui::NewFrame();
    draw_frame(opt, &quit);
    ImGui::Render();
    int w, h;
    glfwGetFramebufferSize(win, &w, &h);
    glViewport(0, 0, w, h);
    glClearColor(0.95f, 0.95f, 0.93f, 1.0f);
    glClear(GL_COLOR_BUFFER_BIT);
    ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
    if (!opt.screenshot.empty() && frame + 1 >= opt.frames) {
      if (!write_png(opt.screenshot, w, h)) {
        std::fprintf(stderr, "changjuan: cannot write %s\n", opt.screenshot.c_str());
        rc = 1;
      }
      break;
    }
    glfwSwapBuffers(win);
  }
  ImGui_ImplOpenGL3_Shutdown();
  ImGui_ImplGlfw_Shutdown();
  ImGui::DestroyContext();
  glfwDestroyWindow(win);
  glfwTerminate();
  return rc;
}

}  // namespace cj::ui
