/**
 * @module Admin tokens: the root token (environment or data dir, never revocable) and any number
 * of named tokens created and revoked through the API, so a class can have several submitters.
 * Only a SHA-256 of a named token is stored; the token itself is shown once, at creation.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { TokenCreated, TokenInfo } from '../shared/tokens.ts';
import { tokenMatches } from './auth.ts';
import { CoordinatorError } from './errors.ts';
import type { JobStore, StoredToken } from './store/store.ts';

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export class AdminTokens {
  readonly #root: string;
  readonly #store: JobStore;
  /** Names of live named tokens, by hash. */
  readonly #live = new Map<string, string>();
  readonly #revokedListeners = new Set<() => void>();
  readonly #changedListeners = new Set<() => void>();

  private constructor(root: string, store: JobStore) {
    this.#root = root;
    this.#store = store;
  }

  static async load(root: string, store: JobStore): Promise<AdminTokens> {
    const tokens = new AdminTokens(root, store);
    for (const token of await store.listTokens())
      if (token.revokedAt === undefined) tokens.#live.set(token.hash, token.name);
    return tokens;
  }

  /** Whether `presented` is the root token or a live named one. A hash is looked up, never the
   * token itself, so lookups reveal nothing an attacker could use. */
  accepts(presented: string | undefined): boolean {
    return this.nameOf(presented) !== undefined;
  }

  /** Who a token belongs to: 'admin' for the root token, a named token's name, else undefined. */
  nameOf(presented: string | undefined): string | undefined {
    if (presented === undefined) return undefined;
    if (tokenMatches(this.#root, presented)) return 'admin';
    return this.#live.get(sha256(presented));
  }

  async create(name: string, now: number): Promise<TokenCreated> {
    const token = `bg_${randomBytes(24).toString('base64url')}`;
    const record: StoredToken = {
      tokenId: randomBytes(6).toString('hex'),
      name,
      hash: sha256(token),
      createdAt: now,
    };
    await this.#store.createToken(record);
    this.#live.set(record.hash, record.name);
    for (const listener of this.#changedListeners) listener();
    return { ...info(record), token };
  }

  async list(): Promise<TokenInfo[]> {
    return (await this.#store.listTokens()).map(info);
  }

  async revoke(tokenId: string, now: number): Promise<void> {
    const record = (await this.#store.listTokens()).find((token) => token.tokenId === tokenId);
    if (
      !record ||
      record.revokedAt !== undefined ||
      !(await this.#store.revokeToken(tokenId, now))
    ) {
      throw new CoordinatorError('not_found', `[tokens]: no live token ${tokenId}`);
    }
    this.#live.delete(record.hash);
    for (const listener of this.#revokedListeners) listener();
    for (const listener of this.#changedListeners) listener();
  }

  /**
   * Reads the tokens again: another coordinator node created or revoked one. A revoked token's
   * sessions here are dropped as if it had been revoked here.
   */
  async reload(): Promise<void> {
    const live = new Map<string, string>();
    for (const token of await this.#store.listTokens())
      if (token.revokedAt === undefined) live.set(token.hash, token.name);
    const revoked = [...this.#live.keys()].some((hash) => !live.has(hash));
    this.#live.clear();
    for (const [hash, name] of live) this.#live.set(hash, name);
    if (revoked) for (const listener of this.#revokedListeners) listener();
  }

  /** Calls `listener` after a token is created or revoked here (other nodes reload). */
  onChanged(listener: () => void): () => void {
    this.#changedListeners.add(listener);
    return () => this.#changedListeners.delete(listener);
  }

  /** Calls `listener` after each revocation, so holders of long-lived sessions (admin sockets)
   * can drop the ones whose token no longer `accepts`. Returns the unsubscribe. */
  onRevoked(listener: () => void): () => void {
    this.#revokedListeners.add(listener);
    return () => this.#revokedListeners.delete(listener);
  }
}

function info(token: StoredToken): TokenInfo {
  return {
    tokenId: token.tokenId,
    name: token.name,
    createdAt: new Date(token.createdAt).toISOString(),
    ...(token.revokedAt !== undefined
      ? { revokedAt: new Date(token.revokedAt).toISOString() }
      : {}),
  };
}
