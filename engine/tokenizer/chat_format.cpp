// format_chatml: Qwen's ChatML, following Qwen3's chat template for conversations without tools (for such
// conversations Qwen2/2.5 produce the same text, except that Qwen2.5's template inserts a default system
// message when there is none; we never invent one).
#include <string>
#include <string_view>

#include "engine/tokenizer/tokenizer.h"

namespace cj {
namespace {

std::string_view strip_nl_left(std::string_view s) {
  while (!s.empty() && s.front() == '\n') s.remove_prefix(1);
  return s;
}
std::string_view strip_nl_right(std::string_view s) {
  while (!s.empty() && s.back() == '\n') s.remove_suffix(1);
  return s;
}

}  // namespace

std::string format_chatml(const std::vector<ChatMessage>& msgs, bool add_generation_prompt, bool enable_thinking) {
  // Index of the last user message: reasoning is kept only for assistant turns after it.
  long last_query = static_cast<long>(msgs.size()) - 1;
  for (long i = static_cast<long>(msgs.size()) - 1; i >= 0; --i) {
    if (msgs[i].role == "user") {
      last_query = i;
      break;
    }
  }
  std::string out;
  for (size_t i = 0; i < msgs.size(); ++i) {
    const ChatMessage& m = msgs[i];
    if (m.role != "assistant") {
      out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
      continue;
    }
    std::string_view content = m.content, reasoning;
    if (const size_t close = content.rfind("</think>"); close != std::string_view::npos) {
      std::string_view before = std::string_view(m.content).substr(0, m.content.find("</think>"));
      if (const size_t open = before.rfind("<think>"); open != std::string_view::npos) before = before.substr(open + 7);
      reasoning = strip_nl_left(strip_nl_right(before));
      content = strip_nl_left(content.substr(close + 8));
    }
    out += "<|im_start|>assistant\n";
    const bool last = i + 1 == msgs.size();
    if (static_cast<long>(i) > last_query && (last || !reasoning.empty())) {
      out += "<think>\n";
      out += strip_nl_left(strip_nl_right(reasoning));
      out += "\n</think>\n\n";
      out += strip_nl_left(content);
    } else {
      out += content;
    }
    out += "<|im_end|>\n";
  }
  if (add_generation_prompt) {
    out += "<|im_start|>assistant\n";
    if (!enable_thinking) out += "<think>\n\n</think>\n\n";
  }
  return out;
}

}  // namespace cj
