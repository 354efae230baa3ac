#include "studio/sse_parser.h"

namespace cj::studio {

void SseParser::reset() {
  line_.clear();
  cur_ = {};
  has_data_ = false;
  after_cr_ = false;
  started_ = false;
  overflow_ = false;
}

bool SseParser::line(const std::function<bool(const SseEvent&)>& on_event) {
  if (line_.empty()) {  // blank line: dispatch
    bool go = true;
    if (has_data_) {
      if (!cur_.data.empty() && cur_.data.back() == '\n') cur_.data.pop_back();
      go = on_event(cur_);
    }
    cur_.event.clear();
    cur_.data.clear();
    has_data_ = false;
    return go;
  }
  if (line_[0] == ':') return true;  // comment (keep-alive)
  std::string_view l(line_);
  size_t colon = l.find(':');
  std::string_view field = l.substr(0, colon), value;
  if (colon != std::string_view::npos) {
    value = l.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    cur_.data.append(value);
    cur_.data.push_back('\n');
    has_data_ = true;
  } else if (field == "event") {
    cur_.event.assign(value);
  } else if (field == "id") {
    cur_.id.assign(value);
  }  // "retry" and unknown fields are ignored
  return true;
}

bool SseParser::feed(std::string_view bytes, const std::function<bool(const SseEvent&)>& on_event) {
  if (overflow_) return false;
  size_t i = 0;
  if (!started_) {
    // Skip a BOM, which may itself arrive split; anything else ends the check.
    static constexpr std::string_view kBom = "\xEF\xBB\xBF";
    while (i < bytes.size() && line_.size() < kBom.size() && bytes[i] == kBom[line_.size()])
      line_.push_back(bytes[i++]);
    if (line_.size() == kBom.size()) {
      line_.clear();
      started_ = true;
    } else if (i < bytes.size()) {
      started_ = true;  // not a BOM: what was held back is ordinary text
    } else {
      return true;  // all of it could still be the start of a BOM
    }
  }
  for (; i < bytes.size(); ++i) {
    char c = bytes[i];
    if (c == '\n' && after_cr_) {  // the LF of a CR LF already ended the line
      after_cr_ = false;
      continue;
    }
    after_cr_ = c == '\r';
    if (c == '\n' || c == '\r') {
      bool go = line(on_event);
      line_.clear();
      if (!go) return false;
      continue;
    }
    line_.push_back(c);
    if (line_.size() > max_line_) {
      overflow_ = true;
      return false;
    }
  }
  return true;
}

}  // namespace cj::studio
