#include "storage/han_fold.h"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <utility>

namespace cj::storage {
namespace {

constexpr std::pair<uint32_t, uint32_t> kFold[] = {
#include "han_fold_table.inc"
};

}  // namespace

char32_t fold_han(char32_t c) {
  if (c < 0x3400) return c;
  const auto* it = std::lower_bound(std::begin(kFold), std::end(kFold), static_cast<uint32_t>(c),
                                    [](const std::pair<uint32_t, uint32_t>& e, uint32_t v) { return e.first < v; });
  return it != std::end(kFold) && it->first == static_cast<uint32_t>(c) ? static_cast<char32_t>(it->second) : c;
}

}  // namespace cj::storage
