// Build-time generator of the traditional→simplified fold that search uses (storage/han_fold.h): runs ICU's
// Traditional-Simplified transform on every Han code point once, here, and writes the pairs that change as a
// sorted C++ table. Creating the transform costs ~250 ms, too much for every process that opens a project; the
// table costs nothing at run time and covers all of Chinese (ICU's data, not ours).
//   cj_gen_han_fold OUT.inc
#include <unicode/translit.h>
#include <unicode/unistr.h>

#include <cstdio>
#include <memory>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: cj_gen_han_fold OUT.inc\n");
    return 2;
  }
  UErrorCode st = U_ZERO_ERROR;
  std::unique_ptr<icu::Transliterator> t(
      icu::Transliterator::createInstance("Traditional-Simplified", UTRANS_FORWARD, st));
  if (U_FAILURE(st) || !t) {
    std::fprintf(stderr, "cj_gen_han_fold: ICU has no Traditional-Simplified transform: %s\n", u_errorName(st));
    return 1;
  }
  std::FILE* out = std::fopen(argv[1], "w");
  if (!out) {
    std::perror(argv[1]);
    return 1;
  }
  std::fprintf(out, "// Generated at build time by storage/tools/gen_han_fold.cpp from ICU %s (Traditional-Simplified).\n",
               U_ICU_VERSION);
  int n = 0;
  const UChar32 ranges[][2] = {{0x3400, 0x4DBF}, {0x4E00, 0x9FFF}, {0xF900, 0xFAFF}, {0x20000, 0x2FA1F}};
  for (const auto& r : ranges)
    for (UChar32 c = r[0]; c <= r[1]; ++c) {
      icu::UnicodeString s(c);
      t->transliterate(s);
      if (s.countChar32() != 1 || s.char32At(0) == c) continue;
      std::fprintf(out, "{0x%X, 0x%X},\n", static_cast<unsigned>(c), static_cast<unsigned>(s.char32At(0)));
      ++n;
    }
  std::fclose(out);
  return n > 1000 ? 0 : 1;  // a transform that changes almost nothing is a broken ICU
}
