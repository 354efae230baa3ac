// Damaged projects and awkward input (issue 20, item 15): a file whose pages were overwritten is refused on open
// with a message saying it is damaged (PRAGMA quick_check); text altered inside a value (which SQLite's checks do
// not see) is reported by export instead of written out as invalid UTF-8; UTF-16 saved without a BOM imports as
// text instead of being called binary; blank entity names are refused.
#include <gtest/gtest.h>

#include <fstream>

#include "engine/base/utf8.h"
#include "storage/books.h"
#include "storage/chapters.h"
#include "storage/database.h"
#include "storage/entities.h"
#include "storage/exporter.h"
#include "storage/importer.h"
#include "storage/text_decoder.h"
#include "storage_test_util.h"

using namespace cj;
using namespace cj::storage;
using namespace cj::storage::testing;

namespace {

const std::string kBook =
    "《测试》\n\n第一回 甄士隐梦幻识通灵\n此开卷第一回也。作者自云：因曾历过一番梦幻之后，故将真事隐去。\n\n"
    "第二回 贾夫人仙逝扬州城\n诗云：一局输赢料不真，香销茶尽尚逡巡。\n";

std::string utf16(const std::string& s, bool little_endian) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    uint32_t cp;
    const int n = utf8::decode(s, i, &cp);
    i += size_t(n);
    const uint16_t u = uint16_t(cp);  // the test text is all in the BMP
    out += char(little_endian ? u & 0xFF : u >> 8);
    out += char(little_endian ? u >> 8 : u & 0xFF);
  }
  return out;
}

}  // namespace

TEST(HostileStorage, OverwrittenPagesAreReportedWhenTheProjectIsOpened) {
  TempDir dir;
  const std::string path = dir.file("p.cjdb");
  {
    auto db = Database::open(path);
    ASSERT_OK(db);
    std::string text = kBook;
    for (int c = 3; c < 60; ++c) {
      text += "第" + std::to_string(c) + "回 又一回\n";
      for (int k = 0; k < 40; ++k) text += "林黛玉进了荣国府，见过了贾母。" + std::to_string(c * 100 + k) + "\n";
    }
    ASSERT_OK(import_bytes(**db, text, "b.txt"));
  }  // closing checkpoints the WAL into the file
  // 200 bytes of garbage at the start of every page after the first few: the b-tree page headers.
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(0, std::ios::end);
  const std::streamoff size = f.tellg();
  ASSERT_GT(size, 40960);
  int hit = 0;
  for (std::streamoff off = 4096 * 6; off + 200 < size && hit < 1; off += 4096, ++hit) {
    f.seekp(off);
    for (int i = 0; i < 200; ++i) f.put(char(0xA5 ^ i));
  }
  f.close();
  auto db = Database::open(path);
  ASSERT_FALSE(db.ok()) << "a damaged project opened silently";
  EXPECT_NE(db.error().find("damaged"), std::string::npos) << db.error();
}

TEST(HostileStorage, ExportRefusesTextThatIsNotUtf8) {
  auto db = Database::open(":memory:");
  ASSERT_OK(db);
  auto r = import_bytes(**db, kBook, "b.txt");
  ASSERT_OK(r);
  // Bytes changed inside a chapter's text, as by a disk error or an editor that does not know SQLite.
  ASSERT_OK((*db)->exec("UPDATE chapters SET body = CAST(X'E4B8E4B8' AS TEXT) || body WHERE ordinal = 2"));
  auto out = export_book(**db, r->book_id, ExportFormat::kText);
  ASSERT_FALSE(out.ok()) << "exported invalid UTF-8";
  EXPECT_NE(out.error().find("第二回"), std::string::npos) << out.error();
  EXPECT_NE(out.error().find("damaged"), std::string::npos) << out.error();
}

TEST(HostileStorage, Utf16WithoutAByteOrderMarkIsText) {
  for (bool le : {true, false}) {
    auto d = decode_text(utf16(kBook, le), "b.txt");
    ASSERT_OK(d);
    EXPECT_EQ(d->text, kBook);
    EXPECT_EQ(d->encoding, le ? "UTF-16LE (no BOM)" : "UTF-16BE (no BOM)");
  }
  // Binary data with NULs everywhere is still not text.
  std::string bin;
  for (int i = 0; i < 4096; ++i) bin += char((i * 7919) % 251 == 0 ? 0 : (i * 31) & 0xFF);
  EXPECT_FALSE(decode_text(bin, "x.bin").ok());
  std::string zeros_even;
  for (int i = 0; i < 400; ++i) zeros_even += (i % 2) ? char(0x80 + i % 64) : '\0';
  EXPECT_FALSE(decode_text(zeros_even, "y.bin").ok());
}

TEST(HostileStorage, BlankEntityNamesAreRefused) {
  auto db = Database::open(":memory:");
  ASSERT_OK(db);
  auto book = Books(**db).create({.title = "书"});
  ASSERT_OK(book);
  Entities e(**db);
  for (const char* name : {" ", "   ", "\u3000", "\u00a0 ", ""}) {
    auto r = e.add(*book, "character", name);
    ASSERT_FALSE(r.ok()) << "'" << name << "'";
  }
  auto id = e.add(*book, "character", "林黛玉");
  ASSERT_OK(id);
  EXPECT_FALSE(e.add_alias(*id, "\u3000\u3000").ok());
  EXPECT_FALSE(e.rename(*id, " ").ok());
  EXPECT_OK(e.add_alias(*id, "颦儿"));
}
