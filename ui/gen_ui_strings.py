#!/usr/bin/env python3
"""Regenerates ui/ui_strings.cpp: every non-ASCII character of the string literals in ui/*.cpp and ui/*.h, so
that the glyph atlas holds them from the first frame. Run from the repository root after adding UI text;
tests/ui/ui_strings_test.cpp fails when this is out of date."""
import glob, re

chars = set()
for f in glob.glob('ui/*.cpp') + glob.glob('ui/*.h'):
    if 'ui_strings' in f:
        continue
    src = open(f, encoding='utf-8').read()
    for m in re.finditer(r'"((?:[^"\\\n]|\\.)*)"', src):
        chars.update(c for c in m.group(1) if ord(c) > 127)
s = ''.join(sorted(chars))
body = '\n'.join('      "%s"' % s[i:i + 40] for i in range(0, len(s), 40))
open('ui/ui_strings.cpp', 'w', encoding='utf-8').write('''#include "ui/ui_strings.h"

namespace cj::ui {

// Generated from the string literals of ui/*.cpp by ui/gen_ui_strings.py (tests/ui/ui_strings_test.cpp checks
// that it is complete).
const char* ui_strings() {
  return
%s;
}

}  // namespace cj::ui
''' % body)
