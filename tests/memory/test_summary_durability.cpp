// A summarize run killed midway keeps every summary it had finished (issue 20, item 15): an LLM summary takes
// seconds, and the tree used to commit chapter summaries in batches of 8 per thread, so a kill lost minutes of
// them. A child process builds the tree with a summarizer that kills the process on its 6th call.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "memory/summary_tree.h"
#include "storage/database.h"
#include "storage/importer.h"

using namespace cj;

namespace {

class DyingSummarizer : public memory::Summarizer {
 public:
  explicit DyingSummarizer(int die_on_call) : die_on_(die_on_call) {}
  Result<std::string> summarize(const memory::SummaryRequest& req) override {
    if (++calls_ == die_on_) _exit(0);  // as a SIGKILL: no destructor, no rollback, no commit
    return "摘要：" + req.title;
  }
  std::string method() const override { return "abstractive:dying"; }
  bool thread_safe() const override { return false; }

 private:
  int die_on_;
  int calls_ = 0;
};

}  // namespace

TEST(SummaryDurability, AKilledRunKeepsEverySummaryItFinished) {
  const std::string dir = std::filesystem::temp_directory_path() / ("cj_sumdur_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/p.cjdb";
  int64_t book = 0;
  {
    auto db = storage::Database::open(path);
    ASSERT_TRUE(db.ok()) << db.error();
    std::string text = "《死而复生》\n\n";
    for (int c = 1; c <= 12; ++c) {
      text += "第" + std::to_string(c) + "章 第" + std::to_string(c) + "回\n";
      for (int k = 0; k < 5; ++k) text += "林黛玉进了荣国府，见过了贾母，又见了众姊妹。" + std::to_string(c) + "\n";
    }
    auto r = storage::import_bytes(**db, text, "b.txt");
    ASSERT_TRUE(r.ok()) << r.error();
    book = r->book_id;
  }
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto db = storage::Database::open(path);
    if (!db.ok()) _exit(3);
    memory::TreeOptions o;
    o.scenes = false;  // one summary per chapter: calls 1..5 are chapters 1..5
    memory::SummaryTree tree(**db, nullptr, o);
    DyingSummarizer s(6);
    (void)tree.build(book, s);
    _exit(4);  // not reached: the summarizer ends the process
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  auto db = storage::Database::open(path);
  ASSERT_TRUE(db.ok()) << db.error();
  EXPECT_EQ(*(*db)->query_int("SELECT count(*) FROM summary_nodes WHERE method = 'abstractive:dying'"), 5);
  std::filesystem::remove_all(dir);
}
