// Every non-ASCII character the UI's own strings use, so that the glyph atlas holds them from the first frame.
// tests/ui/ui_strings_test.cpp fails when a string literal in ui/*.cpp uses a character missing here.
#pragma once

namespace cj::ui {
const char* ui_strings();
}
