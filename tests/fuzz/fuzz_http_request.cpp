// The HTTP server's request handling without sockets: the head (request line, headers), the body's framing,
// the access checks (Host, Origin, API key) and the completion request in the body, chat and text.
#include <string_view>

#include "studio/http_request.h"
#include "tests/fuzz/fuzz_entry.h"

int cj_fuzz_http_request(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t end = in.find("\r\n\r\n");
  const std::string_view head = end == std::string_view::npos ? in : in.substr(0, end);
  const std::string_view body = end == std::string_view::npos ? std::string_view() : in.substr(end + 4);
  cj::studio::HttpRequest rq;
  if (!cj::studio::parse_request_head(head, &rq)) {
    cj::studio::AccessPolicy p;
    p.port = 8080;
    p.allow_hosts = {"box.lan", "proxy:9000"};
    p.cors_origins = {"http://localhost:5173"};
    p.api_key.assign(1, 'k');  // not = "k": g++ 12 reports a false -Wrestrict on that
    (void)cj::studio::check_access(rq, p);
    (void)cj::studio::cors_origin(rq, p);
    size_t len = 0;
    (void)cj::studio::body_length(rq, 1 << 20, &len);
  }
  for (bool chat : {true, false}) {
    cj::studio::GenRequest g;
    (void)cj::studio::parse_completion_request(body, chat, "m", 16, &g);
  }
  return 0;
}

CJ_FUZZ_MAIN(http_request)
