// The context builder's manifest in the writer's words, for the context inspector (GUI) and `changjuan-cli prompt`:
// memory::ContextBuilder says its sections' reasons and its degradation steps in English for the CLI's `context`
// manifest; here they are said again in Chinese from what the builder returns (the section's kind and chapters, the
// arcs and the synopsis's reach, the steps taken), naming chapters by the book's own labels (第二十二回, 楔子) through
// storage::ChapterNumbering. The synopsis is named for what it covers (前文梗概, up to the last arc finished before
// the chapter), never 全书梗概: it is the synopsis as of that arc, not of the whole book.
#pragma once
#include <cstdint>
#include <string>

#include "memory/context_builder.h"
#include "storage/chapter_numbering.h"

namespace cj::studio {

// The writer's name of a section kind of the builder or of the prompt plan ("前文梗概", "各卷摘要", "光标之后", …);
// a kind it does not know is returned as it is.
std::string section_name(const std::string& kind);
// Why section `s` of context `c` (for chapter `ordinal`) holds what it holds, in Chinese.
std::string section_reason(const memory::SectionInfo& s, const memory::Context& c, const storage::ChapterNumbering& n,
                           int64_t ordinal);
// A degradation step of `c` in Chinese ("前文原文减到 2 章", "第一回至第十回的章节摘要改用卷摘要"); a step this
// function does not know is returned as it is (a test builds contexts that take every step and checks for English).
std::string step_words(const std::string& step, const memory::Context& c, const storage::ChapterNumbering& n);

}  // namespace cj::studio
