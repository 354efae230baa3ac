#include "studio/book_session.h"

#include <algorithm>
#include <filesystem>

#include "engine/base/file.h"
#include "engine/base/utf8.h"

namespace cj::studio {
namespace {

std::string_view trim(std::string_view s) {
  auto is_ws = [](std::string_view v, size_t i, size_t* n) {
    if (v[i] == ' ' || v[i] == '\t' || v[i] == '\r' || v[i] == '\n') return *n = 1, true;
    if (v.substr(i, 3) == "\u3000") return *n = 3, true;
    return false;
  };
  size_t n = 0;
  while (!s.empty() && is_ws(s, 0, &n)) s.remove_prefix(n);
  while (!s.empty()) {
    if (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n') {
      s.remove_suffix(1);
    } else if (s.size() >= 3 && s.substr(s.size() - 3) == "\u3000") {
      s.remove_suffix(3);
    } else {
      break;
    }
  }
  return s;
}

// A text file held in memory as chapters; each chapter keeps its heading line exactly as read so that an
// unedited file saves back byte for byte.
class TextFileBook final : public BookSession {
 public:
  struct Part {
    std::string heading;  // the heading line including its newline ("" for the preamble)
    std::string body;     // the text up to the next heading
  };

  TextFileBook(std::string path, std::vector<Part> parts, bool bom, bool crlf)
      : path_(std::move(path)), parts_(std::move(parts)), bom_(bom), crlf_(crlf) {
    for (size_t i = 0; i < parts_.size(); ++i) chapters_.push_back(info(i));
  }

  std::string title() const override { return std::filesystem::path(path_).stem().string(); }
  std::string source() const override { return path_; }
  bool has_revisions() const override { return false; }

  Result<std::string> load_chapter(size_t i) override {
    if (i >= parts_.size()) return make_error("no chapter " + std::to_string(i + 1) + " in " + path_);
    return parts_[i].body;
  }

  Status save_chapter(size_t i, std::string_view text) override {
    if (i >= parts_.size()) return make_error("no chapter " + std::to_string(i + 1) + " in " + path_);
    std::string old = std::move(parts_[i].body);
    // The editor works with '\n'; the file keeps its own line ends (CRLF files stay CRLF).
    std::string body;
    body.reserve(text.size() + text.size() / 16);
    for (size_t k = 0; k < text.size(); ++k) {
      if (text[k] == '\r') continue;
      if (text[k] == '\n' && crlf_) body += '\r';
      body += text[k];
    }
    if (!body.empty() && body.back() != '\n' && i + 1 < parts_.size()) body += crlf_ ? "\r\n" : "\n";
    parts_[i].body = std::move(body);
    std::string all = bom_ ? "\xEF\xBB\xBF" : "";
    for (const auto& p : parts_) all += p.heading + p.body;
    // The file has no revisions: keep the original once, next to it, before the first overwrite.
    const std::string backup = path_ + "~";
    if (!backed_up_ && !std::filesystem::exists(backup)) {
      std::error_code ec;
      std::filesystem::copy_file(path_, backup, ec);
      if (ec) {
        parts_[i].body = std::move(old);
        return make_error("cannot keep a backup " + backup + ": " + ec.message());
      }
    }
    backed_up_ = true;
    if (Status s = write_file_atomic(path_, all); !s.ok()) {
      parts_[i].body = std::move(old);
      return s;
    }
    chapters_[i] = info(i);
    return Status::Ok();
  }

  Result<std::vector<SearchHit>> search(std::string_view q, size_t limit) override {
    std::vector<SearchHit> hits;
    if (q.empty()) return hits;
    for (size_t c = 0; c < parts_.size() && hits.size() < limit; ++c) {
      const std::string& body = parts_[c].body;
      for (size_t at = body.find(q); at != std::string::npos && hits.size() < limit; at = body.find(q, at + q.size()))
        hits.push_back({c, at, q.size(), make_snippet(body, at, q.size(), 16)});
    }
    return hits;
  }

 private:
  ChapterInfo info(size_t i) const {
    ChapterInfo ci;
    ci.id = static_cast<int64_t>(i);
    ci.title = parts_[i].heading.empty() ? std::string("（卷首）") : std::string(trim(parts_[i].heading));
    size_t zi = 0;
    for (uint32_t c : utf8::to_code_points(parts_[i].body))
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != 0x3000 && c != 0xA0) ++zi;
    ci.zi = zi;
    return ci;
  }

  std::string path_;
  std::vector<Part> parts_;
  bool bom_ = false;
  bool crlf_ = false;  // the file's lines end in CRLF
  bool backed_up_ = false;
};

}  // namespace

bool is_chapter_heading(std::string_view line) {
  line = trim(line);
  if (line.empty() || line.size() > 200) return false;
  for (const char* w : {"楔子", "序章", "引子", "尾声", "后记", "序言"})
    if (line.substr(0, std::string_view(w).size()) == w) return true;
  if (line.substr(0, 3) != "第") return false;
  size_t i = 3;
  size_t digits = 0;
  while (i < line.size()) {
    uint32_t c;
    const int n = utf8::decode(line, i, &c);
    if (n == 0) return false;
    const bool num = (c >= '0' && c <= '9') || std::u32string_view(U"零〇一二三四五六七八九十百千两").find(c) != std::u32string_view::npos;
    if (!num) {
      if (digits == 0 || std::u32string_view(U"回章节卷").find(c) == std::u32string_view::npos) return false;
      // "第四回中既将…" is prose that happens to start like a heading: a heading's number is followed by a
      // space, a colon or the end of the line.
      const size_t after = i + static_cast<size_t>(n);
      if (after >= line.size()) return true;
      uint32_t d;
      if (utf8::decode(line, after, &d) == 0) return false;
      return d == ' ' || d == '\t' || d == 0x3000 || d == ':' || d == 0xFF1A || d == 0x3001 || d == 0xFF0C;
    }
    ++digits;
    i += static_cast<size_t>(n);
  }
  return false;
}

std::string make_snippet(std::string_view text, size_t byte, size_t len, size_t context) {
  size_t a = byte, b = byte + len;
  for (size_t k = 0; k < context && a > 0; ++k) {
    --a;
    while (a > 0 && (static_cast<unsigned char>(text[a]) & 0xC0) == 0x80) --a;
  }
  for (size_t k = 0; k < context && b < text.size(); ++k) {
    ++b;
    while (b < text.size() && (static_cast<unsigned char>(text[b]) & 0xC0) == 0x80) ++b;
  }
  std::string s(text.substr(a, b - a));
  for (char& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  return std::string(trim(s));
}

Result<std::unique_ptr<BookSession>> BookSession::open_text_file(const std::string& path) {
  auto data = read_file(path);
  if (!data.ok()) return Error{data.error()};
  std::string text = std::move(*data);
  bool bom = false;
  if (text.rfind("\xEF\xBB\xBF", 0) == 0) {
    text.erase(0, 3);
    bom = true;
  }
  size_t bad = 0;
  if (!utf8::valid(text, &bad))
    return make_error(path + " is not UTF-8 (invalid byte at offset " + std::to_string(bad) +
                      "); convert it first, e.g. iconv -f GB18030 -t UTF-8");
  std::vector<TextFileBook::Part> parts(1);
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    const size_t end = nl == std::string::npos ? text.size() : nl + 1;
    const std::string_view line(text.data() + start, end - start);
    if (is_chapter_heading(line)) parts.push_back({std::string(line), ""});
    else parts.back().body += line;
    start = end;
  }
  // A preamble of only whitespace (or nothing) before the first heading is kept but not listed.
  if (parts.size() > 1 && trim(parts.front().body).empty()) {
    parts[1].heading.insert(0, parts.front().body);
    parts.erase(parts.begin());
  }
  const size_t lf = static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
  size_t crlf = 0;
  for (size_t k = text.find("\r\n"); k != std::string::npos; k = text.find("\r\n", k + 2)) ++crlf;
  return std::unique_ptr<BookSession>(new TextFileBook(path, std::move(parts), bom, lf > 0 && crlf * 2 > lf));
}

}  // namespace cj::studio
