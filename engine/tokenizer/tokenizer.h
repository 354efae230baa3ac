// Tokenizers: byte-level BPE (Qwen2/2.5/3 tokenizer.json, GGUF "gpt2" vocab) and SentencePiece-style BPE (GGUF
// "llama" vocab, llama2.c tokenizer files). A Tokenizer is built from a VocabSpec, the neutral description that
// both the GGUF reader and the file loaders produce, so the tokenizer knows nothing of GGUF.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/result.h"
#include "engine/format/vocab_spec.h"

namespace cj {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  static Result<std::unique_ptr<Tokenizer>> from_vocab(const VocabSpec& spec);

  // parse_special: match every added token (special ones like <|im_start|> and non-special ones like <think>) in
  // the raw text, longest first; when false none is matched and none can come out of plain text.
  // Invalid UTF-8: each invalid byte is a character of its own of the class "other" (like punctuation); byte-level
  // BPE keeps it (decode gives the exact bytes back), SentencePiece emits its <0xNN> byte token. Thread-safe.
  virtual std::vector<TokenId> encode(std::string_view text, bool parse_special) const = 0;
  // The bytes of one token (may be part of a UTF-8 character).
  virtual std::string token_bytes(TokenId id) const = 0;
  // Concatenated token bytes. Added/control tokens render as their text, except a SentencePiece BOS, which
  // renders as nothing; with add_space_prefix the space the encoder prefixed (at the start and after BOS) is
  // dropped. Invalid UTF-8 in the result is kept as it is (see StreamDecoder for display).
  std::string decode(const std::vector<TokenId>& ids) const;
  // encode() of a long text on n_threads threads (0: hardware threads), split at line starts where the
  // pre-tokenizer is known to break anyway; the result is identical to encode(text, parse_special).
  std::vector<TokenId> encode_parallel(std::string_view text, bool parse_special, int n_threads = 0) const;

  virtual size_t vocab_size() const = 0;
  virtual TokenId bos() const = 0;
  virtual TokenId eos() const = 0;           // end of generation (<|im_end|> for chat models when known)
  virtual bool is_eog(TokenId id) const = 0; // any end-of-generation token (eos, <|endoftext|>, <|im_end|>)
  virtual bool add_bos() const = 0;
  virtual const VocabSpec& spec() const = 0;
  virtual std::optional<TokenId> find_token(std::string_view text) const = 0;
};

// Streams token bytes out as whole UTF-8 characters: never emits half a character.
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tok) : tok_(tok) {}
  // Returns the complete UTF-8 text that became available with this token (possibly empty).
  std::string push(TokenId id);
  // Whatever is left: an unfinished character at the end becomes one U+FFFD. (push() already replaced each
  // byte that can never start or continue a character with U+FFFD.)
  std::string flush();

 private:
  const Tokenizer& tok_;
  std::string pending_;
  bool at_start_ = true;  // SentencePiece: drop the prefixed space of the first piece
};

// Loaders that produce a VocabSpec.
Result<VocabSpec> load_hf_tokenizer_json(const std::string& path);  // tokenizer.json (+ tokenizer_config.json beside it if present)
Result<VocabSpec> load_llama2c_tokenizer(const std::string& path);   // llama2.c tokenizer .bin (tok512.bin)
// The same from memory (`name` in errors): fuzzing and tests.
Result<VocabSpec> parse_hf_tokenizer_json(std::string_view text, const std::string& name);  // no tokenizer_config.json
Result<VocabSpec> parse_llama2c_tokenizer(std::string_view data, const std::string& name);

// ChatML as Qwen uses it.
struct ChatMessage {
  std::string role;     // "system" | "user" | "assistant"
  std::string content;
};
// <|im_start|>role\ncontent<|im_end|>\n … and, if add_generation_prompt, "<|im_start|>assistant\n". For Qwen3 with
// enable_thinking == false, the generation prompt is followed by an empty "<think>\n\n</think>\n\n" block.
std::string format_chatml(const std::vector<ChatMessage>& msgs, bool add_generation_prompt, bool enable_thinking = true);

}  // namespace cj
