// The engine panel: the loaded model (studio::Assistant::status, read under a short lock), backend, threads, KV
// cache use, prefix reuse of the latest request and tokens/s over time (sampled from the job queue's snapshot).
// Below: what this build offers (build_info).
#include <imgui.h>

#include <algorithm>
#include <string>
#include <vector>

#include "studio/build_info.h"
#include "ui/panel.h"

namespace cj::ui {
namespace {

std::string mib(double bytes) {
  char b[32];
  if (bytes < 1024.0 * 1024.0)
    std::snprintf(b, sizeof b, "%.0f KiB", bytes / 1024.0);
  else
    std::snprintf(b, sizeof b, "%.1f MiB", bytes / (1024.0 * 1024.0));
  return b;
}

class EnginePanel final : public Panel {
 public:
  const char* name() const override { return "engine"; }
  const char* title() const override { return "引擎"; }
  void tick(UiState& st) override { sample(st); }
  void draw(UiState& st) override {
    if (st.assistant) draw_model(st, st.assistant->status());
    ImGui::Spacing();
    if (info_.is_null()) info_ = build_info();  // probes CUDA once
    ImGui::TextUnformatted("本机构建");
    ImGui::Separator();
    if (ImGui::BeginTable("build", 2, ImGuiTableFlags_RowBg | ImGuiTableFlags_SizingFixedFit)) {
      row(st, "版本", info_.value("version", ""));
      row(st, "CPU 线程", std::to_string(info_.value("hardware_threads", 0)));
      // CUDA counts as available only when a CUDA backend can run the model (a device query is not one).
      const bool cuda = info_.value("cuda_backend", false);
      row(st, "CUDA", cuda ? "可用" : "不可用：本构建没有 CUDA 后端，模型在 CPU 上运行");
      if (info_.contains("cuda_devices"))
        for (const auto& d : info_["cuda_devices"])
          row(st, "GPU", d.value("name", "") + " (" + std::to_string(d.value("memory_mb", 0)) + " MB)" +
                             (cuda ? "" : "，看得见但用不上"));
      if (info_.contains("cuda_status")) {  // CUDA's own words on hover, for a bug report
        row(st, "GPU", "未找到可用的 NVIDIA GPU");
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", info_.value("cuda_status", "").c_str());
      }
      row(st, "SQLite", info_.value("sqlite", ""));
      row(st, "ICU", info_.value("icu", ""));
      ImGui::EndTable();
    }
  }

 private:
  static void row(UiState& st, const char* k, const std::string& v) {
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    ImGui::TextDisabled("%s", k);
    ImGui::TableNextColumn();
    st.atlas->note(v);
    ImGui::TextUnformatted(v.c_str());
  }

  // tokens/s of the running job, twice a second (kept while idle: the plot shows the last runs).
  void sample(UiState& st) {
    if (!st.assistant || ImGui::GetTime() - last_sample_ < 0.5) return;
    last_sample_ = ImGui::GetTime();
    const studio::QueueSnapshot& q = st.queue;
    float v = 0;
    for (const auto& j : q.jobs)  // all running jobs together (decoded in one batch)
      if (q.is_running(j.id)) v += static_cast<float>(j.tok_s);
    if (q.running.empty() && (tok_s_.empty() || tok_s_.back() == 0)) return;  // idle: do not scroll zeros
    tok_s_.push_back(v);
    if (tok_s_.size() > 240) tok_s_.erase(tok_s_.begin());
  }

  void draw_model(UiState& st, const studio::EngineFigures& f) {
    using E = studio::EngineFigures;
    ImGui::TextUnformatted("模型");
    ImGui::Separator();
    if (f.state != E::kReady) {
      wrapped_text(st, f.state == E::kLoading ? "正在加载 " + f.model_name + " …" : f.message,
                   f.state == E::kFailed ? IM_COL32(180, 30, 25, 255) : ImGui::GetColorU32(ImGuiCol_TextDisabled));
      return;
    }
    if (f.backend == "remote") {  // an OpenAI-compatible server runs the model: no weights or KV cache here
      if (ImGui::BeginTable("model", 2, ImGuiTableFlags_RowBg | ImGuiTableFlags_SizingFixedFit)) {
        char b[96];
        row(st, "模型", f.model_name);
        row(st, "服务器", f.model_path);
        std::snprintf(b, sizeof b, "%d 令牌 · 连接 %.2f 秒", f.n_ctx, f.load_s);
        row(st, "上下文窗口", b);
        row(st, "书稿上下文", f.context_budget > 0 ? "最多 " + std::to_string(f.context_budget) + " 令牌（设置）"
                                                   : std::string("窗口的份额（见“上下文”）"));
        ImGui::EndTable();
      }
      return;
    }
    if (ImGui::BeginTable("model", 2, ImGuiTableFlags_RowBg | ImGuiTableFlags_SizingFixedFit)) {
      row(st, "模型", f.model_name);
      char b[160];
      std::snprintf(b, sizeof b, "%s · %d 层 · 维度 %d · %d/%d 头 · 词表 %d", f.arch.c_str(), f.n_layers, f.n_embd,
                    f.n_heads, f.n_kv_heads, f.n_vocab);
      row(st, "结构", b);
      row(st, "文件", mib(static_cast<double>(f.model_bytes)) + "（内存映射，不复制）");
      std::snprintf(b, sizeof b, "%s · %d 线程 · 同时 %d 个任务 · 加载 %.2f 秒", f.backend.c_str(), f.threads,
                    f.parallel, f.load_s);
      row(st, "后端", b);
      std::snprintf(b, sizeof b, "%d 令牌%s%s", f.n_ctx, f.ctx_automatic ? "（自动：本机放得下的最大值）" : "",
                    f.n_ctx_train > 0 ? ("，模型训练长度 " + std::to_string(f.n_ctx_train)).c_str() : "");
      row(st, "上下文", b);
      const double used = static_cast<double>(f.kv_tokens) * static_cast<double>(f.kv_bytes_per_token);
      const double cap = static_cast<double>(f.n_ctx) * static_cast<double>(f.kv_bytes_per_token);
      std::snprintf(b, sizeof b, "%d / %d 令牌", f.kv_tokens, f.n_ctx);
      row(st, "KV 缓存", std::string(b) + " · " + mib(used) + " / " + mib(cap) + "（" + f.kv_type + "）");
      std::string tiers = "内存 " + mib(static_cast<double>(f.kv_host_budget));
      if (f.kv_disk_budget > 0) tiers += " + 磁盘 " + mib(static_cast<double>(f.kv_disk_budget)) + "（" + f.kv_disk_dir + "）";
      row(st, "KV 分层", tiers);
      if (f.last_prompt_tokens > 0) {
        std::snprintf(b, sizeof b, "%d / %d 令牌（%.0f%%）", f.last_reused_tokens, f.last_prompt_tokens,
                      100.0 * f.last_reused_tokens / f.last_prompt_tokens);
        row(st, "前缀复用", b);
      } else {
        row(st, "前缀复用", "尚无请求");
      }
      row(st, "书稿上下文", f.context_budget > 0 ? "最多 " + std::to_string(f.context_budget) + " 令牌（设置）"
                                                 : std::string("窗口的份额（见“上下文”）"));
      ImGui::EndTable();
    }
    const float kv = f.n_ctx > 0 ? static_cast<float>(f.kv_tokens) / static_cast<float>(f.n_ctx) : 0;
    ImGui::ProgressBar(kv, ImVec2(-1, 0), "KV 缓存占用");
    ImGui::Spacing();
    if (tok_s_.empty()) {
      ImGui::TextDisabled("令牌/秒：任务生成时在此绘制");
      return;
    }
    const float peak = *std::max_element(tok_s_.begin(), tok_s_.end());
    char over[64];
    std::snprintf(over, sizeof over, "令牌/秒（最高 %.0f，最近 %.0f）", peak, tok_s_.back());
    ImGui::TextDisabled("%s", over);
    // Drawn by hand: a line per sample, newest at the right, over a band scaled to 115 % of the peak.
    const ImVec2 p0 = ImGui::GetCursorScreenPos();
    const float w = ImGui::GetContentRegionAvail().x, h = ImGui::GetFontSize() * 4;
    ImDrawList* dl = ImGui::GetWindowDrawList();
    dl->AddRectFilled(p0, ImVec2(p0.x + w, p0.y + h), IM_COL32(236, 233, 225, 255), 3.0f);
    const float top = std::max(1.0f, peak * 1.15f);
    const size_t n = tok_s_.size();
    auto at = [&](size_t i) {
      const float x = n > 1 ? p0.x + w * static_cast<float>(i) / static_cast<float>(n - 1) : p0.x + w;
      return ImVec2(x, p0.y + h * (1.0f - std::clamp(tok_s_[i] / top, 0.0f, 1.0f)));
    };
    if (n == 1) dl->AddLine(ImVec2(p0.x, at(0).y), at(0), IM_COL32(196, 110, 40, 255), 1.5f);
    for (size_t i = 1; i < n; ++i) dl->AddLine(at(i - 1), at(i), IM_COL32(196, 110, 40, 255), 1.5f);
    ImGui::Dummy(ImVec2(w, h));
  }

  nlohmann::json info_;
  std::vector<float> tok_s_;
  double last_sample_ = 0;
};

}  // namespace

std::unique_ptr<Panel> make_engine_panel() { return std::make_unique<EnginePanel>(); }

}  // namespace cj::ui
