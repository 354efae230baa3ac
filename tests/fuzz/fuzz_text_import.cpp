// Text import: encoding detection and decoding (UTF-8/16/32, GB18030, Big5), chapter splitting, and the whole
// import into a project (an in-memory database, rolled back after each input so it does not grow).
#include <memory>
#include <string_view>

#include "storage/chapter_splitter.h"
#include "storage/database.h"
#include "storage/importer.h"
#include "storage/text_decoder.h"
#include "storage/transaction.h"
#include "tests/fuzz/fuzz_entry.h"

int cj_fuzz_text_import(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto decoded = cj::storage::decode_text(bytes, "fuzz.txt");
  if (!decoded.ok()) return 0;
  (void)cj::storage::split_chapters(decoded->text);
  static std::unique_ptr<cj::storage::Database> db = [] {
    auto d = cj::storage::Database::open(":memory:");
    return d.ok() ? std::move(d.value()) : nullptr;
  }();
  if (!db) return 0;
  auto tx = cj::storage::Transaction::begin(*db);
  if (!tx.ok()) return 0;
  (void)cj::storage::import_bytes(*db, bytes, "fuzz.txt", {.allow_duplicate = true});
  tx->rollback();
  return 0;
}

CJ_FUZZ_MAIN(text_import)
