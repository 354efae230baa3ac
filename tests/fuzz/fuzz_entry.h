// Fuzz entry points (issue 20): each target is a function `int cj_fuzz_<name>(const uint8_t*, size_t)` that
// feeds the bytes to one parser the way the product does, with the product's own limits. Built two ways:
//   - with clang and libFuzzer (scripts/fuzz.sh; cmake -DCHANGJUAN_FUZZ=ON): CJ_FUZZ_MAIN(name) defines
//     LLVMFuzzerTestOneInput for the target's own executable fuzz_<name>;
//   - in the normal test suite (test_fuzz, any compiler, also under ASan/UBSan with scripts/test.sh --sanitize):
//     test_fuzz_replay.cpp calls every entry on every file of tests/fuzz/corpus/<name>/ (the seeds) and
//     tests/fuzz/regressions/<name>/ (each crash a fuzzer ever found).
// An entry returns 0; a bug shows as a crash, a sanitizer report or an assertion.
#pragma once
#include <cstddef>
#include <cstdint>

int cj_fuzz_gguf(const uint8_t* data, size_t size);
int cj_fuzz_safetensors(const uint8_t* data, size_t size);
int cj_fuzz_tokenizer_json(const uint8_t* data, size_t size);
int cj_fuzz_llama2c(const uint8_t* data, size_t size);
int cj_fuzz_text_import(const uint8_t* data, size_t size);
int cj_fuzz_http_request(const uint8_t* data, size_t size);

#ifdef CJ_LIBFUZZER
#define CJ_FUZZ_MAIN(name) \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { return cj_fuzz_##name(data, size); }
#else
#define CJ_FUZZ_MAIN(name)
#endif
