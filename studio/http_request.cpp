#include "studio/http_request.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <nlohmann/json.hpp>

#include "engine/base/json_limits.h"

namespace cj::studio {
namespace {

using json = nlohmann::json;

std::string lower(std::string_view s) {
  std::string o(s);
  for (auto& c : o) c = char(std::tolower(static_cast<unsigned char>(c)));
  return o;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool is_tchar(char c) {  // RFC 9110 token characters
  return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

HttpError bad(std::string msg, int status = 400, std::string code = "invalid_request") {
  return HttpError{status, std::move(msg), std::move(code)};
}

// Printable for an error message: at most n bytes, control bytes as '?'.
std::string shown(std::string_view s, size_t n = 80) {
  std::string o(s.substr(0, n));
  for (auto& c : o)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return s.size() > n ? o + "…" : o;
}

}  // namespace

HttpError parse_request_head(std::string_view head, HttpRequest* rq) {
  if (head.size() > kMaxRequestHead) return bad("the request headers are larger than 16 KiB", 431);
  const size_t eol = head.find("\r\n");
  const std::string_view line = head.substr(0, eol);
  const size_t s1 = line.find(' '), s2 = line.rfind(' ');
  if (s1 == std::string_view::npos || s2 == s1 || line.substr(s2 + 1).rfind("HTTP/1.", 0) != 0 ||
      line.size() - s2 - 1 != 8)
    return bad("malformed HTTP request line");
  const std::string_view method = line.substr(0, s1), target = line.substr(s1 + 1, s2 - s1 - 1);
  if (method.empty() || method.size() > 16 || !std::all_of(method.begin(), method.end(), is_tchar))
    return bad("malformed HTTP method");
  if (target.empty() || target[0] != '/' ||
      std::any_of(target.begin(), target.end(), [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; }))
    return bad("malformed request target (it must be a path such as /v1/chat/completions)");
  rq->method = std::string(method);
  rq->path = std::string(target.substr(0, target.find('?')));
  while (rq->path.size() > 1 && rq->path.back() == '/') rq->path.pop_back();
  rq->headers.clear();
  size_t pos = eol == std::string_view::npos ? head.size() : eol + 2;
  size_t count = 0;
  while (pos < head.size()) {
    size_t e = head.find("\r\n", pos);
    if (e == std::string_view::npos) e = head.size();
    const std::string_view h = head.substr(pos, e - pos);
    pos = e + 2;
    if (++count > kMaxHeaderCount) return bad("more than 100 request headers", 431);
    const size_t c = h.find(':');
    if (c == std::string_view::npos || c == 0 || !std::all_of(h.begin(), h.begin() + long(c), is_tchar))
      return bad("malformed header line '" + shown(h) + "'");
    const std::string_view value = trim(h.substr(c + 1));
    if (std::any_of(value.begin(), value.end(),
                    [](char ch) { return (static_cast<unsigned char>(ch) < 0x20 && ch != '\t') || ch == 0x7f; }))
      return bad("a control character in header '" + shown(h.substr(0, c)) + "'");
    std::string name = lower(h.substr(0, c));
    auto [it, fresh] = rq->headers.emplace(name, std::string(value));
    if (!fresh) {
      // Two Content-Length or Host headers are how requests get smuggled past a proxy: refuse. Others join.
      if (name == "content-length" || name == "host" || name == "transfer-encoding" || name == "authorization")
        return bad("the header '" + name + "' appears twice");
      it->second += ", " + std::string(value);
    }
  }
  return {};
}

HttpError body_length(const HttpRequest& rq, size_t max_body, size_t* len) {
  *len = 0;
  if (rq.header("transfer-encoding"))
    return bad("chunked request bodies are not supported; send Content-Length", 411);
  const std::string* cl = rq.header("content-length");
  if (rq.method == "GET" || rq.method == "HEAD" || rq.method == "OPTIONS") {
    if (cl && *cl != "0") return bad("a " + rq.method + " request carries no body");
    return {};
  }
  if (!cl) return bad("a " + rq.method + " needs a Content-Length header", 411);
  // Digits only: std::stoull accepted "-1" and made it 18446744073709551615.
  if (cl->empty() || cl->size() > 19 || !std::all_of(cl->begin(), cl->end(), [](char c) { return c >= '0' && c <= '9'; }))
    return bad("bad Content-Length '" + shown(*cl) + "'");
  const unsigned long long v = std::stoull(*cl);
  if (v > max_body)
    return bad("the request body is " + *cl + " bytes; this server takes at most " + std::to_string(max_body) +
                   " (serve --max-body-mb)",
               413, "body_too_large");
  *len = size_t(v);
  return {};
}

namespace {

// "host" or "host:port" (IPv6 as "[::1]:port") → lower-cased host and port (-1 when absent, -2 when bad).
std::pair<std::string, int> split_host(std::string_view hp) {
  std::string_view host = hp, port;
  if (!hp.empty() && hp[0] == '[') {
    const size_t close = hp.find(']');
    if (close == std::string_view::npos) return {"", -2};
    host = hp.substr(0, close + 1);
    if (close + 1 < hp.size()) {
      if (hp[close + 1] != ':') return {"", -2};
      port = hp.substr(close + 2);
    }
  } else if (const size_t c = hp.rfind(':'); c != std::string_view::npos) {
    host = hp.substr(0, c);
    port = hp.substr(c + 1);
  }
  int p = -1;
  if (!port.empty() || hp.find(':') != std::string_view::npos) {
    if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return {"", -2};
    p = std::stoi(std::string(port));
  }
  return {lower(host), p};
}

bool host_allowed(const std::string& host_header, const AccessPolicy& p) {
  auto [host, port] = split_host(host_header);
  if (port == -2 || host.empty()) return false;
  if (port >= 0 && port != p.port) {
    // Only an --allow-host entry that names this exact host:port may differ (a proxy in front).
    for (const auto& a : p.allow_hosts)
      if (lower(a) == lower(host_header)) return true;
    return false;
  }
  std::vector<std::string> names = {"127.0.0.1", "localhost", "[::1]"};
  if (p.bind_host != "0.0.0.0" && p.bind_host != "::") names.push_back(lower(p.bind_host));
  for (const auto& a : p.allow_hosts) {
    auto [ah, ap] = split_host(a);
    if (ap == -1 || ap == port || (port == -1 && ap == p.port)) names.push_back(ah);
  }
  return std::find(names.begin(), names.end(), host) != names.end();
}

bool same_origin(const std::string& origin, const AccessPolicy& p) {
  const std::string o = lower(origin);
  if (o.rfind("http://", 0) != 0) return false;
  auto [host, port] = split_host(std::string_view(o).substr(7));
  if (port != p.port) return false;
  return host == "127.0.0.1" || host == "localhost" || host == "[::1]" || host == lower(p.bind_host);
}

bool equal_constant_time(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i % (b.empty() ? 1 : b.size())]);
  return diff == 0 && !b.empty();
}

}  // namespace

std::string cors_origin(const HttpRequest& rq, const AccessPolicy& p) {
  const std::string* origin = rq.header("origin");
  if (!origin) return "";
  for (const auto& o : p.cors_origins)
    if (o == "*" || lower(o) == lower(*origin)) return o == "*" ? "*" : *origin;
  return "";
}

HttpError check_access(const HttpRequest& rq, const AccessPolicy& p) {
  const std::string* host = rq.header("host");
  if (!host) return bad("a Host header is required", 400, "bad_host");
  if (!host_allowed(*host, p))
    return bad("this server does not answer to Host '" + shown(*host) +
                   "' (it answers to 127.0.0.1 and localhost; serve --allow-host NAME adds a name)",
               403, "bad_host");
  // A page in the writer's browser can send requests here; the browser says so with Origin (and Sec-Fetch-Site).
  if (const std::string* origin = rq.header("origin")) {
    if (!same_origin(*origin, p) && cors_origin(rq, p).empty())
      return bad("requests from web pages of " + shown(*origin) +
                     " are refused (serve --cors ORIGIN allows a page to use this server)",
                 403, "cross_origin");
  } else if (const std::string* site = rq.header("sec-fetch-site")) {
    if (*site != "same-origin" && *site != "none")
      return bad("requests from other web sites are refused (serve --cors ORIGIN allows one)", 403, "cross_origin");
  }
  if (!p.api_key.empty() && !(rq.method == "GET" && rq.path == "/health") && rq.method != "OPTIONS") {
    const std::string* auth = rq.header("authorization");
    constexpr std::string_view kBearer = "Bearer ";
    if (!auth || auth->size() <= kBearer.size() || lower(auth->substr(0, kBearer.size())) != "bearer " ||
        !equal_constant_time(trim(std::string_view(*auth).substr(kBearer.size())), p.api_key))
      return bad("a valid API key is required (Authorization: Bearer KEY)", 401, "invalid_api_key");
  }
  return {};
}

HttpError parse_completion_request(std::string_view body, bool chat, const std::string& model_name,
                                   int default_max, GenRequest* g) {
  // The DOM costs ~50–100 bytes per value: bound the values and the depth before building it.
  if (std::string why = json_limit_violation(body, {.max_depth = kMaxJsonDepth, .max_values = kMaxJsonValues});
      !why.empty())
    return bad("the request body is " + why + " (this server takes at most " + std::to_string(kMaxJsonDepth) +
                   " levels and " + std::to_string(kMaxJsonValues) + " values)",
               400, "invalid_json");
  json j = json::parse(body.begin(), body.end(), nullptr, false);
  if (j.is_discarded()) return bad("the request body is not valid JSON", 400, "invalid_json");
  if (!j.is_object()) return bad("the request body must be a JSON object");
  if (auto m = j.find("model"); m != j.end() && !m->is_null()) {
    if (!m->is_string()) return bad("'model' must be a string");
    if (m->get_ref<const std::string&>() != model_name)
      return bad("the model '" + shown(m->get_ref<const std::string&>(), 200) + "' does not exist; this server has '" +
                     model_name + "'",
                 404, "model_not_found");
  }
  g->chat = chat;
  g->req.max_tokens = default_max;
  if (chat) {
    auto ms = j.find("messages");
    if (ms == j.end()) return bad("'messages' is required");
    if (!ms->is_array() || ms->empty()) return bad("'messages' must be a non-empty array");
    for (size_t i = 0; i < ms->size(); ++i) {
      const json& m = (*ms)[i];
      const std::string at = "messages[" + std::to_string(i) + "]";
      if (!m.is_object()) return bad(at + " must be an object");
      auto role = m.find("role");
      if (role == m.end() || !role->is_string()) return bad(at + ".role is required (system, user or assistant)");
      std::string r = role->get<std::string>();
      if (r == "developer") r = "system";
      if (r != "system" && r != "user" && r != "assistant")
        return bad(at + ".role must be system, user or assistant, not '" + shown(r) + "'");
      auto content = m.find("content");
      std::string text;
      if (content == m.end() || content->is_null()) {
        if (r != "assistant") return bad(at + ".content is required");
      } else if (content->is_string()) {
        text = content->get<std::string>();
      } else if (content->is_array()) {  // [{"type":"text","text":...}, ...]
        for (const auto& part : *content) {
          auto type = part.is_object() ? part.find("type") : part.end();
          auto t = part.is_object() ? part.find("text") : part.end();
          if (!part.is_object() || type == part.end() || !type->is_string() || *type != "text" || t == part.end() ||
              !t->is_string())
            return bad(at + ".content: only text parts ({\"type\":\"text\",\"text\":...}) are supported");
          text += t->get_ref<const std::string&>();
        }
      } else {
        return bad(at + ".content must be a string or a list of text parts");
      }
      g->req.messages.push_back({r, text});
    }
  } else {
    auto p = j.find("prompt");
    if (p == j.end()) return bad("'prompt' is required");
    if (p->is_array() && p->size() == 1 && (*p)[0].is_string())
      g->req.prompt = (*p)[0].get<std::string>();
    else if (p->is_string())
      g->req.prompt = p->get<std::string>();
    else
      return bad("'prompt' must be a string");
    g->req.chat = 0;
  }
  for (const char* key : {"max_tokens", "max_completion_tokens"}) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) continue;
    int64_t v = -1;
    if (it->is_number_unsigned()) v = it->get<uint64_t>() <= (1u << 20) ? int64_t(it->get<uint64_t>()) : -1;
    else if (it->is_number_integer()) v = it->get<int64_t>();
    if (v < 1 || v > (1 << 20)) return bad(std::string("'") + key + "' must be an integer between 1 and 1048576");
    g->req.max_tokens = int(v);
  }
  if (auto it = j.find("temperature"); it != j.end() && !it->is_null()) {
    if (!it->is_number() || !(it->get<double>() >= 0 && it->get<double>() <= 5))
      return bad("'temperature' must be a number in [0, 5]");
    g->req.temperature = float(it->get<double>());
  }
  if (auto it = j.find("top_p"); it != j.end() && !it->is_null()) {
    if (!it->is_number() || !(it->get<double>() > 0 && it->get<double>() <= 1)) return bad("'top_p' must be a number in (0, 1]");
    g->req.top_p = float(it->get<double>());
  }
  if (auto it = j.find("seed"); it != j.end() && !it->is_null()) {
    if (!it->is_number_integer()) return bad("'seed' must be an integer");
    g->req.seed = it->is_number_unsigned() ? it->get<uint64_t>() : uint64_t(it->get<int64_t>());
  }
  if (auto it = j.find("stop"); it != j.end() && !it->is_null()) {
    const std::string msg = "'stop' must be a string or a list of up to 16 non-empty strings";
    if (it->is_string()) {
      if (it->get_ref<const std::string&>().empty()) return bad(msg);
      g->req.stop.push_back(it->get<std::string>());
    } else if (it->is_array() && it->size() <= 16) {
      for (const auto& s : *it) {
        if (!s.is_string() || s.get_ref<const std::string&>().empty()) return bad(msg);
        g->req.stop.push_back(s.get<std::string>());
      }
    } else {
      return bad(msg);
    }
  }
  if (auto it = j.find("n"); it != j.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 1 || it->get<int64_t>() > 16)
      return bad("'n' must be an integer between 1 and 16");
    g->n = int(it->get<int64_t>());
  }
  if (auto it = j.find("stream"); it != j.end() && !it->is_null()) {
    if (!it->is_boolean()) return bad("'stream' must be true or false");
    g->stream = it->get<bool>();
  }
  if (auto it = j.find("stream_options"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return bad("'stream_options' must be an object");
    if (auto u = it->find("include_usage"); u != it->end() && !u->is_null()) {
      if (!u->is_boolean()) return bad("'stream_options.include_usage' must be true or false");
      g->include_usage = u->get<bool>();
    }
  }
  return {};
}

}  // namespace cj::studio
