#include "storage/sqlite_error.h"

#include <sqlite3.h>

#include <cerrno>

#include "engine/base/file.h"

namespace cj::storage {

std::string describe_sqlite(sqlite3* db, int rc, std::string_view what) {
  std::string m(what);
  m += ": ";
  const int primary = rc & 0xff;
  const int sys = db ? sqlite3_system_errno(db) : 0;
  switch (primary) {
    case SQLITE_FULL:
      m += "the disk is full (or the database reached its size limit); free some space and try again";
      break;
    case SQLITE_READONLY:
      m += "the database is read-only (the file, its folder or the open mode does not allow writing)";
      break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      m += "the database is locked by another program or connection; close it and try again";
      break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      m += "the file is not a Changjuan database or it is damaged";
      break;
    case SQLITE_CANTOPEN:
      m += "cannot open the database file";
      if (sys) m += " (" + errno_message(sys) + ")";
      break;
    case SQLITE_IOERR:
      m += "disk I/O error";
      if (sys == ENOSPC) m += " (the disk is full)";
      else if (sys == EROFS || sys == EACCES || sys == EPERM) m += " (the location is read-only)";
      else if (sys) m += " (" + errno_message(sys) + ")";
      break;
    case SQLITE_NOMEM:
      m += "out of memory";
      break;
    case SQLITE_PERM:
    case SQLITE_AUTH:
      m += "permission denied";
      break;
    default:
      break;
  }
  const char* own = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  if (primary != SQLITE_FULL && primary != SQLITE_READONLY && primary != SQLITE_BUSY) {
    if (m.back() != ' ') m += " — ";
    m += own ? own : sqlite3_errstr(rc);
  } else {
    m += std::string(" [") + sqlite3_errstr(rc) + "]";
  }
  return m;
}

}  // namespace cj::storage
