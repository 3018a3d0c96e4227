import path from 'node:path';
import { createSqliteStore } from '../../server/store/sqlite-store.ts';
import { runStoreContract } from './store-contract.ts';

runStoreContract('sqlite', (dir) =>
  createSqliteStore({ filename: path.join(dir, 'browsergrid.db') }),
);
