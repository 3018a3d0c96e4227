/**
 * @module What admins set up and decide, in the SQLite store: grids and their pauses (whole grids
 * and single tabs), admin tokens, device bans (which end a device's streak). Small tables read
 * at start and written rarely.
 */
import type Database from 'better-sqlite3';
import { CoordinatorError } from '../errors.ts';
import type { JobStore, StoredGrid } from './store.ts';

type AdminState = Pick<
  JobStore,
  | 'banDevice'
  | 'unbanDevice'
  | 'bannedDevices'
  | 'createToken'
  | 'listTokens'
  | 'revokeToken'
  | 'createGrid'
  | 'getGrid'
  | 'listGrids'
  | 'setGridPaused'
  | 'setTabPaused'
  | 'pausedTabs'
>;

export function createSqliteAdminState(db: Database.Database): AdminState {
  const insertGrid = db.prepare<[string, string, number]>(
    'INSERT INTO grids (code, name, created_at) VALUES (?, ?, ?)',
  );
  const selectGrid = db.prepare<[string], GridRow>('SELECT * FROM grids WHERE code = ?');
  const selectGrids = db.prepare<[], GridRow>('SELECT * FROM grids ORDER BY created_at DESC, code');
  const updateGridPaused = db.prepare<[number, string]>(
    'UPDATE grids SET paused = ? WHERE code = ?',
  );
  const clearGridTabPauses = db.prepare<[string]>('DELETE FROM paused_tabs WHERE grid = ?');
  const insertTabPause = db.prepare<[string, string, number]>(
    `INSERT INTO paused_tabs (volunteer_id, grid, paused_at) VALUES (?, ?, ?)
     ON CONFLICT (volunteer_id) DO UPDATE SET grid = excluded.grid, paused_at = excluded.paused_at`,
  );
  const deleteTabPause = db.prepare<[string]>('DELETE FROM paused_tabs WHERE volunteer_id = ?');
  const selectTabPauses = db.prepare<[], { volunteer_id: string; grid: string; paused_at: number }>(
    'SELECT * FROM paused_tabs ORDER BY paused_at, volunteer_id',
  );
  const setGridPaused = db.transaction((code: string, paused: boolean) => {
    updateGridPaused.run(paused ? 1 : 0, code);
    if (!paused) clearGridTabPauses.run(code);
  });

  const insertToken = db.prepare<[string, string, string, number]>(
    'INSERT INTO admin_tokens (token_id, name, hash, created_at) VALUES (?, ?, ?, ?)',
  );
  const selectTokens = db.prepare<
    [],
    { token_id: string; name: string; hash: string; created_at: number; revoked_at: number | null }
  >('SELECT * FROM admin_tokens ORDER BY created_at DESC, token_id');
  const revokeToken = db.prepare<[number, string]>(
    'UPDATE admin_tokens SET revoked_at = ? WHERE token_id = ? AND revoked_at IS NULL',
  );

  const insertBan = db.prepare<[string, number]>(
    'INSERT INTO banned_devices (device_id, banned_at) VALUES (?, ?) ON CONFLICT DO NOTHING',
  );
  // A ban ends the streak for good: an unban starts the device from nothing.
  const endStreak = db.prepare<[string, number]>(
    `INSERT INTO device_standing (device_id, resets, updated_at) VALUES (?, 1, ?)
     ON CONFLICT (device_id) DO UPDATE SET streak = 0, resets = resets + 1,
       updated_at = MAX(updated_at, excluded.updated_at)`,
  );
  const ban = db.transaction((deviceId: string, at: number) => {
    insertBan.run(deviceId, at);
    endStreak.run(deviceId, at);
  });
  const deleteBan = db.prepare<[string]>('DELETE FROM banned_devices WHERE device_id = ?');
  const selectBans = db.prepare<[], { device_id: string }>('SELECT device_id FROM banned_devices');

  return {
    async banDevice(deviceId, at) {
      ban(deviceId, at);
    },
    async unbanDevice(deviceId) {
      deleteBan.run(deviceId);
    },
    async bannedDevices() {
      return selectBans.all().map((row) => row.device_id);
    },
    async createToken(token) {
      insertToken.run(token.tokenId, token.name, token.hash, token.createdAt);
    },
    async listTokens() {
      return selectTokens.all().map((row) => ({
        tokenId: row.token_id,
        name: row.name,
        hash: row.hash,
        createdAt: row.created_at,
        ...(row.revoked_at !== null ? { revokedAt: row.revoked_at } : {}),
      }));
    },
    async revokeToken(tokenId, at) {
      return revokeToken.run(at, tokenId).changes === 1;
    },
    async createGrid(grid) {
      try {
        insertGrid.run(grid.code, grid.name, grid.createdAt);
      } catch (error) {
        throw new CoordinatorError('conflict', `[store]: grid ${grid.code} already exists`, {
          cause: error,
        });
      }
    },
    async getGrid(code) {
      const row = selectGrid.get(code);
      return row && toStoredGrid(row);
    },
    async listGrids() {
      return selectGrids.all().map(toStoredGrid);
    },
    async setGridPaused(code, paused) {
      setGridPaused(code, paused);
    },
    async setTabPaused(tab, paused) {
      if (paused) insertTabPause.run(tab.volunteerId, tab.grid, tab.pausedAt);
      else deleteTabPause.run(tab.volunteerId);
    },
    async pausedTabs() {
      return selectTabPauses.all().map((row) => ({
        volunteerId: row.volunteer_id,
        grid: row.grid,
        pausedAt: row.paused_at,
      }));
    },
  };
}

interface GridRow {
  code: string;
  name: string;
  created_at: number;
  paused: number;
}

function toStoredGrid(row: GridRow): StoredGrid {
  return { code: row.code, name: row.name, createdAt: row.created_at, paused: row.paused === 1 };
}
