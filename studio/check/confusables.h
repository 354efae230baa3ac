// Characters that are easy to confuse in names: similar shape (玉/王, 己/已) or the same sound (黛/戴, 湘/香).
// A small hand-written table focused on characters common in Chinese personal names and the two test novels;
// used by the name-variant check (name_variant_check.h) to tell a miswritten name from a different name.
#pragma once
#include <string>
#include <vector>

namespace cj::check {

// The characters confusable with c (not including c itself); empty if none are listed.
const std::u32string& confusables_of(char32_t c);

}  // namespace cj::check
