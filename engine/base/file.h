// Whole-file I/O with errors a user can act on, and atomic replacement (write temp, fsync, rename).
#pragma once
#include <string>
#include <string_view>

#include "engine/base/result.h"

namespace cj {

Result<std::string> read_file(const std::string& path);
// Writes to path.tmp, fsyncs and renames over path: a crash leaves the old file or the new one, never half.
Status write_file_atomic(const std::string& path, std::string_view data);
// errno as text, with a hint for the common cases (ENOSPC: "disk full", EROFS/EACCES: "read-only").
std::string errno_message(int err);

}  // namespace cj
