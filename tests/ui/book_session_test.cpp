// studio::BookSession over a plain text novel: chapter split, load, save in place with a backup, search.
#include "studio/book_session.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "engine/base/file.h"

namespace cj::studio {
namespace {

std::string load(BookSession& b, size_t i) {
  auto t = b.load_chapter(i);
  return t.ok() ? *t : "<" + t.error() + ">";
}

class TextBookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("cj_book_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    const std::string p = (dir_ / name).string();
    EXPECT_TRUE(write_file_atomic(p, text).ok());
    return p;
  }
  std::filesystem::path dir_;
};

TEST_F(TextBookTest, SplitsLoadsAndSavesByteForByte) {
  const std::string text = "《红楼梦》\r\n\r\n第一回  甲\r\n正文一。\r\n第二回  乙\r\n正文二，林黛玉。\r\n";
  const std::string path = write("book.txt", text);
  auto b = BookSession::open_text_file(path);
  ASSERT_TRUE(b.ok()) << b.error();
  auto& book = **b;
  ASSERT_EQ(book.chapters().size(), 3u);
  EXPECT_EQ(book.chapters()[0].title, "（卷首）");
  EXPECT_EQ(book.chapters()[1].title, "第一回  甲");
  EXPECT_EQ(book.chapters()[2].zi, 8u);
  EXPECT_EQ(*book.load_chapter(2), "正文二，林黛玉。\n");  // the editor's line ends
  EXPECT_FALSE(book.load_chapter(3).ok());

  // Saving an unchanged chapter writes the same bytes; an edit lands in place, the original is kept once.
  ASSERT_TRUE(book.save_chapter(1, *book.load_chapter(1)).ok());
  EXPECT_EQ(*read_file(path), text);
  ASSERT_TRUE(book.save_chapter(1, "新的正文。").ok());
  EXPECT_EQ(*read_file(path), "《红楼梦》\r\n\r\n第一回  甲\r\n新的正文。\r\n第二回  乙\r\n正文二，林黛玉。\r\n");
  EXPECT_EQ(*read_file(path + "~"), text);
  EXPECT_EQ(book.chapters()[1].zi, 5u);
  auto again = BookSession::open_text_file(path);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*(*again)->load_chapter(1), "新的正文。\n");
  // The editor hands back '\n' text; a CRLF file stays CRLF.
  ASSERT_TRUE((*again)->save_chapter(2, "二\n三\n").ok());
  EXPECT_EQ(*(*again)->load_chapter(2), "二\n三\n");
  EXPECT_EQ(*read_file(path), "《红楼梦》\r\n\r\n第一回  甲\r\n新的正文。\r\n第二回  乙\r\n二\r\n三\r\n");
}

TEST_F(TextBookTest, SearchFindsEveryMatchWithSnippets) {
  const std::string path = write("b.txt", "第一回\n宝玉见了黛玉。\n第二回\n黛玉笑道：宝玉。黛玉\n");
  auto b = BookSession::open_text_file(path);
  ASSERT_TRUE(b.ok());
  auto hits = (*b)->search("黛玉", 10);
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 3u);
  EXPECT_EQ((*hits)[0].chapter, 0u);
  EXPECT_EQ((*hits)[1].chapter, 1u);
  EXPECT_EQ((*hits)[1].byte, 0u);
  EXPECT_NE((*hits)[2].snippet.find("黛玉"), std::string::npos);
  EXPECT_EQ((*b)->search("黛玉", 2)->size(), 2u);
}

TEST_F(TextBookTest, Gb18030FileIsEditedInPlaceAndStaysGb18030) {
  // 第一回 甲\r\n正文。\r\n第二回 乙\r\n二。\r\n in GB18030 (GBK bytes), CRLF.
  const std::string gb = "\xB5\xDA\xD2\xBB\xBB\xD8 \xBC\xD7\r\n\xD5\xFD\xCE\xC4\xA1\xA3\r\n"
                         "\xB5\xDA\xB6\xFE\xBB\xD8 \xD2\xD2\r\n\xB6\xFE\xA1\xA3\r\n";
  const std::string path = write("gbk.txt", gb);
  auto b = BookSession::open_text_file(path);
  ASSERT_TRUE(b.ok()) << b.error();
  ASSERT_EQ((*b)->chapters().size(), 2u);
  EXPECT_EQ((*b)->chapters()[0].title, "第一回 甲");
  EXPECT_EQ(*(*b)->load_chapter(0), "正文。\n");
  ASSERT_TRUE((*b)->save_chapter(1, *(*b)->load_chapter(1)).ok());
  EXPECT_EQ(*read_file(path), gb);  // unchanged bytes
  ASSERT_TRUE((*b)->save_chapter(1, "三。").ok());
  EXPECT_EQ(*read_file(path), gb.substr(0, gb.size() - 6) + "\xC8\xFD\xA1\xA3");  // 三。 in GB18030
  // A character GB18030 holds although GBK does not (U+20000, four bytes) is written too.
  ASSERT_TRUE((*b)->save_chapter(1, "\xF0\xA0\x80\x80").ok());
  auto again = BookSession::open_text_file(path);
  ASSERT_TRUE(again.ok()) << again.error();
  EXPECT_EQ(*(*again)->load_chapter(1), "\xF0\xA0\x80\x80");
}

// UTF-16LE with a BOM and CRLF line ends, as Windows Notepad saves "Unicode": "\r\n" is four bytes there, so line
// ends cannot be read off the raw bytes; the file opens and saves back byte for byte.
TEST_F(TextBookTest, Utf16CrlfFileIsEditedInPlace) {
  auto utf16le = [](const std::u16string& s) {
    std::string b = "\xFF\xFE";
    for (char16_t c : s) {
      b += static_cast<char>(c & 0xFF);
      b += static_cast<char>(c >> 8);
    }
    return b;
  };
  const std::string bytes = utf16le(u"第一回 甲\r\n正文。\r\n第二回 乙\r\n二。\r\n");
  const std::string path = write("utf16.txt", bytes);
  auto b = BookSession::open_text_file(path);
  ASSERT_TRUE(b.ok()) << b.error();
  ASSERT_EQ((*b)->chapters().size(), 2u);
  EXPECT_EQ(*(*b)->load_chapter(0), "正文。\n");
  ASSERT_TRUE((*b)->save_chapter(1, *(*b)->load_chapter(1)).ok());
  EXPECT_EQ(*read_file(path), bytes);
  ASSERT_TRUE((*b)->save_chapter(1, "三。\n").ok());
  EXPECT_EQ(*read_file(path), utf16le(u"第一回 甲\r\n正文。\r\n第二回 乙\r\n三。\r\n"));
}

TEST_F(TextBookTest, BytesThatAreNeitherUtf8NorGb18030AreRefusedInOneLine) {
  const std::string path = write("bad.txt", std::string("\x81\x30\xFF\xFF\xFF\x80 abc\n", 10));
  auto b = BookSession::open_text_file(path);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().find('\n'), std::string::npos) << b.error();
}

TEST_F(TextBookTest, ATableOfContentsStaysInTheFrontMatter) {
  // As 儒林外史 is found: the list of chapters first, then the chapters with their text.
  const std::string text = "書名\n\n目錄\n\n第一回　甲\n\n第二回　乙\n\n第三回　丙\n\n第一回　甲\n\n一。\n\n"
                           "第二回　乙\n\n二。\n\n第三回　丙\n\n三。\n";
  const std::string path = write("toc.txt", text);
  auto b = BookSession::open_text_file(path);
  ASSERT_TRUE(b.ok()) << b.error();
  ASSERT_EQ((*b)->chapters().size(), 4u);  // 卷首 (title and contents) + 3 chapters, not 6
  EXPECT_EQ((*b)->chapters()[0].title, "（卷首）");
  EXPECT_NE(load(**b, 0).find("第三回　丙"), std::string::npos);
  EXPECT_EQ(load(**b, 3), "\n三。\n");
  ASSERT_TRUE((*b)->save_chapter(2, load(**b, 2)).ok());
  EXPECT_EQ(*read_file(path), text);
}

TEST(SampleBook, HasTwentyChaptersAndAPreamble) {
  auto b = BookSession::open_text_file(std::string(CJ_SOURCE_DIR) + "/samples/book/hongloumeng-1-20.txt");
  ASSERT_TRUE(b.ok()) << b.error();
  ASSERT_EQ((*b)->chapters().size(), 21u);
  EXPECT_EQ((*b)->chapters()[20].title.substr(0, 12), "第二十回");
  for (size_t i = 1; i < 21; ++i) EXPECT_GT((*b)->chapters()[i].zi, 3000u) << i;
}

}  // namespace
}  // namespace cj::studio
