// 64-bit hashing of byte strings (not cryptographic): the KV prefix chain, model and tokenizer fingerprints, the
// session header.
#pragma once
#include <cstddef>
#include <cstdint>

namespace cj {

uint64_t hash_bytes(const void* data, size_t n, uint64_t seed);

}  // namespace cj
