// The engine panel: model, backend, KV use, prefix-cache hits, tokens/s. Until the engine is wired into studio
// it shows what this build offers (real data from build_info) and says what is missing.
#include <imgui.h>

#include <string>

#include "studio/build_info.h"
#include "ui/panel.h"

namespace cj::ui {
namespace {

class EnginePanel final : public Panel {
 public:
  const char* name() const override { return "engine"; }
  const char* title() const override { return "引擎"; }
  void draw(UiState& st) override {
    if (info_.is_null()) info_ = build_info();  // probes CUDA once
    ImGui::TextUnformatted("本机构建");
    ImGui::Separator();
    if (ImGui::BeginTable("build", 2, ImGuiTableFlags_RowBg | ImGuiTableFlags_SizingFixedFit)) {
      auto row = [&](const char* k, const std::string& v) {
        ImGui::TableNextRow();
        ImGui::TableNextColumn();
        ImGui::TextDisabled("%s", k);
        ImGui::TableNextColumn();
        st.atlas->note(v);
        ImGui::TextUnformatted(v.c_str());
      };
      row("版本", info_.value("version", ""));
      row("CPU 线程", std::to_string(info_.value("hardware_threads", 0)));
      row("CUDA", info_.value("cuda_compiled", false) ? "已编译" : "未编译");
      if (info_.contains("cuda_devices"))
        for (const auto& d : info_["cuda_devices"])
          row("GPU", d.value("name", "") + " (" + std::to_string(d.value("memory_mb", 0)) + " MB)");
      if (info_.contains("cuda_status")) row("GPU 状态", info_.value("cuda_status", ""));
      row("SQLite", info_.value("sqlite", ""));
      row("ICU", info_.value("icu", ""));
      ImGui::EndTable();
    }
    not_available(st, "模型、后端、显存/内存/磁盘上的KV缓存占用、前缀缓存命中率与每秒令牌数曲线。",
                  "等待引擎接入写作流程（studio）；加载模型后在此显示。");
  }

 private:
  nlohmann::json info_;
};

}  // namespace

std::unique_ptr<Panel> make_engine_panel() { return std::make_unique<EnginePanel>(); }

}  // namespace cj::ui
