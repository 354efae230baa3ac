#include "studio/check/json_repair.h"

#include <optional>
#include <vector>

namespace cj::check {

namespace {

std::optional<nlohmann::json> try_parse(std::string_view s) {
  auto j = nlohmann::json::parse(s.begin(), s.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

void note(ParsedJson& p, const char* what) {
  p.repaired = true;
  if (!p.repairs.empty()) p.repairs += ", ";
  p.repairs += what;
}

// Removes commas that are followed (after whitespace) by ] or }, outside strings.
std::string drop_trailing_commas(std::string_view s, bool* changed) {
  std::string out;
  out.reserve(s.size());
  bool in_str = false, esc = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (in_str) {
      out += c;
      if (esc) esc = false;
      else if (c == '\\') esc = true;
      else if (c == '"') in_str = false;
      continue;
    }
    if (c == '"') in_str = true;
    if (c == ',') {
      size_t j = i + 1;
      while (j < s.size() && (s[j] == ' ' || s[j] == '\n' || s[j] == '\r' || s[j] == '\t')) ++j;
      if (j < s.size() && (s[j] == ']' || s[j] == '}')) {
        *changed = true;
        continue;
      }
    }
    out += c;
  }
  return out;
}

// Cuts a truncated text after the last complete element of the outermost array and closes it.
std::optional<std::string> close_truncated(std::string_view s) {
  std::vector<char> stack;
  bool in_str = false, esc = false;
  size_t last_complete = std::string_view::npos;  // index just past an element that completed at depth 1
  size_t outer_open = std::string_view::npos;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (in_str) {
      if (esc) esc = false;
      else if (c == '\\') esc = true;
      else if (c == '"') {
        in_str = false;
        if (stack.size() == 1 && stack[0] == '[') last_complete = i + 1;
      }
      continue;
    }
    if (c == '"') in_str = true;
    else if (c == '[' || c == '{') {
      if (stack.empty()) outer_open = i;
      stack.push_back(c);
    } else if (c == ']' || c == '}') {
      if (stack.empty()) break;
      stack.pop_back();
      if (stack.size() == 1 && stack[0] == '[') last_complete = i + 1;
      if (stack.empty()) return std::nullopt;  // complete: truncation is not the problem
    }
  }
  if (stack.empty() || outer_open == std::string_view::npos) return std::nullopt;
  if (stack[0] == '[') {
    if (last_complete == std::string_view::npos) return std::string(s.substr(outer_open, 1)) + "]";
    return std::string(s.substr(outer_open, last_complete - outer_open)) + "]";
  }
  // An object cut off: {"contradictions": [ {...}, {..  — find the array inside and close both.
  return std::nullopt;
}

}  // namespace

Result<ParsedJson> parse_model_json(std::string_view text) {
  ParsedJson p;
  if (auto j = try_parse(text)) {
    p.value = std::move(*j);
    return p;
  }
  std::string s(text);
  // Code fences: take what is inside the first fence.
  if (size_t f = s.find("```"); f != std::string::npos) {
    size_t start = s.find('\n', f);
    start = start == std::string::npos ? f + 3 : start + 1;
    size_t end = s.find("```", start);
    s = s.substr(start, end == std::string::npos ? std::string::npos : end - start);
    note(p, "fence");
  }
  // Prose before the JSON.
  size_t b = s.find_first_of("[{");
  if (b == std::string::npos) return make_error("the model's answer contains no JSON (no [ or {)");
  if (b > 0) {
    s.erase(0, b);
    note(p, "text before JSON");
  }
  // Prose after the JSON: cut after the matching close bracket if there is one.
  {
    int depth = 0;
    bool in_str = false, esc = false;
    for (size_t i = 0; i < s.size(); ++i) {
      char c = s[i];
      if (in_str) {
        if (esc) esc = false;
        else if (c == '\\') esc = true;
        else if (c == '"') in_str = false;
        continue;
      }
      if (c == '"') in_str = true;
      else if (c == '[' || c == '{') ++depth;
      else if (c == ']' || c == '}') {
        if (--depth == 0) {
          if (i + 1 < s.size()) {
            s.erase(i + 1);
            note(p, "text after JSON");
          }
          break;
        }
      }
    }
  }
  if (auto j = try_parse(s)) {
    p.value = std::move(*j);
    return p;
  }
  bool changed = false;
  std::string t = drop_trailing_commas(s, &changed);
  if (changed) note(p, "trailing comma");
  if (auto j = try_parse(t)) {
    p.value = std::move(*j);
    return p;
  }
  // Truncated: an object holding the array ({"contradictions":[...) is reduced to the array.
  std::string u = t;
  if (!u.empty() && u[0] == '{') {
    size_t a = u.find('[');
    if (a != std::string::npos) u = u.substr(a);
  }
  if (auto closed = close_truncated(u)) {
    bool c2 = false;
    std::string v = drop_trailing_commas(*closed, &c2);
    if (auto j = try_parse(v)) {
      note(p, "truncated array");
      p.value = std::move(*j);
      return p;
    }
  }
  return make_error("the model's answer is not valid JSON and could not be repaired (tried: fences, surrounding "
                    "text, trailing commas, truncation)");
}

}  // namespace cj::check
