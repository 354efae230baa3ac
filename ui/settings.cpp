#include "ui/settings.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "engine/base/file.h"

namespace cj::ui {

std::string config_dir() {
  std::filesystem::path base;
  if (const char* x = std::getenv("XDG_CONFIG_HOME"); x && *x)
    base = x;
  else if (const char* h = std::getenv("HOME"); h && *h)
    base = std::filesystem::path(h) / ".config";
  else
    return "";
  const auto dir = base / "changjuan";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  return ec ? "" : dir.string();
}

Settings load_settings() {
  Settings s;
  const std::string dir = config_dir();
  if (dir.empty()) return s;
  auto data = read_file(dir + "/ui.json");
  if (!data.ok()) return s;
  const auto j = nlohmann::json::parse(*data, nullptr, false);
  if (!j.is_object()) return s;
  s.ui_scale = j.value("ui_scale", s.ui_scale);
  if (!(s.ui_scale >= 0.5f && s.ui_scale <= 4.0f)) s.ui_scale = 1.0f;
  s.left_w = j.value("left_w", s.left_w);
  s.right_w = j.value("right_w", s.right_w);
  s.font_path = j.value("font_path", s.font_path);
  s.font_face = j.value("font_face", s.font_face);
  s.last_text = j.value("last_text", s.last_text);
  s.last_db = j.value("last_db", s.last_db);
  s.last_book = j.value("last_book", s.last_book);
  s.last_chapter = j.value("last_chapter", s.last_chapter);
  if (auto r = j.find("recent"); r != j.end() && r->is_array())
    for (const auto& e : *r)
      if (e.is_object() && e.contains("path") && e["path"].is_string())
        s.recent.push_back({e["path"].get<std::string>(), e.value("book", 0LL), e.value("title", std::string())});
  if (auto c = j.find("carets"); c != j.end() && c->is_array())
    for (const auto& e : *c)
      if (e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_number_integer())
        remember_caret(s, e[0].get<std::string>(), e[1].get<int64_t>());
  return s;
}

void remember_recent(Settings& s, const RecentProject& p) {
  std::vector<RecentProject> out{p};
  for (const auto& r : s.recent)
    if (r.path != p.path || r.book != p.book) out.push_back(r);
  if (out.size() > 10) out.resize(10);
  s.recent = std::move(out);
}

void remember_caret(Settings& s, const std::string& key, int64_t cp) {
  if (s.carets.count(key)) s.caret_order.erase(std::find(s.caret_order.begin(), s.caret_order.end(), key));
  s.carets[key] = cp;
  s.caret_order.push_back(key);
  while (s.caret_order.size() > 500) {
    s.carets.erase(s.caret_order.front());
    s.caret_order.erase(s.caret_order.begin());
  }
}

void save_settings(const Settings& s) {
  const std::string dir = config_dir();
  if (dir.empty()) return;
  nlohmann::json j = {{"ui_scale", s.ui_scale},   {"left_w", s.left_w},       {"right_w", s.right_w},
                      {"font_path", s.font_path}, {"font_face", s.font_face}, {"last_text", s.last_text},
                      {"last_db", s.last_db},     {"last_book", s.last_book}, {"last_chapter", s.last_chapter}};
  nlohmann::json recent = nlohmann::json::array();
  for (const auto& r : s.recent) recent.push_back({{"path", r.path}, {"book", r.book}, {"title", r.title}});
  j["recent"] = recent;
  nlohmann::json carets = nlohmann::json::array();
  for (const auto& k : s.caret_order) carets.push_back({k, s.carets.at(k)});
  j["carets"] = carets;
  if (Status st = write_file_atomic(dir + "/ui.json", j.dump(2) + "\n"); !st.ok())
    std::fprintf(stderr, "changjuan: cannot save settings: %s\n", st.error().c_str());
}

}  // namespace cj::ui
