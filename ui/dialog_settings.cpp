#include "ui/dialog_settings.h"

#include <imgui.h>
#include <imgui_stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "ui/settings.h"

namespace cj::ui {
namespace fs = std::filesystem;

namespace {

std::string bytes_text(int64_t b) {
  char s[48];
  if (b >= (int64_t(1) << 30)) std::snprintf(s, sizeof s, "%.2f GiB", double(b) / double(int64_t(1) << 30));
  else std::snprintf(s, sizeof s, "%.1f MiB", double(b) / double(int64_t(1) << 20));
  return s;
}

std::string count_text(int64_t n) {
  char s[32];
  if (n >= 1'000'000'000) std::snprintf(s, sizeof s, "%.1f B", double(n) / 1e9);
  else std::snprintf(s, sizeof s, "%.1f M", double(n) / 1e6);
  return s;
}

void row(UiState& st, const char* k, const std::string& v) {
  ImGui::TableNextRow();
  ImGui::TableNextColumn();
  ImGui::TextDisabled("%s", k);
  ImGui::TableNextColumn();
  st.atlas->note(v);
  ImGui::TextUnformatted(v.c_str());
}

}  // namespace

std::string SettingsDialog::sample_model() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  std::vector<fs::path> roots;
  if (n > 0) {
    const fs::path exe = fs::path(std::string(buf, size_t(n))).parent_path();
    roots = {exe / "..", exe / "../..", exe / "../share/changjuan"};
  }
  std::error_code ec;
  roots.push_back(fs::current_path(ec));
  for (const auto& r : roots) {
    const fs::path p = r / "samples/model/changjuan-sample-qwen3.gguf";
    if (fs::is_regular_file(p, ec)) return fs::weakly_canonical(p, ec).string();
  }
  return "";
}

void SettingsDialog::open(const studio::Settings& current) {
  s_ = current;
  error_.clear();
  machine_ = studio::probe_machine();
  set_model(s_.model_path);
  open_ = true;
  popup_pending_ = true;
}

void SettingsDialog::set_model(const std::string& path) {
  s_.model_path = path;
  info_.reset();
  info_error_.clear();
  if (!path.empty()) {
    auto m = studio::inspect_model(path);
    if (m.ok()) {
      info_ = *m;
      if (s_.backend == "remote") s_.backend = "cpu";  // a model file chosen here runs here
    } else {
      info_error_ = m.error();
    }
  }
  recheck();
}

void SettingsDialog::recheck() {
  check_ = {};
  if (info_) check_ = studio::validate_for_machine(studio::engine_settings(s_), *info_, machine_);
}

bool SettingsDialog::draw(UiState& st, FileDialog& files) {
  if (!open_) return false;
  if (popup_pending_) {
    ImGui::OpenPopup("模型与设置");
    popup_pending_ = false;
  }
  const float em = ImGui::GetFontSize();
  center_next_window();
  ImGui::SetNextWindowSize(ImVec2(em * 44, em * 36), ImGuiCond_Appearing);
  bool keep = true, saved = false;
  if (!ImGui::BeginPopupModal("模型与设置", &keep)) {
    if (!keep) open_ = false;
    return false;
  }
  bool changed = false;
  // The model.
  ImGui::TextUnformatted("模型文件（GGUF）");
  const std::string shown = s_.model_path.empty() ? "（未选择）" : s_.model_path;
  st.atlas->note(shown);
  ImGui::TextWrapped("%s", shown.c_str());
  if (button(st, "浏览…")) files.open("model", "选择模型文件", FileDialog::Mode::kOpen, {".gguf"}, s_.model_path);
  const std::string sample = sample_model();
  if (!sample.empty()) {
    ImGui::SameLine();
    if (button(st, "用示例模型")) set_model(sample);
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("程序自带的小模型（Qwen3 结构，26 MB），写得不好，只用来试用");
  }
  if (!info_error_.empty()) {
    st.atlas->note(info_error_);
    ImGui::PushStyleColor(ImGuiCol_Text, IM_COL32(180, 30, 25, 255));
    ImGui::TextWrapped("读不了这个模型：%s", info_error_.c_str());
    ImGui::PopStyleColor();
  }
  if (info_ && ImGui::BeginTable("model_info", 2, ImGuiTableFlags_RowBg | ImGuiTableFlags_SizingFixedFit)) {
    const auto& m = *info_;
    row(st, "名称", m.name);
    char b[160];
    std::snprintf(b, sizeof b, "%s · %d 层 · 维度 %d · %d/%d 头", m.arch.c_str(), m.n_layers, m.n_embd, m.n_heads,
                  m.n_kv_heads);
    row(st, "结构", b);
    row(st, "参数", count_text(m.params));
    row(st, "文件", fs::path(m.path).filename().string() + " · " + bytes_text(m.file_bytes));
    row(st, "量化", m.quant);
    row(st, "训练上下文", m.n_ctx_train > 0 ? std::to_string(m.n_ctx_train) + " 令牌" : "文件里没写");
    row(st, "分词器", m.has_tokenizer ? "有（词表 " + std::to_string(m.n_vocab) + "）" : "没有");
    ImGui::EndTable();
  }
  ImGui::Separator();

  // Where the model runs: this machine's CPU or GPU, or an OpenAI-compatible server.
  int where = s_.backend == "cuda" ? 1 : s_.backend == "remote" ? 2 : 0;
  ImGui::TextUnformatted("运行位置");
  ImGui::SameLine();
  bool where_changed = ImGui::RadioButton("本机 CPU", &where, 0);
  note_item(st, "本机 CPU");
  ImGui::SameLine();
  ImGui::BeginDisabled(!machine_.cuda_backend && where != 1);
  where_changed |= ImGui::RadioButton("本机 GPU（CUDA）", &where, 1);
  ImGui::EndDisabled();
  note_item(st, "本机 GPU（CUDA）");
  if (!machine_.cuda_backend && ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled))
    ImGui::SetTooltip("这台机器没有可用的 NVIDIA 显卡（或程序没有带 CUDA 编译）");
  ImGui::SameLine();
  where_changed |= ImGui::RadioButton("远程服务器", &where, 2);
  note_item(st, "远程服务器");
  if (where_changed) {
    s_.backend = where == 1 ? "cuda" : where == 2 ? "remote" : "cpu";
    if (where != 1) s_.kv_gpu_mb = 0;
    changed = true;
  }
  if (where == 2) {
    ImGui::SetNextItemWidth(em * 20);
    if (ImGui::InputText("服务器地址（OpenAI 兼容，如 http://127.0.0.1:8080/v1）", &s_.remote_url)) changed = true;
    note_item(st, "服务器地址");
    ImGui::SetNextItemWidth(em * 12);
    if (ImGui::InputText("模型名（空 = 服务器列出的第一个）", &s_.remote_model)) changed = true;
    ImGui::SetNextItemWidth(em * 12);
    if (ImGui::InputText("API 密钥所在的环境变量（空 = 不用密钥）", &s_.remote_api_key_env)) changed = true;
    ImGui::TextDisabled("模型在服务器上运行；书稿内容会发给这个地址。");
  }
  if (where == 1) {
    int gpu = static_cast<int>(s_.kv_gpu_mb);
    ImGui::SetNextItemWidth(em * 8);
    if (ImGui::InputInt("GPU 上的 KV（MiB，0 = 整个上下文，放不下的放内存）", &gpu, 256, 4096)) {
      s_.kv_gpu_mb = std::max(0, gpu);
      changed = true;
    }
  }
  ImGui::Separator();

  // The engine: context, KV cache, threads.
  if (where == 2) {  // the server's window: what the prompt plan may fill
    int ctx = s_.ctx;
    ImGui::SetNextItemWidth(em * 8);
    if (ImGui::InputInt("服务器的上下文窗口（令牌，0 = 8192）", &ctx, 1024, 8192)) {
      s_.ctx = ctx <= 0 ? 0 : std::clamp(ctx, 256, 1 << 20);
      changed = true;
    }
  } else {
    bool automatic = s_.ctx == 0;
    if (ImGui::Checkbox("上下文自动（本机放得下的最大值，不超过模型训练长度）", &automatic)) {
      s_.ctx = automatic ? 0 : std::max(256, check_.ctx > 0 ? check_.ctx : 4096);
      changed = true;
    }
    if (!automatic) {
      ImGui::SetNextItemWidth(em * 8);
      if (ImGui::InputInt("上下文（令牌）", &s_.ctx, 1024, 8192)) changed = true;
      s_.ctx = std::clamp(s_.ctx, 256, 1 << 20);
    }
  }
  if (where != 2) {  // the KV cache lives here only when the model runs here
    static const char* kTypes[] = {"f16", "q8_0", "f32"};
    int t = s_.kv_type == "q8_0" ? 1 : s_.kv_type == "f32" ? 2 : 0;
    ImGui::SetNextItemWidth(em * 8);
    if (ImGui::Combo("KV 缓存类型", &t, kTypes, 3)) {
      s_.kv_type = kTypes[t];
      changed = true;
    }
    ImGui::SameLine();
    ImGui::TextDisabled("q8_0 约省一半内存");
    int host = static_cast<int>(s_.kv_host_mb);
    ImGui::SetNextItemWidth(em * 8);
    if (ImGui::InputInt("KV 内存预算（MiB，0 = 整个上下文都放内存）", &host, 256, 4096)) {
      s_.kv_host_mb = std::max(0, host);
      changed = true;
    }
    ImGui::TextUnformatted("KV 磁盘分层（内存放不下的部分写到这里）：");
    ImGui::SameLine();
    const std::string disk = s_.kv_disk_dir.empty() ? "不用" : s_.kv_disk_dir;
    st.atlas->note(disk);
    ImGui::TextUnformatted(disk.c_str());
    if (button(st, "选文件夹…")) files.open("kv_dir", "KV 磁盘分层的文件夹", FileDialog::Mode::kFolder, {}, s_.kv_disk_dir);
    if (!s_.kv_disk_dir.empty()) {
      ImGui::SameLine();
      if (button(st, "不用磁盘")) s_.kv_disk_dir.clear(), s_.kv_disk_mb = 0, changed = true;
      int dmb = static_cast<int>(s_.kv_disk_mb);
      ImGui::SetNextItemWidth(em * 8);
      if (ImGui::InputInt("磁盘预算（MiB，0 = 整个上下文）", &dmb, 1024, 8192)) {
        s_.kv_disk_mb = std::max(0, dmb);
        changed = true;
      }
    }
  }
  if (where != 2) {
    ImGui::SetNextItemWidth(em * 12);
    if (ImGui::SliderInt("线程", &s_.threads, 1, std::max(1, machine_.hardware_threads))) changed = true;
  }
  ImGui::SetNextItemWidth(em * 12);
  // Jobs at once: sequences of one engine decoded together; drafts leave one for the assistant.
  if (ImGui::SliderInt("同时运行的任务（0 = 自动）", &s_.parallel, 0, 8)) changed = true;
  ImGui::SetNextItemWidth(em * 12);
  if (ImGui::SliderFloat("温度（0 = 每次一样）", &s_.temperature, 0.0f, 1.5f, "%.2f")) changed = true;
  if (changed) recheck();
  ImGui::Separator();

  // What it comes to on this machine.
  if (where == 2) {
    ImGui::TextDisabled(s_.remote_url.empty() ? "填上服务器地址再保存。" : "保存后，写作助手把请求发给这个服务器。");
  } else if (info_) {
    char b[384];
    std::snprintf(b, sizeof b, "将用上下文 %d 令牌%s；KV 缓存 %s（%s内存 %s%s）；模型 %s；本机内存 %s（现在空闲 %s）",
                  check_.ctx, s_.ctx == 0 ? "（自动）" : "", bytes_text(check_.kv_bytes).c_str(),
                  check_.kv_device_bytes > 0 ? ("GPU " + bytes_text(check_.kv_device_bytes) + "，").c_str() : "",
                  bytes_text(check_.kv_host_bytes).c_str(),
                  check_.kv_disk_bytes > 0 ? ("，磁盘 " + bytes_text(check_.kv_disk_bytes)).c_str() : "",
                  bytes_text(check_.model_bytes).c_str(), bytes_text(machine_.ram_total_bytes).c_str(),
                  bytes_text(machine_.ram_available_bytes).c_str());
    st.atlas->note(b);
    ImGui::TextWrapped("%s", b);
  } else if (s_.backend != "remote") {
    ImGui::TextDisabled("先选一个模型文件。");
  }
  for (const auto& e : check_.errors) {
    st.atlas->note(e);
    ImGui::PushStyleColor(ImGuiCol_Text, IM_COL32(180, 30, 25, 255));
    ImGui::TextWrapped("× %s", e.c_str());
    ImGui::PopStyleColor();
  }
  for (const auto& w : check_.warnings) {
    st.atlas->note(w);
    ImGui::PushStyleColor(ImGuiCol_Text, IM_COL32(160, 100, 0, 255));
    ImGui::TextWrapped("！%s", w.c_str());
    ImGui::PopStyleColor();
  }
  if (!error_.empty()) {
    st.atlas->note(error_);
    ImGui::PushStyleColor(ImGuiCol_Text, IM_COL32(180, 30, 25, 255));
    ImGui::TextWrapped("%s", error_.c_str());
    ImGui::PopStyleColor();
  }
  const bool can_save = where == 2 ? !s_.remote_url.empty() : info_ && check_.ok();
  ImGui::BeginDisabled(!can_save);
  if (button(st, "保存并加载", em * 7)) {
    const std::string dir = config_dir();
    if (dir.empty()) {
      error_ = "找不到保存设置的文件夹（没有 HOME）";
    } else if (Status s = studio::save_machine_settings(dir + "/settings.json", s_); !s.ok()) {
      error_ = "保存失败：" + s.error();
    } else {
      saved = true;
    }
  }
  ImGui::EndDisabled();
  ImGui::SameLine();
  if (button(st, "取消##settings", em * 5)) {
    open_ = false;
    ImGui::CloseCurrentPopup();
  }
  if (saved) {
    open_ = false;
    ImGui::CloseCurrentPopup();
  }
  // The file browser opens above this dialog (a popup inside it keeps both).
  if (files.is_open() && (files.purpose() == "model" || files.purpose() == "kv_dir") && files.draw(st)) {
    if (files.purpose() == "model") set_model(files.result());
    else s_.kv_disk_dir = files.result(), recheck();
  }
  ImGui::EndPopup();
  return saved;
}

}  // namespace cj::ui
