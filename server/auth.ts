/**
 * @module Admin authentication: the token from the environment, or one generated on first start
 * and kept in the data dir; compared in constant time. Refusals are logged, throttled.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RequestHandler } from 'express';
import { CoordinatorError } from './errors.ts';
import type { ClientAddress } from './http/client-address.ts';
import { throttledWarn, type Log } from './log.ts';
import type { ClusterStore } from './store/cluster.ts';

export interface AdminToken {
  token: string;
  /** True when this start generated it (so it is printed once). */
  generated: boolean;
  file?: string;
}

export function resolveAdminToken(dataDir: string, fromEnv: string | undefined): AdminToken {
  if (fromEnv) return { token: fromEnv, generated: false };
  const file = path.join(dataDir, 'admin-token');
  if (existsSync(file)) return { token: readFileSync(file, 'utf8').trim(), generated: false, file };
  mkdirSync(dataDir, { recursive: true });
  const token = randomBytes(24).toString('base64url');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return { token, generated: true, file };
}

/** Compares digests so neither the length nor a prefix of the token leaks through timing. */
export function tokenMatches(expected: string, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(presented).digest();
  return timingSafeEqual(a, b);
}

/** The token in an `Authorization: Bearer <token>` header, if any. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return match?.[1];
}

/**
 * Express middleware that lets a request through only with a live admin token, and records who
 * sent it (`res.locals.admin`: jobs record their submitter, volunteers are shown it). A refusal
 * is a warning naming the address and path, at most one line per WARN_EVERY_MS with a count, so
 * someone guessing tokens cannot flood the log.
 */
export function createRequireAdmin(
  tokens: { nameOf(presented: string | undefined): string | undefined },
  log: Log,
  clientAddress: ClientAddress = (remoteAddress) => remoteAddress ?? 'unknown',
): RequestHandler {
  const refused = throttledWarn(log);
  return (req, res, next) => {
    const presented = bearerToken(req.headers.authorization);
    const admin = tokens.nameOf(presented);
    if (admin !== undefined) {
      res.locals['admin'] = admin;
      next();
      return;
    }
    refused(
      {
        address: clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for']),
        method: req.method,
        path: req.originalUrl.split('?')[0],
        tokenPresented: presented !== undefined,
      },
      presented === undefined
        ? '[auth]: request without an admin token refused'
        : '[auth]: admin token refused',
    );
    next(
      new CoordinatorError(
        'unauthorized',
        '[http]: this endpoint needs "Authorization: Bearer <admin token>" (printed at first start, kept in the data dir)',
      ),
    );
  };
}

/**
 * The secret lease ids and device ids are signed with (see scheduling/lease-ids.ts), kept in the
 * store: leases issued before a restart still verify after it, and every node on one database
 * signs with the same one, so a lease verifies on any node. A secret an earlier version kept in
 * the data dir is offered first, so its leases stay valid.
 */
export async function resolveLeaseSecret(
  store: Pick<ClusterStore, 'sharedSecret'>,
  dataDir: string,
): Promise<Buffer> {
  const file = path.join(dataDir, 'lease-secret');
  const fresh = existsSync(file)
    ? readFileSync(file, 'utf8').trim()
    : randomBytes(32).toString('base64url');
  return Buffer.from(await store.sharedSecret('lease', fresh), 'base64url');
}
