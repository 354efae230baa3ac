#include "engine/tokenizer/tokenizer.h"

#include <algorithm>
#include <atomic>
#include <thread>

#include "engine/base/utf8.h"
#include "engine/tokenizer/impl.h"
#include "engine/tokenizer/pretokenizer.h"

namespace cj {

Result<std::unique_ptr<Tokenizer>> Tokenizer::from_vocab(const VocabSpec& spec) {
  if (spec.model == "gpt2") return tok::make_byte_level_bpe(spec);
  if (spec.model == "llama") return tok::make_sentencepiece_bpe(spec);
  return Error{"unsupported tokenizer model '" + spec.model + "' (supported: gpt2 byte-level BPE, llama SentencePiece)"};
}

namespace {
bool strips_prefix_space(const Tokenizer& t) { return t.spec().model == "llama" && t.spec().add_space_prefix; }
}  // namespace

std::string Tokenizer::decode(const std::vector<TokenId>& ids) const {
  std::string out;
  const bool spm = spec().model == "llama";
  const bool strip = strips_prefix_space(*this);
  bool at_start = true;
  for (TokenId id : ids) {
    if (spm && id == bos()) {
      at_start = true;
      continue;
    }
    std::string piece = token_bytes(id);
    if (strip && at_start && !piece.empty() && piece[0] == ' ') piece.erase(0, 1);
    at_start = false;
    out += piece;
  }
  return out;
}

std::vector<TokenId> Tokenizer::encode_parallel(std::string_view text, bool parse_special, int n_threads) const {
  if (n_threads <= 0) n_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const size_t min_chunk = 64 * 1024;
  if (n_threads == 1 || text.size() < 2 * min_chunk) return encode(text, parse_special);
  // Safe cut (Qwen2 pre-tokenizer only): right after '\n' where the whitespace run that follows holds no CR/LF.
  // There the regex always ends a piece: \s*[\r\n]+ stops at the last newline of a whitespace run, and no
  // other alternative crosses a newline. GPT-2's pattern has no such rule (\s+(?!\S) runs over line starts),
  // and SentencePiece prefixes a space to the text start only: both are encoded on one thread.
  if (spec().model != "gpt2" || (spec().pre != "qwen2" && spec().pre != "qwen35")) return encode(text, parse_special);
  if (parse_special) {  // an added token that holds a newline could straddle a cut
    const auto& sp = spec();
    for (size_t id = 0; id < sp.token_types.size() && id < sp.tokens.size(); ++id)
      if ((sp.token_types[id] == 3 || sp.token_types[id] == 4) && sp.tokens[id].find('\n') != std::string::npos)
        return encode(text, parse_special);
  }
  auto safe_cut = [&](size_t from) -> size_t {
    for (size_t p = from; p < text.size(); ++p) {
      if (text[p - 1] != '\n') continue;
      size_t q = p;
      bool ok = true;
      while (q < text.size()) {
        uint32_t cp;
        const int n = utf8::decode(text, q, &cp);
        if (n == 0) break;
        const uint8_t c = pretok::char_class(cp);
        if (!(c & pretok::kSpace)) break;
        if (c & pretok::kNewline) {
          ok = false;
          break;
        }
        q += n;
      }
      if (ok) return p;
    }
    return text.size();
  };
  const size_t parts = std::min<size_t>(static_cast<size_t>(n_threads) * 4, text.size() / min_chunk);
  std::vector<size_t> cuts{0};
  for (size_t k = 1; k < parts; ++k) {
    const size_t want = std::max(cuts.back() + 1, text.size() * k / parts);
    const size_t c = safe_cut(std::max<size_t>(want, 1));
    if (c >= text.size()) break;
    if (c > cuts.back()) cuts.push_back(c);
  }
  cuts.push_back(text.size());
  const size_t nparts = cuts.size() - 1;
  std::vector<std::vector<TokenId>> res(nparts);
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < nparts;)
      res[i] = encode(text.substr(cuts[i], cuts[i + 1] - cuts[i]), parse_special);
  };
  std::vector<std::thread> th;
  for (int t = 1; t < n_threads && static_cast<size_t>(t) < nparts; ++t) th.emplace_back(work);
  work();
  for (auto& t : th) t.join();
  size_t total = 0;
  for (const auto& r : res) total += r.size();
  std::vector<TokenId> out;
  out.reserve(total);
  for (const auto& r : res) out.insert(out.end(), r.begin(), r.end());
  return out;
}

std::string StreamDecoder::push(TokenId id) {
  if (tok_.spec().model == "llama" && id == tok_.bos()) {
    at_start_ = true;
    return {};
  }
  std::string piece = tok_.token_bytes(id);
  if (at_start_ && !piece.empty()) {
    if (strips_prefix_space(tok_) && piece[0] == ' ') piece.erase(0, 1);
    at_start_ = false;
  }
  pending_ += piece;
  // Emit every complete character; a sequence that can never complete becomes U+FFFD; keep a valid prefix.
  std::string out;
  size_t i = 0;
  while (i < pending_.size()) {
    uint32_t cp;
    const int n = utf8::decode(pending_, i, &cp);
    if (n > 0) {
      out.append(pending_, i, n);
      i += n;
      continue;
    }
    // Could the bytes from i still become a character?
    const auto b0 = static_cast<uint8_t>(pending_[i]);
    size_t need = (b0 & 0xE0) == 0xC0 ? 2 : (b0 & 0xF0) == 0xE0 ? 3 : (b0 & 0xF8) == 0xF0 ? 4 : 0;
    bool prefix = need > 0 && pending_.size() - i < need;
    for (size_t k = i + 1; prefix && k < pending_.size(); ++k)
      if ((static_cast<uint8_t>(pending_[k]) & 0xC0) != 0x80) prefix = false;
    if (prefix) {
      // Reject prefixes no valid character has (overlong, surrogate, > U+10FFFF) by completing them minimally.
      std::string probe = pending_.substr(i);
      while (probe.size() < need) probe += static_cast<char>(0x80 | 0x3F);
      uint32_t c2;
      if (utf8::decode(probe, 0, &c2) == 0) {
        std::string probe2 = pending_.substr(i);
        while (probe2.size() < need) probe2 += static_cast<char>(0x80);
        if (utf8::decode(probe2, 0, &c2) == 0) prefix = false;
      }
    }
    if (prefix) break;
    utf8::append(out, 0xFFFD);
    ++i;
  }
  pending_.erase(0, i);
  return out;
}

std::string StreamDecoder::flush() {
  // push() leaves only an incomplete but valid prefix of one character behind: one U+FFFD for it.
  std::string out;
  if (!pending_.empty()) utf8::append(out, 0xFFFD);
  pending_.clear();
  return out;
}

}  // namespace cj
