/**
 * @module What admins set up and decide, in the PostgreSQL store: grids and their pauses (whole
 * grids and single tabs), admin tokens, device bans (which end a device's streak). Small tables
 * read at start, written rarely.
 */
import type pg from 'pg';
import { CoordinatorError } from '../errors.ts';
import { inTransaction } from './pg-connect.ts';
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

interface GridRow {
  code: string;
  name: string;
  created_at: number;
  paused: boolean;
}

interface TokenRow {
  token_id: string;
  name: string;
  hash: string;
  created_at: number;
  revoked_at: number | null;
}

export function createPgAdminState(pool: pg.Pool): AdminState {
  return {
    async banDevice(deviceId, at) {
      // One statement, so atomic: a ban ends the streak for good, and an unban starts from nothing.
      await pool.query(
        `WITH banned AS (
           INSERT INTO banned_devices (device_id, banned_at) VALUES ($1, $2) ON CONFLICT DO NOTHING
         )
         INSERT INTO device_standing (device_id, resets, updated_at) VALUES ($1, 1, $2)
         ON CONFLICT (device_id) DO UPDATE SET streak = 0, resets = device_standing.resets + 1,
           updated_at = GREATEST(device_standing.updated_at, excluded.updated_at)`,
        [deviceId, at],
      );
    },
    async unbanDevice(deviceId) {
      await pool.query('DELETE FROM banned_devices WHERE device_id = $1', [deviceId]);
    },
    async bannedDevices() {
      const { rows } = await pool.query<{ device_id: string }>(
        'SELECT device_id FROM banned_devices',
      );
      return rows.map((row) => row.device_id);
    },
    async createToken(token) {
      await pool.query(
        'INSERT INTO admin_tokens (token_id, name, hash, created_at) VALUES ($1, $2, $3, $4)',
        [token.tokenId, token.name, token.hash, token.createdAt],
      );
    },
    async listTokens() {
      const { rows } = await pool.query<TokenRow>(
        'SELECT * FROM admin_tokens ORDER BY created_at DESC, token_id',
      );
      return rows.map((row) => ({
        tokenId: row.token_id,
        name: row.name,
        hash: row.hash,
        createdAt: row.created_at,
        ...(row.revoked_at !== null ? { revokedAt: row.revoked_at } : {}),
      }));
    },
    async revokeToken(tokenId, at) {
      const result = await pool.query(
        'UPDATE admin_tokens SET revoked_at = $1 WHERE token_id = $2 AND revoked_at IS NULL',
        [at, tokenId],
      );
      return result.rowCount === 1;
    },
    async createGrid(grid) {
      const result = await pool.query(
        'INSERT INTO grids (code, name, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
        [grid.code, grid.name, grid.createdAt],
      );
      if (result.rowCount !== 1) {
        throw new CoordinatorError('conflict', `[store]: grid ${grid.code} already exists`);
      }
    },
    async getGrid(code) {
      const { rows } = await pool.query<GridRow>('SELECT * FROM grids WHERE code = $1', [code]);
      return rows[0] && toStoredGrid(rows[0]);
    },
    async listGrids() {
      const { rows } = await pool.query<GridRow>(
        'SELECT * FROM grids ORDER BY created_at DESC, code',
      );
      return rows.map(toStoredGrid);
    },
    async setGridPaused(code, paused) {
      await inTransaction(pool, async (client) => {
        await client.query('UPDATE grids SET paused = $1 WHERE code = $2', [paused, code]);
        if (!paused) await client.query('DELETE FROM paused_tabs WHERE grid = $1', [code]);
      });
    },
    async setTabPaused(tab, paused) {
      if (paused) {
        await pool.query(
          `INSERT INTO paused_tabs (volunteer_id, grid, paused_at) VALUES ($1, $2, $3)
           ON CONFLICT (volunteer_id) DO UPDATE SET grid = excluded.grid, paused_at = excluded.paused_at`,
          [tab.volunteerId, tab.grid, tab.pausedAt],
        );
      } else {
        await pool.query('DELETE FROM paused_tabs WHERE volunteer_id = $1', [tab.volunteerId]);
      }
    },
    async pausedTabs() {
      const { rows } = await pool.query<{ volunteer_id: string; grid: string; paused_at: number }>(
        'SELECT * FROM paused_tabs ORDER BY paused_at, volunteer_id',
      );
      return rows.map((row) => ({
        volunteerId: row.volunteer_id,
        grid: row.grid,
        pausedAt: row.paused_at,
      }));
    },
  };
}

function toStoredGrid(row: GridRow): StoredGrid {
  return { code: row.code, name: row.name, createdAt: row.created_at, paused: row.paused };
}
