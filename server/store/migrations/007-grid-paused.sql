-- Whether an admin paused the whole grid: kept across restarts.
ALTER TABLE grids ADD COLUMN paused INTEGER NOT NULL DEFAULT 0;
