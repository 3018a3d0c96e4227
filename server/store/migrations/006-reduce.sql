-- A finished job's reduce: {"value": …} or {"error": "…"}, once computed.
ALTER TABLE jobs ADD COLUMN reduced TEXT;
