#include "ui/script.h"

#include <GLFW/glfw3.h>

#include <algorithm>
#include <chrono>
#include <sstream>

#include "engine/base/file.h"

namespace cj::ui {
namespace {

int key_code(const std::string& k) {
  if (k.size() == 1 && k[0] >= 'a' && k[0] <= 'z') return GLFW_KEY_A + (k[0] - 'a');
  if (k.size() == 1 && k[0] >= '0' && k[0] <= '9') return GLFW_KEY_0 + (k[0] - '0');
  static const std::pair<const char*, int> named[] = {{"left", GLFW_KEY_LEFT},      {"right", GLFW_KEY_RIGHT},
                                                      {"up", GLFW_KEY_UP},          {"down", GLFW_KEY_DOWN},
                                                      {"home", GLFW_KEY_HOME},      {"end", GLFW_KEY_END},
                                                      {"pageup", GLFW_KEY_PAGE_UP}, {"pagedown", GLFW_KEY_PAGE_DOWN},
                                                      {"enter", GLFW_KEY_ENTER},    {"backspace", GLFW_KEY_BACKSPACE},
                                                      {"delete", GLFW_KEY_DELETE},  {"tab", GLFW_KEY_TAB},
                                                      {"escape", GLFW_KEY_ESCAPE},  {"f3", GLFW_KEY_F3},
                                                      {"f8", GLFW_KEY_F8}};
  for (const auto& [n, c] : named)
    if (k == n) return c;
  return -1;
}

std::string unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      ++i;
      out += s[i] == 'n' ? '\n' : s[i];
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

Result<ScriptRunner> ScriptRunner::load(const std::string& path) {
  auto text = read_file(path);
  if (!text.ok()) return Error{text.error()};
  return parse(*text);
}

Result<ScriptRunner> ScriptRunner::parse(const std::string& text) {
  static const char* kOps[] = {"wait",
                               "sleep",
                               "type",
                               "key",
                               "click",
                               "drag",
                               "wheel",
                               "open",
                               "panel",
                               "screenshot",
                               "expect-text",
                               "expect-no-text",
                               "expect-selection",
                               "expect-saved",
                               "expect-shown",
                               "expect-not-shown",
                               "quit", "ai", "wait-ai"};
  ScriptRunner r;
  std::istringstream in(text);
  std::string line;
  for (int ln = 1; std::getline(in, line); ++ln) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    size_t s = line.find_first_not_of(" \t");
    if (s == std::string::npos || line[s] == '#') continue;
    line = line.substr(s);
    int times = 1;
    if (line.rfind("repeat ", 0) == 0) {
      std::istringstream rs(line.substr(7));
      if (!(rs >> times) || times < 1 || times > 100000)
        return make_error("script line " + std::to_string(ln) + ": repeat needs a count 1..100000");
      std::string rest;
      std::getline(rs, rest);
      line = rest.substr(rest.find_first_not_of(' ') == std::string::npos ? rest.size() : rest.find_first_not_of(' '));
    }
    Cmd c;
    c.line = ln;
    const size_t sp = line.find(' ');
    c.op = line.substr(0, sp);
    c.rest = sp == std::string::npos ? "" : line.substr(sp + 1);
    std::istringstream as(c.rest);
    for (std::string a; as >> a;) c.args.push_back(a);
    bool known = false;
    for (const char* op : kOps) known |= c.op == op;
    if (!known) return make_error("script line " + std::to_string(ln) + ": unknown command '" + c.op + "'");
    const size_t need = c.op == "click"  ? 2
                        : c.op == "drag" ? 4
                        : (c.op == "key" || c.op == "wait" || c.op == "sleep" || c.op == "wheel" || c.op == "open" ||
                           c.op == "panel" || c.op == "screenshot" || c.op == "ai" || c.op == "wait-ai")
                            ? 1
                            : 0;
    if (c.args.size() < need)
      return make_error("script line " + std::to_string(ln) + ": '" + c.op + "' needs " + std::to_string(need) +
                        " argument(s)");
    if (c.op == "key") {
      std::string k = c.args[0];
      for (const char* m : {"ctrl+", "shift+", "alt+"}) {
        const size_t p = k.find(m);
        if (p != std::string::npos) k.erase(p, std::string(m).size());
      }
      if (key_code(k) < 0) return make_error("script line " + std::to_string(ln) + ": unknown key '" + k + "'");
    }
    if (c.op == "type") c.rest = unescape(c.rest);
    for (int t = 0; t < times; ++t) r.cmds_.push_back(c);
  }
  return r;
}

ScriptCommand ScriptRunner::step(ImGuiIO& io) {
  if (mouse_.x >= 0) io.MousePos = mouse_;
  if (drag_stage_ == 1) {  // the drag's move
    mouse_ = drag_to_;
    io.MousePos = mouse_;
    io.MouseDown[0] = true;
    drag_stage_ = 2;
    return {};
  }
  if (drag_stage_ == 2 || mouse_up_next_) {
    io.MouseDown[0] = false;
    drag_stage_ = 0;
    mouse_up_next_ = false;
    return {};
  }
  if (!release_.empty()) {
    for (int k : release_) io.KeysDown[k] = false;
    io.KeyCtrl = io.KeyShift = io.KeyAlt = false;
    release_.clear();
    return {};
  }
  if (wait_ > 0) {
    --wait_;
    return {};
  }
  const double now = std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  if (sleep_until_ > 0) {
    if (now < sleep_until_) return {};
    sleep_until_ = 0;
  }
  if (pc_ >= cmds_.size()) return {};
  const Cmd& c = cmds_[pc_++];
  if (c.op == "wait") {
    wait_ = std::max(0, std::atoi(c.args[0].c_str()) - 1);
  } else if (c.op == "sleep") {
    sleep_until_ = now + std::atof(c.args[0].c_str()) / 1000.0;
  } else if (c.op == "type") {
    io.AddInputCharactersUTF8(c.rest.c_str());
  } else if (c.op == "key") {
    std::string k = c.args[0];
    io.KeyCtrl = k.find("ctrl+") != std::string::npos;
    io.KeyShift = k.find("shift+") != std::string::npos;
    io.KeyAlt = k.find("alt+") != std::string::npos;
    k = k.substr(k.rfind('+') == std::string::npos ? 0 : k.rfind('+') + 1);
    const int code = key_code(k);
    io.KeysDown[code] = true;
    release_.push_back(code);
  } else if (c.op == "click") {
    mouse_ = ImVec2(std::strtof(c.args[0].c_str(), nullptr), std::strtof(c.args[1].c_str(), nullptr));
    io.MousePos = mouse_;
    io.MouseDown[0] = true;
    mouse_up_next_ = true;
  } else if (c.op == "drag") {
    mouse_ = ImVec2(std::strtof(c.args[0].c_str(), nullptr), std::strtof(c.args[1].c_str(), nullptr));
    drag_to_ = ImVec2(std::strtof(c.args[2].c_str(), nullptr), std::strtof(c.args[3].c_str(), nullptr));
    io.MousePos = mouse_;
    io.MouseDown[0] = true;
    drag_stage_ = 1;
  } else if (c.op == "wheel") {
    io.MouseWheel += std::strtof(c.args[0].c_str(), nullptr);
  } else {
    return {c.op, c.op.rfind("expect-", 0) == 0 || c.op == "ai" ? c.rest : c.args.empty() ? "" : c.args[0], c.line};
  }
  return {};
}

}  // namespace cj::ui
