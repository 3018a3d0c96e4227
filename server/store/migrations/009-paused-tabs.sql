-- Tabs an admin paused one by one (a whole grid's pause is grids.paused), kept across restarts
-- by the tab id a reloaded tab keeps. Resuming the grid clears its rows.
CREATE TABLE paused_tabs (
  volunteer_id TEXT PRIMARY KEY,
  grid TEXT NOT NULL,
  paused_at INTEGER NOT NULL
);
