-- Classroom and lab grids: a join code and a name.
CREATE TABLE grids (
  code       TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
