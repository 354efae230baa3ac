// studio::BookSession over a plain text novel: chapter split, load, save in place with a backup, search.
#include "studio/book_session.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "engine/base/file.h"

namespace cj::studio {
namespace {

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

TEST(ChapterHeading, RecognizesHeadingsNotProse) {
  EXPECT_TRUE(is_chapter_heading("第一回  甄士隐梦幻识通灵　贾雨村风尘怀闺秀\n"));
  EXPECT_TRUE(is_chapter_heading("  第12章 风起"));
  EXPECT_TRUE(is_chapter_heading("第一百二十回"));
  EXPECT_TRUE(is_chapter_heading("楔子"));
  EXPECT_FALSE(is_chapter_heading("第四回中既将薛家母子在荣府内寄居等事略已表明"));
  EXPECT_FALSE(is_chapter_heading("此开卷第一回也"));
  EXPECT_FALSE(is_chapter_heading("第回"));
}

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
  EXPECT_EQ(*book.load_chapter(2), "正文二，林黛玉。\r\n");
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
  EXPECT_EQ(*(*again)->load_chapter(1), "新的正文。\r\n");
  // The editor hands back '\n' text; a CRLF file stays CRLF.
  ASSERT_TRUE((*again)->save_chapter(2, "二\n三\n").ok());
  EXPECT_EQ(*(*again)->load_chapter(2), "二\r\n三\r\n");
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

TEST_F(TextBookTest, RejectsNonUtf8WithAHint) {
  const std::string path = write("gbk.txt", std::string("\xB5\xDA\xD2\xBB\xBB\xD8"));  // 第一回 in GBK
  auto b = BookSession::open_text_file(path);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().find("iconv"), std::string::npos);
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
