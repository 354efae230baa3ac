#include "studio/check/pinyin.h"

#include <unicode/normalizer2.h>
#include <unicode/translit.h>
#include <unicode/unistr.h>

#include <memory>
#include <mutex>
#include <unordered_map>

#include "engine/base/result.h"
#include "studio/check/check_types.h"

namespace cj::check {

namespace {

struct SoundTable {
  std::mutex mu;
  std::unique_ptr<icu::Transliterator> han_latin;
  const icu::Normalizer2* nfd = nullptr;
  std::unordered_map<char32_t, std::string> syllable;  // cache: character -> toneless pinyin
  std::unordered_map<std::string, uint32_t> ids;       // syllable or near key -> id (1-based)

  SoundTable() {
    UErrorCode st = U_ZERO_ERROR;
    han_latin.reset(icu::Transliterator::createInstance("Han-Latin", UTRANS_FORWARD, st));
    CJ_ASSERT_MSG(U_SUCCESS(st) && han_latin, "ICU Han-Latin transliterator unavailable (libicu data missing?)");
    st = U_ZERO_ERROR;
    nfd = icu::Normalizer2::getNFDInstance(st);
    CJ_ASSERT(U_SUCCESS(st) && nfd);
  }

  // Under mu.
  const std::string& lookup(char32_t c) {
    auto it = syllable.find(c);
    if (it != syllable.end()) return it->second;
    std::string out;
    icu::UnicodeString s(static_cast<UChar32>(c));
    han_latin->transliterate(s);
    UErrorCode st = U_ZERO_ERROR;
    icu::UnicodeString d = nfd->normalize(s, st);
    bool latin = U_SUCCESS(st) && d.length() > 0;
    for (int32_t i = 0; latin && i < d.length(); ++i) {
      const UChar u = d.charAt(i);
      if (u >= u'a' && u <= u'z') out += char(u);
      else if (u >= u'A' && u <= u'Z') out += char(u - u'A' + u'a');
      else if (u == 0x0308 && !out.empty() && out.back() == 'u') out.back() = 'v';  // ü
      else if (u >= 0x0300 && u <= 0x036F) continue;                                  // tone marks
      else latin = false;                                                              // not transliterated
    }
    if (!latin) out.clear();
    return syllable.emplace(c, std::move(out)).first->second;
  }

  uint32_t id_of(const std::string& key) {
    if (key.empty()) return 0;
    return ids.emplace(key, uint32_t(ids.size() + 1)).first->second;
  }
};

SoundTable& table() {
  static SoundTable t;
  return t;
}

}  // namespace

std::string pinyin_of(char32_t c) {
  if (!is_han(c)) return "";
  SoundTable& t = table();
  std::lock_guard<std::mutex> lock(t.mu);
  return t.lookup(c);
}

std::string near_sound_key(std::string_view s) {
  std::string k(s);
  if (k.empty()) return k;
  if (k.size() > 2 && k[1] == 'h' && (k[0] == 'z' || k[0] == 'c' || k[0] == 's')) k.erase(1, 1);  // zh ch sh
  else if (k[0] == 'n' && k.size() > 1 && k[1] != 'g') k[0] = 'l';                               // n -> l
  if (k.size() > 2 && k.compare(k.size() - 2, 2, "ng") == 0) k.pop_back();                       // -ng -> -n
  return k;
}

SoundIds sound_ids(char32_t c) {
  if (!is_han(c)) return {};
  SoundTable& t = table();
  std::lock_guard<std::mutex> lock(t.mu);
  const std::string& syl = t.lookup(c);
  if (syl.empty()) return {};
  SoundIds r;
  r.same = t.id_of(syl);
  r.near = t.id_of("~" + near_sound_key(syl));
  return r;
}

}  // namespace cj::check
