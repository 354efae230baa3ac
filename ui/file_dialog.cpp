#include "ui/file_dialog.h"

#include <imgui.h>
#include <imgui_stdlib.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

namespace cj::ui {
namespace fs = std::filesystem;

namespace {

std::string lower(std::string s) {
  for (auto& c : s)
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  return s;
}

std::string home() {
  const char* h = std::getenv("HOME");
  return h && *h ? h : "/";
}

std::string size_text(int64_t b) {
  char s[32];
  if (b >= (int64_t(1) << 30)) std::snprintf(s, sizeof s, "%.1f GB", double(b) / double(int64_t(1) << 30));
  else if (b >= (int64_t(1) << 20)) std::snprintf(s, sizeof s, "%.1f MB", double(b) / double(int64_t(1) << 20));
  else if (b >= 1024) std::snprintf(s, sizeof s, "%.0f KB", double(b) / 1024.0);
  else std::snprintf(s, sizeof s, "%lld B", static_cast<long long>(b));
  return s;
}

// "~/x" → $HOME/x; relative paths against the folder shown.
std::string resolve(const std::string& dir, std::string typed) {
  while (!typed.empty() && (typed.back() == ' ' || typed.back() == '\n' || typed.back() == '\r')) typed.pop_back();
  if (typed.rfind("~/", 0) == 0 || typed == "~") typed = home() + typed.substr(1);
  fs::path p(typed);
  if (p.is_relative()) p = fs::path(dir) / p;
  return p.lexically_normal().string();
}

}  // namespace

void FileDialog::open(std::string purpose, std::string title, Mode mode, std::vector<std::string> extensions,
                      const std::string& start) {
  purpose_ = std::move(purpose);
  title_ = std::move(title);
  mode_ = mode;
  exts_ = std::move(extensions);
  result_.clear();
  error_.clear();
  confirm_.clear();
  selected_ = -1;
  name_.clear();
  std::error_code ec;
  std::string dir = start.empty() ? fs::current_path(ec).string() : start;
  if (!fs::is_directory(dir, ec)) {
    if (mode_ == Mode::kSave && !start.empty()) name_ = fs::path(start).filename().string();
    dir = fs::path(dir).parent_path().string();
  }
  if (dir.empty() || !fs::is_directory(dir, ec)) dir = home();
  list(dir);
  if (mode_ == Mode::kSave && !name_.empty()) name_ = (fs::path(dir_) / name_).string();
  open_ = true;
  popup_pending_ = true;
  focus_ = true;
}

bool FileDialog::wanted(const std::string& name) const {
  if (exts_.empty()) return true;
  const std::string l = lower(name);
  for (const auto& e : exts_)
    if (l.size() >= e.size() && l.compare(l.size() - e.size(), e.size(), e) == 0) return true;
  return false;
}

void FileDialog::list(const std::string& dir) {
  std::error_code ec;
  fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
  if (ec) {
    error_ = "打不开文件夹 " + dir + "：" + ec.message();
    return;
  }
  dir_ = fs::path(dir).lexically_normal().string();
  if (dir_.size() > 1 && dir_.back() == '/') dir_.pop_back();
  entries_.clear();
  selected_ = -1;
  error_.clear();
  for (const auto& e : it) {
    const std::string name = e.path().filename().string();
    if (!show_hidden_ && !name.empty() && name[0] == '.') continue;
    std::error_code e2;
    const bool d = e.is_directory(e2);
    if (!d && mode_ == Mode::kFolder) continue;
    if (!d && !wanted(name)) continue;
    Entry en;
    en.name = name;
    en.dir = d;
    if (!d) en.bytes = int64_t(e.file_size(e2));
    entries_.push_back(std::move(en));
  }
  std::sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) {
    return a.dir != b.dir ? a.dir : a.name < b.name;
  });
}

bool FileDialog::accept(UiState& st, const std::string& typed) {
  (void)st;
  if (typed.empty()) {
    if (mode_ == Mode::kFolder) {
      result_ = dir_;
      return true;
    }
    error_ = mode_ == Mode::kSave ? "先写一个文件名" : "先选一个文件";
    return false;
  }
  const std::string path = resolve(dir_, typed);
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    if (mode_ == Mode::kFolder && typed == name_ && selected_ < 0 && path == dir_) {
      result_ = path;
      return true;
    }
    list(path);
    name_.clear();
    return false;
  }
  if (mode_ == Mode::kFolder) {
    error_ = path + " 不是文件夹";
    return false;
  }
  if (mode_ == Mode::kOpen) {
    if (!fs::is_regular_file(path, ec)) {
      error_ = "没有这个文件：" + path;
      return false;
    }
    result_ = path;
    return true;
  }
  // Save: the folder must exist; an existing file is confirmed first.
  if (!fs::is_directory(fs::path(path).parent_path(), ec)) {
    error_ = "没有这个文件夹：" + fs::path(path).parent_path().string();
    return false;
  }
  std::string p = path;
  if (!exts_.empty() && !wanted(p)) p += exts_.front();
  if (fs::exists(p, ec) && confirm_ != p) {
    confirm_ = p;
    error_ = fs::path(p).filename().string() + " 已经存在：再按一次“确定”打开它，或换一个名字";
    return false;
  }
  result_ = p;
  return true;
}

bool FileDialog::draw(UiState& st) {
  if (!open_) return false;
  const std::string popup = title_ + "###file_dialog";
  if (popup_pending_) {
    ImGui::OpenPopup(popup.c_str());
    popup_pending_ = false;
  }
  const float em = ImGui::GetFontSize();
  center_next_window();
  ImGui::SetNextWindowSize(ImVec2(em * 42, em * 30), ImGuiCond_Appearing);
  bool chosen = false;
  bool still_open = true;
  if (!ImGui::BeginPopupModal(popup.c_str(), &still_open)) {
    if (!still_open) open_ = false;
    return false;
  }
  st.atlas->note(title_);
  st.atlas->note(dir_);
  if (button(st, "上一级")) list(fs::path(dir_).parent_path().string());
  ImGui::SameLine();
  if (button(st, "主目录")) list(home());
  ImGui::SameLine();
  if (ImGui::Checkbox("显示隐藏文件", &show_hidden_)) list(dir_);
  ImGui::TextDisabled("%s", dir_.c_str());
  // The list: folders first, then the files wanted here.
  const float bottom = ImGui::GetFrameHeightWithSpacing() * 3 + (error_.empty() ? 0 : ImGui::GetTextLineHeightWithSpacing());
  ImGui::BeginChild("entries", ImVec2(0, -bottom), true);
  std::string go;
  for (int i = 0; i < static_cast<int>(entries_.size()); ++i) {
    const Entry& e = entries_[static_cast<size_t>(i)];
    st.atlas->note(e.name);
    const std::string label = (e.dir ? e.name + "/" : e.name) + "##" + std::to_string(i);
    if (e.dir) ImGui::PushStyleColor(ImGuiCol_Text, IM_COL32(40, 80, 150, 255));
    if (ImGui::Selectable(label.c_str(), selected_ == i, ImGuiSelectableFlags_AllowDoubleClick)) {
      selected_ = i;
      if (!e.dir || mode_ == Mode::kFolder) name_ = (fs::path(dir_) / e.name).string();
      if (ImGui::IsMouseDoubleClicked(0)) go = (fs::path(dir_) / e.name).string();
    }
    if (e.dir) ImGui::PopStyleColor();
    note_item(st, (e.dir ? e.name + "/" : e.name).c_str());
    if (!e.dir) {
      ImGui::SameLine(ImGui::GetContentRegionMax().x - em * 5);
      ImGui::TextDisabled("%s", size_text(e.bytes).c_str());
    }
  }
  if (entries_.empty()) ImGui::TextDisabled(mode_ == Mode::kFolder ? "（没有子文件夹）" : "（这里没有合适的文件）");
  ImGui::EndChild();
  if (!go.empty()) {
    std::error_code ec;
    if (fs::is_directory(go, ec) && mode_ != Mode::kFolder) list(go);
    else if (fs::is_directory(go, ec)) list(go), name_.clear();
    else chosen = accept(st, go);
  }
  // The path field: a name, or any path typed or pasted; Enter = 确定.
  const char* hint = mode_ == Mode::kSave ? "文件名或完整路径" : mode_ == Mode::kFolder ? "文件夹路径（空：当前文件夹）" : "文件路径";
  ImGui::SetNextItemWidth(-1);
  if (focus_) {
    ImGui::SetKeyboardFocusHere();
    focus_ = false;
  }
  const bool enter = ImGui::InputTextWithHint("##path", hint, &name_, ImGuiInputTextFlags_EnterReturnsTrue);
  note_item(st, "##file_path");
  st.atlas->note(name_);
  if (enter) {
    chosen = accept(st, name_);
    focus_ = !chosen;
  }
  if (!error_.empty()) {
    st.atlas->note(error_);
    ImGui::TextColored(ImVec4(0.72f, 0.12f, 0.1f, 1), "%s", error_.c_str());
  }
  if (button(st, mode_ == Mode::kFolder ? "选这个文件夹" : "确定", em * 6)) chosen = accept(st, name_);
  ImGui::SameLine();
  if (button(st, "取消##file", em * 6)) {
    open_ = false;
    ImGui::CloseCurrentPopup();
  }
  if (chosen) {
    open_ = false;
    ImGui::CloseCurrentPopup();
  }
  ImGui::EndPopup();
  return chosen;
}

}  // namespace cj::ui
