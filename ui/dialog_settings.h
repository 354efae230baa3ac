// 模型与设置: picks a GGUF model (its architecture, size, trained context and quantisation shown), sets the
// context size (automatic = what this machine holds, up to the model's trained length), the KV cache type, the
// KV host-RAM budget, the KV disk tier, threads and temperature; checks them against the model and the machine
// (studio::validate_for_machine) as they change, and saves settings.json. The same studio::Settings the CLI
// and the workflows read, so what is chosen here is what the engine gets.
#pragma once
#include <optional>
#include <string>

#include "studio/engine_config.h"
#include "studio/settings.h"
#include "ui/file_dialog.h"
#include "ui/ui_state.h"

namespace cj::ui {

class SettingsDialog {
 public:
  void open(const studio::Settings& current);
  bool is_open() const { return open_; }
  // Draws while open (the file browser for the model and the disk folder inside it); true on the frame the
  // writer pressed 保存并加载 (settings() are valid then).
  bool draw(UiState& st, FileDialog& files);
  const studio::Settings& settings() const { return s_; }

  // The sample model shipped with the program (samples/model next to the binary's tree), or "".
  static std::string sample_model();

 private:
  void set_model(const std::string& path);
  void recheck();

  bool open_ = false, popup_pending_ = false;
  studio::Settings s_;
  std::optional<studio::ModelInfo> info_;
  std::string info_error_;
  studio::MachineInfo machine_;
  studio::MachineCheck check_;
  std::string error_;  // saving failed
};

}  // namespace cj::ui
