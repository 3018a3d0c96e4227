import { createPgStore } from '../../server/store/pg-store.ts';
import type { JobStore } from '../../server/store/store.ts';
import { usePostgres } from '../support/postgres.ts';
import { runStoreContract } from './store-contract.ts';

const postgres = usePostgres();

// The contract's key is a temp dir per test; each key gets its own database, and opening the
// same key again reaches the same one.
const databases = new Map<string, Promise<string>>();
const databaseOf = (key: string): Promise<string> => {
  let url = databases.get(key);
  if (!url) databases.set(key, (url = postgres.freshDatabase()));
  return url;
};

runStoreContract('postgres', async (key): Promise<JobStore> =>
  createPgStore({ connectionString: await databaseOf(key) }),
);
