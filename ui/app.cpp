#include "ui/app.h"

#include <GLFW/glfw3.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>
#include <imgui.h>
#include <stb_image_write.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <atomic>
#include <mutex>
#include <thread>

#include <imgui_stdlib.h>

#include "studio/book_import.h"
#include "studio/settings.h"
#include "ui/dialog_settings.h"
#include "ui/file_dialog.h"
#include "ui/panel.h"
#include "ui/script.h"
#include "ui/settings.h"
#include "ui/ui_strings.h"

namespace cj::ui {
namespace {

bool write_png(const std::string& path, int w, int h) {
  std::vector<unsigned char> px(static_cast<size_t>(w) * h * 4);
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  glReadPixels(0, 0, w, h, GL_RGBA, GL_UNSIGNED_BYTE, px.data());
  stbi_flip_vertically_on_write(1);
  stbi_write_force_png_filter = 0;  // unfiltered rows: tests read pixels with a few lines of Python
  return stbi_write_png(path.c_str(), w, h, 4, px.data(), w * 4) != 0;
}

// A calm, paper-like light theme: warm greys, one blue for selection, nothing saturated.
ImGuiStyle make_style() {
  ImGuiStyle s;
  ImGui::StyleColorsLight(&s);
  s.WindowRounding = 0;
  s.ChildRounding = 4;
  s.FrameRounding = 4;
  s.TabRounding = 4;
  s.PopupRounding = 4;
  s.ScrollbarRounding = 6;
  s.ScrollbarSize = 12;
  s.WindowPadding = ImVec2(10, 10);
  s.FramePadding = ImVec2(8, 4);
  s.ItemSpacing = ImVec2(8, 6);
  s.WindowBorderSize = 0;
  s.ChildBorderSize = 1;
  s.FrameBorderSize = 1;
  auto* c = s.Colors;
  c[ImGuiCol_Text] = ImVec4(0.16f, 0.16f, 0.18f, 1);
  c[ImGuiCol_TextDisabled] = ImVec4(0.50f, 0.49f, 0.46f, 1);
  c[ImGuiCol_WindowBg] = ImVec4(0.945f, 0.937f, 0.914f, 1);
  c[ImGuiCol_ChildBg] = ImVec4(0, 0, 0, 0);
  c[ImGuiCol_PopupBg] = ImVec4(0.99f, 0.985f, 0.97f, 1);
  c[ImGuiCol_Border] = ImVec4(0.74f, 0.72f, 0.68f, 1);
  c[ImGuiCol_BorderShadow] = ImVec4(0, 0, 0, 0);
  c[ImGuiCol_MenuBarBg] = ImVec4(0.905f, 0.895f, 0.87f, 1);
  c[ImGuiCol_FrameBg] = ImVec4(1, 1, 1, 1);
  c[ImGuiCol_FrameBgHovered] = ImVec4(0.97f, 0.97f, 0.99f, 1);
  c[ImGuiCol_Header] = ImVec4(0.80f, 0.86f, 0.94f, 1);
  c[ImGuiCol_HeaderHovered] = ImVec4(0.86f, 0.89f, 0.94f, 1);
  c[ImGuiCol_HeaderActive] = ImVec4(0.74f, 0.82f, 0.93f, 1);
  c[ImGuiCol_Button] = ImVec4(0.88f, 0.87f, 0.84f, 1);
  c[ImGuiCol_ButtonHovered] = ImVec4(0.82f, 0.86f, 0.93f, 1);
  c[ImGuiCol_ButtonActive] = ImVec4(0.74f, 0.82f, 0.93f, 1);
  c[ImGuiCol_Tab] = ImVec4(0.88f, 0.87f, 0.84f, 1);
  c[ImGuiCol_TabHovered] = ImVec4(0.95f, 0.95f, 0.97f, 1);
  c[ImGuiCol_TabActive] = ImVec4(0.99f, 0.985f, 0.97f, 1);
  c[ImGuiCol_TabUnfocused] = c[ImGuiCol_Tab];
  c[ImGuiCol_TabUnfocusedActive] = c[ImGuiCol_TabActive];
  c[ImGuiCol_Separator] = ImVec4(0.82f, 0.80f, 0.76f, 1);
  c[ImGuiCol_ScrollbarBg] = ImVec4(0, 0, 0, 0);
  c[ImGuiCol_TableRowBgAlt] = ImVec4(0, 0, 0, 0.03f);
  return s;
}

// Converts a byte offset in a chapter's saved text to a document position.
TextPos pos_from_offset(std::string_view text, size_t off) {
  off = std::min(off, text.size());
  TextPos p;
  size_t line_start = 0;
  for (size_t i = 0; i < off; ++i)
    if (text[i] == '\n') ++p.para, line_start = i + 1;
  p.byte = static_cast<int>(off - line_start);
  return p;
}

class App {
 public:
  explicit App(const AppOptions& opt) : opt_(opt), settings_(load_settings()), atlas_(font_config()) {
    st_.atlas = &atlas_;
    if (opt_.no_restore) settings_.recent.clear();
    st_.editor = &editor_;
    st_.save_now = [this] { return save(); };
    panels_.push_back(make_chapters_panel());
    panels_.push_back(make_editor_panel());
    panels_.push_back(make_ai_panel());
    panels_.push_back(make_entities_panel());
    panels_.push_back(make_outline_panel());
    panels_.push_back(make_findings_panel());
    panels_.push_back(make_search_panel());
    panels_.push_back(make_jobs_panel());
    panels_.push_back(make_context_panel());
    panels_.push_back(make_engine_panel());
    right_tab_ = "ai";
    if (opt_.ui_scale > 0) settings_.ui_scale = opt_.ui_scale;
  }

  int run();
  ~App() {
    if (import_thread_.joinable()) import_thread_.join();
  }

 private:
  FontConfig font_config() const {
    FontConfig fc;
    if (!opt_.font_path.empty())
      fc.path = opt_.font_path;
    else if (!settings_.font_path.empty())
      fc.path = settings_.font_path;
    if (opt_.font_face >= 0)
      fc.face = opt_.font_face;
    else if (settings_.font_face >= 0)
      fc.face = settings_.font_face;
    return fc;
  }
  bool headless() const { return !opt_.screenshot.empty() || !opt_.script.empty(); }
  Panel* panel(const std::string& name) {
    for (auto& p : panels_)
      if (name == p->name()) return p.get();
    return nullptr;
  }
  void open_book_from_options();
  void open_text(const std::string& path, int chapter);
  void open_project(const std::string& path, long long book_id, int chapter);
  void adopt(std::unique_ptr<studio::BookSession> book, int chapter);
  void open_chapter(int index, bool reload = false);
  bool save();
  void apply_scale();
  void draw_ui(bool* quit);
  void draw_menu(bool* quit);
  void draw_status_bar();
  void carry_out_requests();
  void splitter(const char* id, float* width, float sign, float height);
  bool run_script_command(const ScriptCommand& c, bool* quit, std::string* shot);

  AppOptions opt_;
  Settings settings_;
  GlyphAtlas atlas_;
  TextEditor editor_;
  UiState st_;
  std::vector<std::unique_ptr<Panel>> panels_;  // [0] chapters, [1] editor, the rest: right-hand tabs
  std::string right_tab_;
  bool select_tab_ = false;
  ImGuiStyle base_style_;
  float applied_scale_ = -1;
  std::string ini_path_;
  std::string window_title_;
  std::unique_ptr<studio::Assistant> assistant_;  // the open project's model and job queue
  std::map<int, TextPos> caret_memory_;  // chapter index -> caret when it was left
  int script_failures_ = 0;
  std::string shown_last_frame_;  // the text the last frame noted in the atlas (script: expect-shown)
  bool chapter_ref_done_ = false;   // --chapter is applied to the first book opened only
  std::string chapter_ref_error_;
  std::string script_hold_;  // wait-ai: the state awaited
  double script_hold_until_ = 0;
  bool ai_state_reached(const std::string& want);
  bool open_dialog_ = false;
  char open_path_[1024] = {};

  // First run and project handling: the welcome page, 新建项目, 导入小说 (on a worker), 打开项目, the settings.
  void draw_welcome();
  void draw_dialogs();
  void do_action(const std::string& action);
  void start_import(const std::string& src, const std::string& dst);
  void reload_model();
  studio::Settings machine_settings();
  std::string caret_key(int index) const;
  void remember_caret_of_open_chapter();
  FileDialog files_;
  SettingsDialog settings_dialog_;
  bool new_project_popup_ = false;
  std::string new_title_, new_path_;
  bool new_path_chosen_ = false;
  std::string new_error_;
  std::thread import_thread_;
  std::atomic<bool> importing_{false};
  std::mutex import_mu_;
  std::optional<Result<studio::ImportSummary>> import_done_;  // set by the worker, taken by the UI
  std::string import_src_;
  bool summary_popup_ = false;
  std::string summary_text_;
  // Script: click-label waits (up to 30 s) for its label to be drawn.
  std::string script_click_label_;
  double script_click_until_ = 0;
  bool script_click_seen_ = false;
  UiState::ItemRect script_click_rect_;
  ScriptRunner* script_ = nullptr;
};

void App::open_text(const std::string& path, int chapter) {
  if (st_.dirty()) save();
  auto b = studio::BookSession::open_text_file(path);
  if (!b.ok()) {
    st_.say(b.error(), true);
    std::fprintf(stderr, "changjuan: %s\n", b.error().c_str());
    return;
  }
  adopt(std::move(*b), chapter);
  settings_.last_text = std::filesystem::absolute(path).string();
  settings_.last_db.clear();
}

void App::open_book_from_options() {
  const int remembered = opt_.chapter >= 0 ? opt_.chapter : std::max(0, settings_.last_chapter);
  if (!opt_.db.empty()) return open_project(opt_.db, opt_.book_id, opt_.chapter >= 0 ? opt_.chapter : 0);
  if (!opt_.open_text.empty()) return open_text(opt_.open_text, opt_.chapter >= 0 ? opt_.chapter : 0);
  if (opt_.no_restore) return;
  if (!settings_.last_db.empty() && std::filesystem::exists(settings_.last_db))
    open_project(settings_.last_db, settings_.last_book, remembered);
  else if (!settings_.last_text.empty() && std::filesystem::exists(settings_.last_text))
    open_text(settings_.last_text, remembered);
}

void App::open_project(const std::string& path, long long book_id, int chapter) {
  if (st_.dirty()) save();
  auto b = studio::BookSession::open_project(path, book_id);
  if (!b.ok()) {
    st_.say(b.error(), true);
    std::fprintf(stderr, "changjuan: %s\n", b.error().c_str());
    return;
  }
  adopt(std::move(*b), chapter);
  settings_.last_db = std::filesystem::absolute(path).string();
  settings_.last_book = st_.book->book_id();
  settings_.last_text.clear();
  remember_recent(settings_, {settings_.last_db, settings_.last_book, st_.book->title()});
}

void App::adopt(std::unique_ptr<studio::BookSession> book, int chapter) {
  remember_caret_of_open_chapter();  // the book being left (its keys name it)
  st_.assistant = nullptr;
  assistant_.reset();  // a running job stops at the next token and stays queued for next time
  st_.book = std::move(book);
  if (!st_.book->db_path().empty()) {
    // The model loads on the assistant's worker thread; the UI keeps drawing meanwhile.
    assistant_ = std::make_unique<studio::Assistant>(st_.book->db_path(), st_.book->book_id());
    st_.assistant = assistant_.get();
    assistant_->load(machine_settings());
  }
  // --chapter names a chapter as the book numbers it (the CLI's rule); a bad one is a one-line error naming the range.
  if (!opt_.chapter_ref.empty() && !chapter_ref_done_) {
    chapter_ref_done_ = true;
    auto i = st_.book->resolve_chapter(opt_.chapter_ref);
    if (i.ok()) {
      chapter = static_cast<int>(*i);
    } else {
      chapter_ref_error_ = "--chapter " + opt_.chapter_ref + ": " + i.error();
      std::fprintf(stderr, "changjuan: error: %s\n", chapter_ref_error_.c_str());
    }
  }
  st_.chapter = -1;
  caret_memory_.clear();
  st_.book_generation++;
  atlas_.note(st_.book->title());
  for (const auto& c : st_.book->chapters()) atlas_.note(c.title);
  const int n = static_cast<int>(st_.book->chapters().size());
  if (n > 0) open_chapter(std::clamp(chapter, 0, n - 1));
  st_.say(chapter_ref_error_.empty() ? "已打开 " + st_.book->source() : chapter_ref_error_, !chapter_ref_error_.empty());
}

studio::Settings App::machine_settings() {
  const std::string dir = config_dir();
  studio::Settings machine;
  if (!dir.empty()) {
    auto m = studio::load_machine_settings(dir + "/settings.json");
    if (m.ok())
      machine = *m;
    else
      st_.say(m.error(), true);
  }
  if (!opt_.model.empty()) machine.model_path = opt_.model;
  return machine;
}

void App::reload_model() {
  if (assistant_) assistant_->load(machine_settings());
}

std::string App::caret_key(int index) const {
  if (!st_.book || index < 0 || index >= static_cast<int>(st_.book->chapters().size())) return "";
  if (st_.book->db_path().empty()) return st_.book->source() + "#" + std::to_string(index);
  std::error_code ec;
  return std::filesystem::absolute(st_.book->db_path(), ec).string() + "#" + std::to_string(st_.book->book_id()) + "#" +
         std::to_string(st_.book->chapters()[static_cast<size_t>(index)].id);
}

void App::remember_caret_of_open_chapter() {
  if (st_.chapter < 0) return;
  const std::string key = caret_key(st_.chapter);
  if (!key.empty()) remember_caret(settings_, key, caret_code_points(editor_.doc()));
}

void App::open_chapter(int index, bool reload) {
  if (!st_.book || index < 0 || index >= static_cast<int>(st_.book->chapters().size())) return;
  if ((index != st_.chapter || reload) && st_.dirty() && !save()) return;  // never drop unsaved text
  auto text = st_.book->load_chapter(static_cast<size_t>(index));
  if (!text.ok()) {
    st_.say(text.error(), true);
    return;
  }
  if (index != st_.chapter || reload) {
    // Each chapter reopens where the writer left it (this session, or remembered from an earlier one); a chapter
    // opened for the first time puts the caret at the end of its text, where 续写 goes on.
    if (st_.chapter >= 0) {
      caret_memory_[st_.chapter] = editor_.doc().caret();
      remember_caret_of_open_chapter();
    }
    const bool same = index == st_.chapter;
    const TextPos keep = editor_.doc().caret();
    editor_.open(*text, atlas_);
    st_.chapter = index;
    st_.saved_version = editor_.doc().version();
    settings_.last_chapter = index;
    if (!st_.request_select) {
      TextPos at = pos_from_offset(*text, text->size());
      if (same) {
        at = keep;  // a reload (an accepted revision) keeps the caret where it was
      } else if (auto it = caret_memory_.find(index); it != caret_memory_.end()) {
        at = it->second;
      } else if (auto c = settings_.carets.find(caret_key(index)); c != settings_.carets.end()) {
        at = pos_from_offset(*text, studio::byte_offset_of_code_point(*text, c->second));
      }
      at.para = std::min(at.para, std::max(0, editor_.doc().para_count() - 1));
      at.byte = std::min(at.byte, static_cast<int>(editor_.doc().para(at.para).size()));
      editor_.select_range(at, at);
    }
  }
  if (st_.request_select) {
    const auto [a, b] = *st_.request_select;
    editor_.select_range(pos_from_offset(*text, a), pos_from_offset(*text, b));
    st_.request_select.reset();
  }
  editor_.focus();
}

bool App::save() {
  if (!st_.book || st_.chapter < 0) return true;
  if (!st_.dirty()) return true;
  const auto& title = st_.book->chapters()[static_cast<size_t>(st_.chapter)].title;
  Status s = st_.book->save_chapter(static_cast<size_t>(st_.chapter), editor_.doc().text());
  if (!s.ok()) {
    st_.say("保存失败：" + s.error(), true);
    return false;
  }
  st_.saved_version = editor_.doc().version();
  editor_.doc().seal_undo_group();
  const auto& ch = st_.book->chapters()[static_cast<size_t>(st_.chapter)];
  st_.say(st_.book->has_revisions() ? "已保存 " + title + "（修订 " + std::to_string(ch.revision) + "）"
                                    : "已保存 " + title);
  return true;
}

void App::apply_scale() {
  if (applied_scale_ == settings_.ui_scale) return;
  applied_scale_ = settings_.ui_scale;
  ImGuiStyle s = base_style_;
  s.ScaleAllSizes(settings_.ui_scale);
  ImGui::GetStyle() = s;
  atlas_.set_scale(settings_.ui_scale);
}

void App::splitter(const char* id, float* width, float sign, float height) {
  ImGui::InvisibleButton(id, ImVec2(6 * settings_.ui_scale, height));
  if (ImGui::IsItemActive()) *width += sign * ImGui::GetIO().MouseDelta.x / settings_.ui_scale;
  if (ImGui::IsItemHovered() || ImGui::IsItemActive()) ImGui::SetMouseCursor(ImGuiMouseCursor_ResizeEW);
  *width = std::clamp(*width, 160.0f, 900.0f);
}

void App::draw_menu(bool* quit) {
  if (!ImGui::BeginMenuBar()) return;
  const bool file_menu = ImGui::BeginMenu("文件");
  note_item(st_, "文件");
  if (file_menu) {
    if (menu_item(st_, "新建项目…")) do_action("new_project");
    if (menu_item(st_, "导入小说…")) do_action("import");
    if (menu_item(st_, "打开项目…", "Ctrl+O")) do_action("open_project");
    if (ImGui::BeginMenu("最近的项目", !settings_.recent.empty())) {
      for (size_t i = 0; i < settings_.recent.size(); ++i) {
        const auto& r = settings_.recent[i];
        atlas_.note(r.title);
        atlas_.note(r.path);
        const std::string label = (r.title.empty() ? r.path : r.title + "  —  " + r.path) + "##recent" + std::to_string(i);
        if (menu_item(st_, label.c_str())) do_action("recent:" + std::to_string(i));
      }
      ImGui::EndMenu();
    }
    ImGui::Separator();
    if (menu_item(st_, "打开文本文件…")) open_dialog_ = true;
    if (menu_item(st_, "把文本导入为书稿项目…", nullptr, false, st_.book && !st_.book->has_revisions()))
      do_action("import_text");
    if (menu_item(st_, "保存", "Ctrl+S", false, st_.dirty())) save();
    ImGui::Separator();
    if (menu_item(st_, "模型与设置…")) do_action("settings");
    ImGui::Separator();
    if (menu_item(st_, "退出", "Ctrl+Q")) *quit = true;
    ImGui::EndMenu();
  }
  if (ImGui::BeginMenu("编辑")) {
    TextDoc& d = editor_.doc();
    if (ImGui::MenuItem("撤销", "Ctrl+Z", false, d.can_undo())) d.undo();
    if (ImGui::MenuItem("重做", "Ctrl+Y", false, d.can_redo())) d.redo();
    if (ImGui::MenuItem("查找", "Ctrl+F")) st_.request_tab = "search";
    if (ImGui::MenuItem("下一个一致性问题", "F8")) st_.request_tab = "findings";
    ImGui::EndMenu();
  }
  if (ImGui::BeginMenu("视图")) {
    if (ImGui::BeginMenu("界面缩放")) {
      for (float s : {0.8f, 0.9f, 1.0f, 1.25f, 1.5f, 1.75f, 2.0f}) {
        char label[16];
        std::snprintf(label, sizeof label, "%d%%", static_cast<int>(s * 100 + 0.5f));
        if (ImGui::MenuItem(label, nullptr, settings_.ui_scale == s)) settings_.ui_scale = s;
      }
      ImGui::EndMenu();
    }
    ImGui::Separator();
    for (size_t i = 2; i < panels_.size(); ++i)
      if (ImGui::MenuItem(panels_[i]->title(), nullptr, right_tab_ == panels_[i]->name()))
        st_.request_tab = panels_[i]->name();
    ImGui::EndMenu();
  }
  ImGui::EndMenuBar();
}

void App::draw_status_bar() {
  ImGui::Separator();
  if (!st_.message.empty()) {
    atlas_.note(st_.message);
    st_.texts_drawn.push_back(st_.message);
    if (st_.message_is_error)
      ImGui::TextColored(ImVec4(0.72f, 0.12f, 0.1f, 1), "%s", st_.message.c_str());
    else
      ImGui::TextDisabled("%s", st_.message.c_str());
  }
  if (st_.chapter >= 0) {
    const TextDoc& d = editor_.doc();
    char right[128];
    std::snprintf(right, sizeof right, "第 %d 段 · %zu 字", d.caret().para + 1, d.zi_count());
    ImGui::SameLine(ImGui::GetContentRegionMax().x - ImGui::CalcTextSize(right).x);
    ImGui::TextDisabled("%s", right);
  }
}

void App::draw_ui(bool* quit) {
  const ImGuiViewport* vp = ImGui::GetMainViewport();
  ImGui::SetNextWindowPos(vp->WorkPos);
  ImGui::SetNextWindowSize(vp->WorkSize);
  ImGui::Begin("长卷", nullptr,
               ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_MenuBar | ImGuiWindowFlags_NoBringToFrontOnFocus |
                   ImGuiWindowFlags_NoScrollWithMouse);
  draw_menu(quit);
  const float scale = settings_.ui_scale;
  const float status_h = ImGui::GetFrameHeightWithSpacing() + ImGui::GetStyle().ItemSpacing.y;
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const float h = avail.y - status_h;
  const float split_w = 6 * scale + 2 * ImGui::GetStyle().ItemSpacing.x;
  float left = settings_.left_w * scale, right = settings_.right_w * scale;
  const float center = std::max(200.0f, avail.x - left - right - 2 * split_w);

  ImGui::BeginChild("left", ImVec2(left, h), true);
  panels_[0]->draw(st_);
  ImGui::EndChild();
  ImGui::SameLine();
  splitter("##split_left", &settings_.left_w, 1, h);
  ImGui::SameLine();
  ImGui::BeginChild("center", ImVec2(center, h), false,
                    ImGuiWindowFlags_NoScrollbar | ImGuiWindowFlags_NoScrollWithMouse);
  if (st_.book)
    panels_[1]->draw(st_);
  else
    draw_welcome();
  ImGui::EndChild();
  ImGui::SameLine();
  splitter("##split_right", &settings_.right_w, -1, h);
  ImGui::SameLine();
  ImGui::BeginChild("right", ImVec2(0, h), true);
  if (ImGui::BeginTabBar("panels", ImGuiTabBarFlags_FittingPolicyScroll)) {
    for (size_t i = 2; i < panels_.size(); ++i) {
      Panel& p = *panels_[i];
      const ImGuiTabItemFlags f = select_tab_ && right_tab_ == p.name() ? ImGuiTabItemFlags_SetSelected : 0;
      if (ImGui::BeginTabItem(p.title(), nullptr, f)) {
        if (!select_tab_) right_tab_ = p.name();
        ImGui::BeginChild("panel_body");
        p.draw(st_);
        ImGui::EndChild();
        ImGui::EndTabItem();
      }
    }
    select_tab_ = false;
    ImGui::EndTabBar();
  }
  ImGui::EndChild();
  draw_status_bar();

  if (open_dialog_) {
    open_dialog_ = false;
    files_.open("open_text", "打开文本文件（UTF-8、GB18030 等编码，按“第X回/第X章”分章，目录留在卷首；不保留修订）",
                FileDialog::Mode::kOpen, {".txt", ".md"}, settings_.last_text);
  }
  draw_dialogs();
  ImGui::End();

  // Global shortcuts.
  const ImGuiIO& io = ImGui::GetIO();
  if (ImGui::IsKeyPressed(GLFW_KEY_F8, false)) st_.request_tab = "findings";  // next finding
  // The assistant: Ctrl+Enter continues at the caret, Esc stops the running generation.
  if (io.KeyCtrl && (ImGui::IsKeyPressed(GLFW_KEY_ENTER, false) || ImGui::IsKeyPressed(GLFW_KEY_KP_ENTER, false))) {
    st_.request_ai = "continue";
    st_.request_tab = "ai";
  }
  if (ImGui::IsKeyPressed(GLFW_KEY_ESCAPE, false) && st_.ai_job && st_.queue.is_running(st_.ai_job)) {
    st_.request_ai = "stop";
    st_.request_tab = "ai";
  }
  if (io.KeyCtrl && !io.KeyAlt) {
    if (ImGui::IsKeyPressed(GLFW_KEY_S, false)) st_.request_save = true;
    if (ImGui::IsKeyPressed(GLFW_KEY_F, false)) st_.request_tab = "search";
    if (ImGui::IsKeyPressed(GLFW_KEY_O, false)) do_action("open_project");
    if (ImGui::IsKeyPressed(GLFW_KEY_Q, false)) *quit = true;
    if (ImGui::IsKeyPressed(GLFW_KEY_EQUAL, false)) settings_.ui_scale = std::min(3.0f, settings_.ui_scale + 0.25f);
    if (ImGui::IsKeyPressed(GLFW_KEY_MINUS, false)) settings_.ui_scale = std::max(0.75f, settings_.ui_scale - 0.25f);
  }
}

void App::carry_out_requests() {
  if (!st_.request_action.empty()) {
    const std::string a = std::move(st_.request_action);
    st_.request_action.clear();
    do_action(a);
  }
  if (st_.request_save) {
    st_.request_save = false;
    save();
  }
  if (st_.request_reload) {
    st_.request_reload = false;
    open_chapter(st_.chapter, true);
  }
  if (st_.request_open >= 0) {
    const int i = st_.request_open;
    st_.request_open = -1;
    open_chapter(i);
  }
  if (!st_.request_tab.empty()) {
    if (Panel* p = panel(st_.request_tab)) {
      right_tab_ = st_.request_tab;
      select_tab_ = true;
      p->on_activate();
    }
    st_.request_tab.clear();
  }
  if (editor_.doc().version() != st_.saved_version && st_.chapter >= 0) {
    // Autosave after a pause in typing.
    static uint64_t seen = 0;
    if (editor_.doc().version() != seen) {
      seen = editor_.doc().version();
      st_.last_change_time = ImGui::GetTime();
    } else if (ImGui::GetTime() - st_.last_change_time > 4.0) {
      save();
    }
  }
}

void App::draw_welcome() {
  const float em = ImGui::GetFontSize();
  ImGui::SetCursorPos(ImVec2(em * 2, em * 2));
  ImGui::BeginGroup();
  ImGui::SetWindowFontScale(1.6f);
  ImGui::TextUnformatted("长卷");
  ImGui::SetWindowFontScale(1.0f);
  ImGui::TextDisabled("写长篇小说的工作台：章节与修订、人物与设定、一致性检查，用本机的模型续写和起草。");
  ImGui::Spacing();
  ImGui::Spacing();
  const float bw = em * 8;
  if (button(st_, "新建项目…", bw)) do_action("new_project");
  ImGui::SameLine();
  ImGui::TextDisabled("从空白开始写一本书");
  if (button(st_, "导入小说…", bw)) do_action("import");
  ImGui::SameLine();
  ImGui::TextDisabled("把 .txt 小说（UTF-8、GB18030…）变成书稿项目，按回目分章");
  if (button(st_, "打开项目…", bw)) do_action("open_project");
  ImGui::SameLine();
  ImGui::TextDisabled("打开一个书稿项目文件（.cjbook）");
  ImGui::Spacing();
  if (!settings_.recent.empty()) {
    ImGui::Spacing();
    ImGui::TextUnformatted("最近的项目");
    ImGui::Separator();
    for (size_t i = 0; i < settings_.recent.size(); ++i) {
      const auto& r = settings_.recent[i];
      std::error_code ec;
      const bool there = std::filesystem::exists(r.path, ec);
      const std::string label = (r.title.empty() ? "（无题）" : r.title) + "##recent_w" + std::to_string(i);
      atlas_.note(label);
      atlas_.note(r.path);
      ImGui::BeginDisabled(!there);
      if (ImGui::Selectable(label.c_str(), false, 0, ImVec2(em * 10, 0))) do_action("recent:" + std::to_string(i));
      note_item(st_, label.c_str());
      ImGui::EndDisabled();
      ImGui::SameLine();
      ImGui::TextDisabled("%s%s", r.path.c_str(), there ? "" : "（文件不见了）");
    }
  }
  ImGui::Spacing();
  ImGui::Spacing();
  ImGui::TextUnformatted("写作助手的模型");
  ImGui::Separator();
  const studio::Settings m = machine_settings();
  const std::string model = m.backend == "remote" ? "远程服务器 " + m.remote_url
                            : m.model_path.empty() ? std::string("还没有选模型：续写、起草和改写要用它。")
                                                   : std::filesystem::path(m.model_path).filename().string();
  atlas_.note(model);
  ImGui::TextUnformatted(model.c_str());
  if (button(st_, "模型与设置…", bw)) do_action("settings");
  ImGui::EndGroup();
}

void App::do_action(const std::string& a) {
  std::error_code ec;
  const std::string here = !settings_.last_db.empty() ? std::filesystem::path(settings_.last_db).parent_path().string() : "";
  if (a == "settings") {
    settings_dialog_.open(machine_settings());
  } else if (a == "new_project") {
    new_title_.clear();
    new_path_.clear();
    new_path_chosen_ = false;
    new_error_.clear();
    new_project_popup_ = true;
  } else if (a == "import") {
    if (importing_) return st_.say("正在导入，等它完成", true);
    files_.open("import_src", "导入小说：选择 .txt 文件", FileDialog::Mode::kOpen, {".txt", ".md"}, here);
  } else if (a == "import_text") {
    if (!st_.book || st_.book->has_revisions()) return;
    if (st_.dirty()) save();
    const std::filesystem::path src(st_.book->source());
    files_.open("import_dst", "书稿项目存到哪里", FileDialog::Mode::kSave, {".cjbook"},
                (src.parent_path() / (src.stem().string() + ".cjbook")).string());
    import_src_ = src.string();
  } else if (a == "open_project") {
    files_.open("open_project", "打开书稿项目", FileDialog::Mode::kOpen, {".cjbook", ".cjdb", ".db"}, here);
  } else if (a.rfind("recent:", 0) == 0) {
    const size_t i = static_cast<size_t>(std::atoi(a.c_str() + 7));
    if (i < settings_.recent.size()) {
      const RecentProject r = settings_.recent[i];
      if (!std::filesystem::exists(r.path, ec)) return st_.say("找不到 " + r.path + "（移走或删除了？）", true);
      open_project(r.path, r.book, 0);
    }
  }
}

void App::start_import(const std::string& src, const std::string& dst) {
  if (import_thread_.joinable()) import_thread_.join();
  importing_ = true;
  import_src_ = src;
  st_.say("正在导入 " + src + " …");
  import_thread_ = std::thread([this, src, dst] {
    auto r = studio::import_novel(dst, src);
    std::lock_guard<std::mutex> lk(import_mu_);
    import_done_ = std::move(r);
    importing_ = false;
  });
}

void App::draw_dialogs() {
  const float em = ImGui::GetFontSize();
  // The file browser (the settings dialog draws its own, above itself).
  if (files_.is_open() && files_.purpose() != "model" && files_.purpose() != "kv_dir" && !new_project_popup_ &&
      files_.purpose() != "new_path" && files_.draw(st_)) {
    const std::string p = files_.result(), why = files_.purpose();
    if (why == "open_project") {
      open_project(p, 0, 0);
    } else if (why == "open_text") {
      open_text(p, 0);
    } else if (why == "import_src") {
      import_src_ = p;
      const std::filesystem::path src(p);
      files_.open("import_dst", "书稿项目存到哪里（已有的项目：书加进去）", FileDialog::Mode::kSave, {".cjbook"},
                  (src.parent_path() / (src.stem().string() + ".cjbook")).string());
    } else if (why == "import_dst") {
      start_import(import_src_, p);
    }
  }
  // 新建项目: a title and where the project file goes.
  if (new_project_popup_) {
    ImGui::OpenPopup("新建项目");
    new_project_popup_ = false;
    files_ = FileDialog();
  }
  center_next_window();
  ImGui::SetNextWindowSize(ImVec2(em * 34, 0), ImGuiCond_Appearing);
  if (ImGui::BeginPopupModal("新建项目", nullptr)) {
    ImGui::TextUnformatted("书名");
    ImGui::SetNextItemWidth(-1);
    if (ImGui::IsWindowAppearing()) ImGui::SetKeyboardFocusHere();
    bool create = ImGui::InputText("##title", &new_title_, ImGuiInputTextFlags_EnterReturnsTrue);
    atlas_.note(new_title_);
    if (!new_path_chosen_) {
      const char* home = std::getenv("HOME");
      const std::string name = new_title_.empty() ? "新书" : new_title_;
      new_path_ = (std::filesystem::path(home ? home : ".") / (name + ".cjbook")).string();
    }
    atlas_.note(new_path_);
    ImGui::TextDisabled("项目文件：%s", new_path_.c_str());
    if (button(st_, "换个位置…"))
      files_.open("new_path", "项目文件存到哪里", FileDialog::Mode::kSave, {".cjbook"}, new_path_);
    if (files_.is_open() && files_.purpose() == "new_path" && files_.draw(st_)) {
      new_path_ = files_.result();
      new_path_chosen_ = true;
    }
    if (!new_error_.empty()) {
      atlas_.note(new_error_);
      ImGui::TextColored(ImVec4(0.72f, 0.12f, 0.1f, 1), "%s", new_error_.c_str());
    }
    ImGui::Spacing();
    create = button(st_, "创建", em * 6) || create;
    ImGui::SameLine();
    if (button(st_, "取消##new", em * 6)) ImGui::CloseCurrentPopup();
    if (create) {
      auto id = studio::create_project(new_path_, new_title_);
      if (!id.ok()) {
        new_error_ = id.error();
      } else {
        ImGui::CloseCurrentPopup();
        open_project(new_path_, *id, 0);
        st_.say("已新建《" + new_title_ + "》：第一章在左边，开始写吧");
      }
    }
    ImGui::EndPopup();
  }
  // The model and its settings.
  if (settings_dialog_.draw(st_, files_)) {
    st_.say("已保存设置");
    reload_model();
  }
  // An import running on its worker, then its summary.
  if (importing_) ImGui::OpenPopup("正在导入");
  center_next_window();
  if (ImGui::BeginPopupModal("正在导入", nullptr, ImGuiWindowFlags_AlwaysAutoResize)) {
    atlas_.note(import_src_);
    ImGui::Text("正在导入 %s", import_src_.c_str());
    ImGui::TextDisabled("分章、建索引、生成摘要……");
    if (!importing_) ImGui::CloseCurrentPopup();
    ImGui::EndPopup();
  }
  {
    std::optional<Result<studio::ImportSummary>> done;
    {
      std::lock_guard<std::mutex> lk(import_mu_);
      done.swap(import_done_);
    }
    if (done) {
      if (!done->ok()) {
        summary_text_ = "导入失败：" + done->error();
        st_.say(summary_text_, true);
      } else {
        summary_text_ = studio::describe(done->value());
        open_project(done->value().db_path, done->value().result.book_id, 0);
      }
      summary_popup_ = true;
    }
  }
  if (summary_popup_) {
    ImGui::OpenPopup("导入结果");
    summary_popup_ = false;
  }
  center_next_window();
  ImGui::SetNextWindowSize(ImVec2(em * 34, 0), ImGuiCond_Appearing);
  if (ImGui::BeginPopupModal("导入结果", nullptr)) {
    wrapped_text(st_, summary_text_);
    ImGui::Spacing();
    if (button(st_, "开始写作", em * 7)) ImGui::CloseCurrentPopup();
    ImGui::EndPopup();
  }
}

bool App::run_script_command(const ScriptCommand& c, bool* quit, std::string* shot) {
  auto fail = [&](const std::string& why) {
    std::fprintf(stderr, "changjuan: script line %d: %s\n", c.line, why.c_str());
    ++script_failures_;
    return false;
  };
  if (c.op == "open") {
    st_.request_open = std::atoi(c.arg.c_str());
  } else if (c.op == "panel") {
    if (!panel(c.arg)) return fail("no panel '" + c.arg + "'");
    st_.request_tab = c.arg;
  } else if (c.op == "screenshot") {
    *shot = c.arg;
  } else if (c.op == "expect-text") {
    if (editor_.doc().text().find(c.arg) == std::string::npos)
      return fail("the editor does not contain '" + c.arg + "'");
  } else if (c.op == "expect-no-text") {
    if (editor_.doc().text().find(c.arg) != std::string::npos) return fail("the editor still contains '" + c.arg + "'");
  } else if (c.op == "expect-selection") {
    if (editor_.doc().selected_text() != c.arg)
      return fail("the selection is '" + editor_.doc().selected_text() + "', not '" + c.arg + "'");
  } else if (c.op == "expect-shown") {
    if (shown_last_frame_.find(c.arg) == std::string::npos) return fail("the last frame did not show '" + c.arg + "'");
  } else if (c.op == "expect-not-shown") {
    if (shown_last_frame_.find(c.arg) != std::string::npos) return fail("the last frame showed '" + c.arg + "'");
  } else if (c.op == "expect-saved") {
    if (st_.dirty()) return fail("the open chapter has unsaved edits");
  } else if (c.op == "ai") {
    st_.request_ai = c.arg;  // continue [N] | draft | rewrite | stop | accept | discard | diff
    st_.request_tab = "ai";
  } else if (c.op == "wait-ai") {
    // Holds the script (see script_hold_) until the AI job reaches the state: model | streaming | STATUS.
    script_hold_ = c.arg;
    script_hold_until_ = ImGui::GetTime() + 60;
  } else if (c.op == "click-label") {
    script_click_label_ = c.arg;
    script_click_until_ = ImGui::GetTime() + 30;
    script_click_seen_ = false;
  } else if (c.op == "expect-label" || c.op == "expect-no-label") {
    const bool drawn = st_.items_drawn.count(c.arg) > 0;
    if (drawn != (c.op == "expect-label")) return fail(std::string(drawn ? "there is" : "there is no") + " item '" + c.arg + "'");
  } else if (c.op == "expect-caret") {
    const TextDoc& d = editor_.doc();
    const TextPos at = d.caret();
    const TextPos end{d.para_count() - 1, static_cast<int>(d.para(d.para_count() - 1).size())};
    const TextPos want = c.arg == "end" ? end : TextPos{0, 0};
    if (at != want)
      return fail("the caret is at paragraph " + std::to_string(at.para + 1) + ", byte " + std::to_string(at.byte) +
                  ", not at the " + c.arg);
  } else if (c.op == "expect-ui-text") {
    bool found = false;
    for (const auto& t : st_.texts_drawn) found = found || t.find(c.arg) != std::string::npos;
    if (!found) return fail("no text shown contains '" + c.arg + "'");
  } else if (c.op == "expect-context-prompt") {
    if (!assistant_) return fail("no assistant (open a project)");
    const std::string shown = assistant_->context().prompt, sent = assistant_->last_prompt();
    if (sent.empty()) return fail("the model has received no prompt yet");
    if (shown != sent)
      return fail("the context panel's prompt (" + std::to_string(shown.size()) + " bytes) differs from the prompt the "
                  "model received (" + std::to_string(sent.size()) + " bytes)");
  } else if (c.op == "quit") {
    *quit = true;
  }
  return true;
}

bool App::ai_state_reached(const std::string& want) {
  if (!assistant_) return false;
  if (want == "model") return assistant_->status().state != studio::EngineFigures::kLoading;
  if (want == "ready") {
    const auto state = assistant_->status().state;
    if (state == studio::EngineFigures::kFailed || state == studio::EngineFigures::kNoModel) {
      std::fprintf(stderr, "changjuan: script: wait-ai ready: %s\n", assistant_->status().message.c_str());
      ++script_failures_;
      return true;
    }
    return state == studio::EngineFigures::kReady;
  }
  const studio::QueueSnapshot q = assistant_->snapshot();
  if (want == "streaming") {
    const studio::JobView* j = q.find(st_.ai_job);
    return j && q.is_running(st_.ai_job) && j->live_text.size() >= 6;
  }
  for (const auto& j : q.jobs)
    if (j.id == st_.ai_job) return j.status == want;
  return false;
}

int App::run() {
  std::optional<ScriptRunner> script;
  if (!opt_.script.empty()) {
    auto s = ScriptRunner::load(opt_.script);
    if (!s.ok()) {
      std::fprintf(stderr, "changjuan: %s\n", s.error().c_str());
      return 2;
    }
    script = std::move(*s);
  }
  if (!opt_.panel.empty() && !panel(opt_.panel)) {
    std::fprintf(stderr, "changjuan: no panel '%s' (panels:", opt_.panel.c_str());
    for (auto& p : panels_) std::fprintf(stderr, " %s", p->name());
    std::fprintf(stderr, ")\n");
    return 2;
  }
  if (!glfwInit()) {
    std::fprintf(stderr, "changjuan: cannot open a window (no display? run under xvfb-run for headless use)\n");
    return 1;
  }
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
  glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
  if (headless()) glfwWindowHint(GLFW_VISIBLE, GLFW_FALSE);
  GLFWwindow* win = glfwCreateWindow(opt_.width, opt_.height, "长卷 Changjuan", nullptr, nullptr);
  if (!win) {
    std::fprintf(stderr, "changjuan: cannot create an OpenGL 3.3 window\n");
    glfwTerminate();
    return 1;
  }
  glfwMakeContextCurrent(win);
  glfwSwapInterval(headless() || opt_.frame_stats ? 0 : 1);
  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  const std::string cfg = config_dir();
  ini_path_ = cfg.empty() ? "" : cfg + "/imgui.ini";
  ImGui::GetIO().IniFilename = ini_path_.empty() ? nullptr : ini_path_.c_str();
  base_style_ = make_style();
  ImGui_ImplGlfw_InitForOpenGL(win, true);
  ImGui_ImplOpenGL3_Init("#version 330");
  atlas_.note(ui_strings());
  for (auto& p : panels_) atlas_.note(p->title());
  apply_scale();
  open_book_from_options();  // before the first atlas build, so that the chapter's characters are in it
  // Headless runs (tests) stop on a --chapter the book does not have; the window shows the error and the first chapter.
  const bool bad_chapter = headless() && !chapter_ref_error_.empty();
  atlas_.rebuild(false);
  if (!opt_.panel.empty()) st_.request_tab = opt_.panel;
  if (!opt_.panel.empty() && panel(opt_.panel)) {
    // chapters/editor are always visible; the rest are tabs
    if (opt_.panel != "chapters" && opt_.panel != "editor") {
      right_tab_ = opt_.panel;
      select_tab_ = true;
    }
    st_.request_tab.clear();
  }

  int rc = 0;
  bool quit = false;
  std::vector<double> frame_ms, ui_ms;  // whole frame incl. GL rendering; building the UI (CPU) only
  std::vector<double> gen_frame_ms;     // the frames drawn while a job was generating (also in frame_ms)
  int rebuild_frames = 0;
  double rebuild_ms = 0;
  if (script) atlas_.set_recording(true);
  if (bad_chapter) {
    rc = 2;
    quit = true;
  }
  for (int frame = 0; !glfwWindowShouldClose(win) && !quit; ++frame) {
    const auto t0 = std::chrono::steady_clock::now();
    glfwPollEvents();
    apply_scale();
    bool rebuilt = false;
    if (atlas_.dirty()) {
      atlas_.rebuild(true);
      rebuilt = true;
    }
    ImGui_ImplOpenGL3_NewFrame();
    ImGui_ImplGlfw_NewFrame();
    if (script) shown_last_frame_ = atlas_.take_recorded();  // what the previous frame noted (expect-shown)
    std::string shot;
    if (script && !script_hold_.empty()) {
      if (ai_state_reached(script_hold_)) {
        script_hold_.clear();
      } else if (ImGui::GetTime() > script_hold_until_) {
        std::fprintf(stderr, "changjuan: script: wait-ai %s timed out after 60 s\n", script_hold_.c_str());
        ++script_failures_;
        script_hold_.clear();
      }
    } else if (script && !script_click_label_.empty()) {
      // click-label: the item as drawn in the last frame.
      // Clicked once it stands still for two frames (a dialog's first frame places it before sizing it).
      auto it = st_.items_drawn.find(script_click_label_);
      const bool steady = it != st_.items_drawn.end() && script_click_seen_ && it->second.x0 == script_click_rect_.x0 &&
                          it->second.y0 == script_click_rect_.y0 && it->second.x1 == script_click_rect_.x1;
      if (it != st_.items_drawn.end()) script_click_rect_ = it->second, script_click_seen_ = true;
      if (steady) {
        const auto& r = it->second;
        script->click(ImGui::GetIO(), ImVec2((r.x0 + r.x1) / 2, (r.y0 + r.y1) / 2));
        script_click_label_.clear();
        script_click_seen_ = false;
      } else if (ImGui::GetTime() > script_click_until_) {
        std::fprintf(stderr, "changjuan: script: click-label: nothing labelled '%s' was drawn\n",
                     script_click_label_.c_str());
        ++script_failures_;
        script_click_label_.clear();
      }
    } else if (script) {
      const ScriptCommand c = script->step(ImGui::GetIO());
      if (!c.op.empty()) run_script_command(c, &quit, &shot);
      if (script->done() && script_hold_.empty() && script_click_label_.empty()) quit = true;
    }
    const auto t_ui = std::chrono::steady_clock::now();
    ImGui::NewFrame();
    st_.items_drawn.clear();
    st_.texts_drawn.clear();
    st_.queue = st_.assistant ? st_.assistant->snapshot() : studio::QueueSnapshot{};
    for (auto& p : panels_) p->tick(st_);
    draw_ui(&quit);
    ImGui::Render();
    carry_out_requests();
    // The window title names the book and chapter, with * while there are unsaved edits.
    std::string title = "长卷 Changjuan";
    if (st_.book) {
      title = st_.book->title();
      if (st_.chapter >= 0) title += " · " + st_.book->chapters()[static_cast<size_t>(st_.chapter)].title;
      title += st_.dirty() ? " * — 长卷" : " — 长卷";
    }
    if (title != window_title_) {
      window_title_ = title;
      glfwSetWindowTitle(win, title.c_str());
    }
    const double ui_frame_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t_ui).count();
    int w, h;
    glfwGetFramebufferSize(win, &w, &h);
    glViewport(0, 0, w, h);
    glClearColor(0.945f, 0.937f, 0.914f, 1.0f);
    glClear(GL_COLOR_BUFFER_BIT);
    ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
    if (opt_.frame_stats) {
      glFinish();
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      if (rebuilt)
        ++rebuild_frames, rebuild_ms += ms;
      else if (frame >= 3) {
        frame_ms.push_back(ms), ui_ms.push_back(ui_frame_ms);
        if (!st_.queue.running.empty()) gen_frame_ms.push_back(ms);
      }
    }
    if (!shot.empty() || (!opt_.screenshot.empty() && !script && frame + 1 >= opt_.frames))
      std::printf("changjuan: editor shows %d lines (%d bytes of text); %zu characters lack a glyph\n",
                  editor_.drawn_lines(), editor_.drawn_bytes(), atlas_.missing().size());
    if (!shot.empty() && !write_png(shot, w, h)) {
      std::fprintf(stderr, "changjuan: cannot write %s\n", shot.c_str());
      rc = 1;
    }
    if (!opt_.screenshot.empty() && !script && frame + 1 >= opt_.frames) {
      if (!write_png(opt_.screenshot, w, h)) {
        std::fprintf(stderr, "changjuan: cannot write %s\n", opt_.screenshot.c_str());
        rc = 1;
      }
      break;
    }
    glfwSwapBuffers(win);
  }
  if (st_.dirty() && !save()) {
    std::fprintf(stderr, "changjuan: %s\n", st_.message.c_str());
    rc = 1;
  }
  remember_caret_of_open_chapter();
  save_settings(settings_);
  if (opt_.frame_stats && !frame_ms.empty()) {
    std::vector<double> v = frame_ms;
    std::sort(v.begin(), v.end());
    double sum = 0;
    for (double x : v) sum += x;
    std::sort(ui_ms.begin(), ui_ms.end());
    double ui_sum = 0;
    for (double x : ui_ms) ui_sum += x;
    std::printf(
        "frame-stats: frames=%zu mean=%.2f ms p50=%.2f ms p95=%.2f ms max=%.2f ms (UI build on the CPU: mean=%.2f ms "
        "p95=%.2f ms; the rest is GL rendering); atlas rebuilds=%d (%.1f ms total); glyphs=%zu; chapter_zi=%zu "
        "paragraphs laid out=%d\n",
        v.size(), sum / static_cast<double>(v.size()), v[v.size() / 2], v[v.size() * 95 / 100], v.back(),
        ui_sum / static_cast<double>(ui_ms.size()), ui_ms[ui_ms.size() * 95 / 100], rebuild_frames, rebuild_ms,
        atlas_.noted_count(), editor_.doc().zi_count(), editor_.doc().relayout_count());
    if (!gen_frame_ms.empty()) {
      std::sort(gen_frame_ms.begin(), gen_frame_ms.end());
      double gsum = 0;
      for (double x : gen_frame_ms) gsum += x;
      std::printf("frame-stats while generating: frames=%zu mean=%.2f ms p50=%.2f ms p95=%.2f ms max=%.2f ms\n",
                  gen_frame_ms.size(), gsum / static_cast<double>(gen_frame_ms.size()),
                  gen_frame_ms[gen_frame_ms.size() / 2], gen_frame_ms[gen_frame_ms.size() * 95 / 100],
                  gen_frame_ms.back());
    }
  }
  if (!atlas_.missing().empty()) {
    std::fprintf(stderr, "changjuan: %zu characters have no glyph in %s:", atlas_.missing().size(),
                 atlas_.config().path.c_str());
    for (size_t i = 0; i < atlas_.missing().size() && i < 20; ++i) std::fprintf(stderr, " U+%04X", atlas_.missing()[i]);
    std::fprintf(stderr, "\n");
  }
  if (script_failures_ > 0) rc = 3;
  ImGui_ImplOpenGL3_Shutdown();
  ImGui_ImplGlfw_Shutdown();
  ImGui::DestroyContext();
  glfwDestroyWindow(win);
  glfwTerminate();
  return rc;
}

}  // namespace

int run_app(const AppOptions& opt) {
  App app(opt);
  return app.run();
}

}  // namespace cj::ui
