// Server-sent events (text/event-stream) parsing for the OpenAI-compatible client: bytes arrive in arbitrary
// pieces (an event, a line, even a CR LF pair may be split across reads); complete events come out in order.
// Follows the WHATWG rules: lines end in LF, CR LF or CR; "field: value" (one space after the colon dropped);
// "data" lines of one event are joined with LF; a line starting with ':' is a comment; a blank line dispatches
// the event (an event without data lines is not dispatched); a leading UTF-8 BOM is skipped.
#pragma once
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace cj::studio {

struct SseEvent {
  std::string event;  // "event:" field ("" = message)
  std::string data;   // the data lines joined with '\n'
  std::string id;
};

class SseParser {
 public:
  explicit SseParser(size_t max_line = size_t(16) << 20) : max_line_(max_line) {}

  // Parses `bytes`, calling on_event for each completed event. Returns false when on_event returned false
  // (parsing stops there) or a line exceeded max_line (overflow() is then true).
  bool feed(std::string_view bytes, const std::function<bool(const SseEvent&)>& on_event);
  bool overflow() const { return overflow_; }
  void reset();

 private:
  bool line(const std::function<bool(const SseEvent&)>& on_event);  // handles line_ (complete)

  size_t max_line_;
  std::string line_;
  SseEvent cur_;
  bool has_data_ = false;
  bool after_cr_ = false;  // the last byte was CR: an LF right after it ends nothing
  bool started_ = false;   // past the optional BOM
  bool overflow_ = false;
};

}  // namespace cj::studio
