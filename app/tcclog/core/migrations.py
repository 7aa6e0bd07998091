"""Versioned, idempotent schema migrations. `tcclog migrate` applies the missing ones in order,
each in its own transaction, under an advisory lock so concurrent pods do not race."""

from __future__ import annotations

import psycopg
import structlog

log = structlog.get_logger(__name__)
LOCK_ID = 0x7CC106
AI_ROLE = "tcclog_ai"

_OWNED_TABLES = ("entries", "tags", "topics", "entry_tags", "links", "files", "galleries",
                 "gallery_files")

MIGRATIONS: list[tuple[int, str, str]] = [
    (1, "core schema", """
CREATE TABLE users (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email text NOT NULL,
  password_hash text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE TABLE topics (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users ON DELETE CASCADE,
  name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (user_id, name), UNIQUE (user_id, id)
);
CREATE TABLE tags (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users ON DELETE CASCADE,
  name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (user_id, name), UNIQUE (user_id, id)
);
CREATE TABLE entries (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users ON DELETE CASCADE,
  topic_id bigint,
  title text NOT NULL,
  content text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', title), 'A') ||
    setweight(to_tsvector('english', content), 'B')) STORED,
  UNIQUE (user_id, id),
  -- composite keys: a row can only reference rows of the same user, enforced by the database
  FOREIGN KEY (user_id, topic_id) REFERENCES topics (user_id, id) ON DELETE SET NULL (topic_id)
);
CREATE INDEX entries_user_id_idx ON entries (user_id, id DESC);
CREATE INDEX entries_topic_idx ON entries (user_id, topic_id, id DESC);
CREATE INDEX entries_search_idx ON entries USING gin (search);
CREATE TABLE entry_tags (
  user_id bigint NOT NULL,
  entry_id bigint NOT NULL,
  tag_id bigint NOT NULL,
  PRIMARY KEY (entry_id, tag_id),
  FOREIGN KEY (user_id, entry_id) REFERENCES entries (user_id, id) ON DELETE CASCADE,
  FOREIGN KEY (user_id, tag_id) REFERENCES tags (user_id, id) ON DELETE CASCADE
);
CREATE INDEX entry_tags_tag_idx ON entry_tags (tag_id, entry_id);
CREATE TABLE links (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users ON DELETE CASCADE,
  entry_id bigint,
  url text NOT NULL,
  title text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (user_id, entry_id) REFERENCES entries (user_id, id) ON DELETE CASCADE
);
CREATE INDEX links_user_idx ON links (user_id, id DESC);
CREATE TABLE files (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users ON DELETE CASCADE,
  filename text NOT NULL,
  content_type text NOT NULL,
  size bigint NOT NULL DEFAULT 0,
  sha256 text NOT NULL DEFAULT '',
  s3_key text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (user_id, id)
);
CREATE INDEX files_user_idx ON files (user_id, id DESC);
CREATE TABLE galleries (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users ON DELETE CASCADE,
  title text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (user_id, id)
);
CREATE INDEX galleries_user_idx ON galleries (user_id, id DESC);
CREATE TABLE gallery_files (
  user_id bigint NOT NULL,
  gallery_id bigint NOT NULL,
  file_id bigint NOT NULL,
  position int NOT NULL,
  PRIMARY KEY (gallery_id, position),
  FOREIGN KEY (user_id, gallery_id) REFERENCES galleries (user_id, id) ON DELETE CASCADE,
  FOREIGN KEY (user_id, file_id) REFERENCES files (user_id, id) ON DELETE CASCADE
);
"""),
    (2, "read-only AI role with row-level security", f"""
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{AI_ROLE}') THEN
    CREATE ROLE {AI_ROLE} NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
  END IF;
END $$;
GRANT {AI_ROLE} TO CURRENT_USER;
GRANT USAGE ON SCHEMA public TO {AI_ROLE};
""" + "".join(f"""
GRANT SELECT ON {t} TO {AI_ROLE};
ALTER TABLE {t} ENABLE ROW LEVEL SECURITY;
CREATE POLICY {t}_ai_own_rows ON {t} FOR SELECT TO {AI_ROLE}
  USING (user_id = nullif(current_setting('tcclog.user_id', true), '')::bigint);
""" for t in _OWNED_TABLES)),
    (3, "per-user search index", """
-- One GIN index over (user_id, search): a search intersects the caller's posting list with the
-- words' inside the index instead of fetching every user's matching rows and filtering them.
CREATE EXTENSION IF NOT EXISTS btree_gin;
CREATE INDEX entries_user_search_idx ON entries USING gin (user_id, search);
DROP INDEX entries_search_idx;
"""),
]


def migrate(dsn: str) -> list[int]:
    """Apply missing migrations; returns the versions applied (empty when up to date)."""
    applied: list[int] = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_ID,))
        try:
            conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version int PRIMARY KEY,"
                         " name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())")
            done = {r[0] for r in conn.execute("SELECT version FROM schema_migrations")}
            for version, name, sql in MIGRATIONS:
                if version in done:
                    continue
                with conn.transaction():
                    conn.execute(sql.encode())
                    conn.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                                 (version, name))
                log.info("migration_applied", version=version, name=name)
                applied.append(version)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_ID,))
    return applied
