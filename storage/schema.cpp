#include "storage/schema.h"

namespace cj::storage {

namespace {

// Version 1. Conventions: timestamps are milliseconds since the Unix epoch; chapter references in facts,
// summaries and findings are chapter ordinals (the position in the book: 0 = front matter, 1.. in reading
// order); character offsets are code points into a chapter's body.
constexpr std::string_view kV1 = R"SQL(
CREATE TABLE meta(
  key   TEXT PRIMARY KEY,
  value ANY
) WITHOUT ROWID, STRICT;
INSERT INTO meta(key, value) VALUES ('entities_version', 0), ('index_lexicon_version', 0);

CREATE TABLE books(
  id            INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: a deleted book's id stays dead
  title         TEXT NOT NULL,
  author        TEXT NOT NULL DEFAULT '',
  preamble      TEXT NOT NULL DEFAULT '',   -- the title line(s) before the first chapter, verbatim (export)
  source_name   TEXT,                       -- file name it was imported from
  source_hash   TEXT,                       -- hash of the decoded text: re-import detection
  encoding      TEXT,                       -- encoding the import detected
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX books_by_source_hash ON books(source_hash);

CREATE TABLE chapters(
  id            INTEGER PRIMARY KEY,
  book_id       INTEGER NOT NULL REFERENCES books(id) ON DELETE CASCADE,
  ordinal       INTEGER NOT NULL,           -- 0 = front matter, then 1, 2, ... in reading order
  heading       TEXT NOT NULL DEFAULT '',   -- the heading line as written: "第一回  甄士隐梦幻识通灵"
  title         TEXT NOT NULL DEFAULT '',   -- what follows the number: "甄士隐梦幻识通灵"
  body          TEXT NOT NULL,              -- the current text (= the current revision's body)
  chars         INTEGER NOT NULL,           -- code points of body
  revision_id   INTEGER,                    -- current revision (chapter_revisions.id)
  updated_at    INTEGER NOT NULL,
  UNIQUE(book_id, ordinal)
) STRICT;

-- Every save and every AI result is a revision; the chapter's text only ever changes to a revision's text.
CREATE TABLE chapter_revisions(
  id            INTEGER PRIMARY KEY,
  chapter_id    INTEGER NOT NULL REFERENCES chapters(id) ON DELETE CASCADE,
  number        INTEGER NOT NULL,           -- 1, 2, ... per chapter
  title         TEXT NOT NULL,
  body          TEXT NOT NULL,
  source        TEXT NOT NULL CHECK (source IN ('import', 'writer', 'ai', 'restore')),
  note          TEXT NOT NULL DEFAULT '',
  created_at    INTEGER NOT NULL,
  UNIQUE(chapter_id, number)
) STRICT;

CREATE TABLE entities(
  id            INTEGER PRIMARY KEY,
  book_id       INTEGER NOT NULL REFERENCES books(id) ON DELETE CASCADE,
  kind          TEXT NOT NULL CHECK (kind IN ('character', 'place', 'item', 'faction', 'other')),
  name          TEXT NOT NULL,
  description   TEXT NOT NULL DEFAULT '',
  created_at    INTEGER NOT NULL,
  UNIQUE(book_id, name)
) STRICT;

CREATE TABLE entity_aliases(
  entity_id     INTEGER NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
  alias         TEXT NOT NULL,
  PRIMARY KEY(entity_id, alias)
) WITHOUT ROWID, STRICT;
CREATE INDEX entity_aliases_by_alias ON entity_aliases(alias);

-- Any change to names or aliases bumps entities_version; the search index compares it with the version of
-- the lexicon it was built with (search_index.h).
CREATE TRIGGER entities_ai AFTER INSERT ON entities BEGIN
  UPDATE meta SET value = value + 1 WHERE key = 'entities_version'; END;
CREATE TRIGGER entities_ad AFTER DELETE ON entities BEGIN
  UPDATE meta SET value = value + 1 WHERE key = 'entities_version'; END;
CREATE TRIGGER entities_au AFTER UPDATE OF name ON entities BEGIN
  UPDATE meta SET value = value + 1 WHERE key = 'entities_version'; END;
CREATE TRIGGER aliases_ai AFTER INSERT ON entity_aliases BEGIN
  UPDATE meta SET value = value + 1 WHERE key = 'entities_version'; END;
CREATE TRIGGER aliases_ad AFTER DELETE ON entity_aliases BEGIN
  UPDATE meta SET value = value + 1 WHERE key = 'entities_version'; END;
CREATE TRIGGER aliases_au AFTER UPDATE ON entity_aliases BEGIN
  UPDATE meta SET value = value + 1 WHERE key = 'entities_version'; END;

CREATE TABLE facts(
  id              INTEGER PRIMARY KEY,
  book_id         INTEGER NOT NULL REFERENCES books(id) ON DELETE CASCADE,
  entity_id       INTEGER NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
  predicate       TEXT NOT NULL,            -- "状态", "住在", "父亲"
  value           TEXT NOT NULL DEFAULT '', -- "活着", "潇湘馆"
  object_id       INTEGER REFERENCES entities(id) ON DELETE SET NULL,  -- for relations between entities
  valid_from      INTEGER,                  -- first chapter ordinal it holds in; NULL = from the start
  valid_to        INTEGER,                  -- last chapter ordinal it holds in; NULL = to the end
  source_chapter  INTEGER,                  -- chapter ordinal it was stated in
  source_offset   INTEGER,                  -- code point offset in that chapter's body
  origin          TEXT NOT NULL DEFAULT 'writer' CHECK (origin IN ('writer', 'extracted', 'import')),
  created_at      INTEGER NOT NULL,
  CHECK (valid_from IS NULL OR valid_to IS NULL OR valid_from <= valid_to)
) STRICT;
CREATE INDEX facts_by_entity ON facts(entity_id, valid_from);
CREATE INDEX facts_by_book ON facts(book_id, valid_from);

CREATE TABLE summary_nodes(
  id              INTEGER PRIMARY KEY,
  book_id         INTEGER NOT NULL REFERENCES books(id) ON DELETE CASCADE,
  level           INTEGER NOT NULL,         -- 0 scene, 1 chapter, 2 arc, 3 book
  first_chapter   INTEGER NOT NULL,         -- chapter ordinals covered, inclusive
  last_chapter    INTEGER NOT NULL,
  part            INTEGER NOT NULL DEFAULT 0,  -- scene index within a chapter (level 0), else 0
  text            TEXT NOT NULL,
  token_count     INTEGER NOT NULL,
  source_hash     TEXT NOT NULL,            -- hash of what was summarized: a mismatch means stale
  method          TEXT NOT NULL,            -- "extractive", "abstractive:<model>"
  created_at      INTEGER NOT NULL,
  CHECK (first_chapter <= last_chapter),
  UNIQUE(book_id, level, first_chapter, last_chapter, part, method)
) STRICT;

CREATE TABLE jobs(
  id            INTEGER PRIMARY KEY,
  book_id       INTEGER REFERENCES books(id) ON DELETE CASCADE,
  kind          TEXT NOT NULL,              -- "summarize", "check", "draft", ...
  params        TEXT NOT NULL DEFAULT '{}', -- JSON
  status        TEXT NOT NULL DEFAULT 'queued'
                CHECK (status IN ('queued', 'running', 'paused', 'done', 'failed', 'cancelled')),
  progress      REAL NOT NULL DEFAULT 0,    -- 0..1
  message       TEXT NOT NULL DEFAULT '',   -- what it is doing now / why it failed
  result        TEXT,                       -- JSON
  checkpoint    TEXT,                       -- JSON: where to resume
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX jobs_by_status ON jobs(status, id);

CREATE TABLE findings(
  id            INTEGER PRIMARY KEY,
  book_id       INTEGER NOT NULL REFERENCES books(id) ON DELETE CASCADE,
  chapter       INTEGER NOT NULL,           -- chapter ordinal
  span_begin    INTEGER NOT NULL DEFAULT 0, -- code point offsets in the chapter's body
  span_end      INTEGER NOT NULL DEFAULT 0,
  kind          TEXT NOT NULL,              -- "contradiction", "timeline", "name", ...
  message       TEXT NOT NULL,
  evidence      TEXT NOT NULL DEFAULT '',   -- quotes / fact ids supporting it
  status        TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'accepted', 'dismissed', 'fixed')),
  job_id        INTEGER REFERENCES jobs(id) ON DELETE SET NULL,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  CHECK (span_begin <= span_end)
) STRICT;
CREATE INDEX findings_by_chapter ON findings(book_id, chapter, status);

CREATE TABLE kv_snapshots(
  id            INTEGER PRIMARY KEY,
  book_id       INTEGER REFERENCES books(id) ON DELETE SET NULL,
  model_hash    TEXT NOT NULL,
  prefix_hash   TEXT NOT NULL,
  token_count   INTEGER NOT NULL,
  file          TEXT NOT NULL,              -- path of the snapshot file
  bytes         INTEGER NOT NULL,
  created_at    INTEGER NOT NULL,
  last_used     INTEGER NOT NULL,
  UNIQUE(model_hash, prefix_hash)
) STRICT;

-- Full-text search (fts_tokenizer.h, search_index.h). search_lexicon is the lexicon the index was built with.
CREATE TABLE search_lexicon(word TEXT PRIMARY KEY) WITHOUT ROWID, STRICT;
CREATE VIRTUAL TABLE chapter_fts USING fts5(body, book_id UNINDEXED, content='chapters', content_rowid='id',
                                            tokenize='cj');
CREATE TRIGGER chapters_fts_ai AFTER INSERT ON chapters BEGIN
  INSERT INTO chapter_fts(rowid, body, book_id) VALUES (new.id, new.body, new.book_id); END;
CREATE TRIGGER chapters_fts_ad AFTER DELETE ON chapters BEGIN
  INSERT INTO chapter_fts(chapter_fts, rowid, body, book_id) VALUES ('delete', old.id, old.body, old.book_id); END;
CREATE TRIGGER chapters_fts_au AFTER UPDATE OF body, book_id ON chapters BEGIN
  INSERT INTO chapter_fts(chapter_fts, rowid, body, book_id) VALUES ('delete', old.id, old.body, old.book_id);
  INSERT INTO chapter_fts(rowid, body, book_id) VALUES (new.id, new.body, new.book_id); END;
)SQL";

// Version 2 (consistency checks, studio/check/): a stable key per finding so that a dismissed finding does not
// come back while its text is unchanged, and the input hash each chapter was last checked with (re-checking a
// book only re-checks stale chapters).
constexpr std::string_view kV2 = R"SQL(
CREATE TABLE finding_keys(
  finding_id    INTEGER PRIMARY KEY REFERENCES findings(id) ON DELETE CASCADE,
  book_id       INTEGER NOT NULL REFERENCES books(id) ON DELETE CASCADE,
  chapter       INTEGER NOT NULL,           -- chapter ordinal
  finding_key   TEXT NOT NULL               -- hash of kind + chapter + the quoted sentence + the span text
) STRICT;
CREATE INDEX finding_keys_by_key ON finding_keys(book_id, chapter, finding_key);

CREATE TABLE check_state(
  book_id       INTEGER NOT NULL REFERENCES books(id) ON DELETE CASCADE,
  chapter       INTEGER NOT NULL,           -- chapter ordinal
  checker       TEXT NOT NULL,              -- "deterministic", "llm:<model>"
  input_hash    TEXT NOT NULL,              -- hash of the chapter text + book knowledge + checker version
  checked_at    INTEGER NOT NULL,
  PRIMARY KEY(book_id, chapter, checker)
) WITHOUT ROWID, STRICT;
)SQL";

// Version 3: what a finding is about (the entity's name, the variant as written), so that lists group the findings
// of one name instead of showing one row per sentence.
constexpr std::string_view kV3 = R"SQL(
ALTER TABLE findings ADD COLUMN subject TEXT NOT NULL DEFAULT '';
)SQL";

// Version 4: every surface shows one 字数 (engine/base/text.h zishu: 汉字 + full-width punctuation), stored with the
// text so that listings need not read the bodies. cj_zishu() is registered by Database.
constexpr std::string_view kV4 = R"SQL(
ALTER TABLE chapters ADD COLUMN zi INTEGER NOT NULL DEFAULT 0;
ALTER TABLE chapter_revisions ADD COLUMN zi INTEGER NOT NULL DEFAULT 0;
UPDATE chapters SET zi = cj_zishu(body);
UPDATE chapter_revisions SET zi = cj_zishu(body);
)SQL";

// Version 5: job leases (storage/jobs.h). A runner claims a job under its lease (owner host:pid:nonce) and renews
// heartbeat_at while it runs; another runner takes a running job only when that lease is stale.
constexpr std::string_view kV5 = R"SQL(
ALTER TABLE jobs ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN lease_pid INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN lease_host TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN heartbeat_at INTEGER NOT NULL DEFAULT 0;
)SQL";

}  // namespace

const std::vector<std::string_view>& schema_migrations() {
  static const std::vector<std::string_view> m = {kV1, kV2, kV3, kV4, kV5};
  return m;
}

}  // namespace cj::storage
