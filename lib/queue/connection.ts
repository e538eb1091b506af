// Where Redis is: a URL (redis://[user:pass@]host[:port][/db]) or host/port options, turned into
// the ioredis options BullMQ takes. BullMQ requires maxRetriesPerRequest: null on the connections
// of workers and event listeners (their blocking commands must wait, not fail).
import { InvalidArgumentError } from '../errors';

/** A Redis server: `'redis://host:6379/0'` or `{ host, port, password, username, db }`. */
export type RedisConnection = string | { host?: string; port?: number; password?: string; username?: string; db?: number };

/** ioredis options for BullMQ. @internal */
export interface IoRedisOptions {
  host: string;
  port: number;
  password?: string;
  username?: string;
  db?: number;
  maxRetriesPerRequest: null;
}

/** @internal */
export function toConnection(c: RedisConnection): IoRedisOptions {
  if (typeof c === 'string') {
    let u: URL;
    try {
      u = new URL(c);
    } catch {
      throw new InvalidArgumentError(`the Redis connection must be a redis:// URL, got '${c}'`);
    }
    if (u.protocol !== 'redis:') throw new InvalidArgumentError(`the Redis connection must be a redis:// URL, got '${c}'`);
    const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : undefined;
    if (db !== undefined && !(Number.isInteger(db) && db >= 0)) throw new InvalidArgumentError(`the Redis database in '${c}' must be a non-negative integer`);
    return {
      host: u.hostname || '127.0.0.1',
      port: u.port ? Number(u.port) : 6379,
      password: u.password ? decodeURIComponent(u.password) : undefined,
      username: u.username ? decodeURIComponent(u.username) : undefined,
      db,
      maxRetriesPerRequest: null,
    };
  }
  if (!c || typeof c !== 'object') throw new InvalidArgumentError('the Redis connection must be a URL or { host, port }');
  return { host: c.host ?? '127.0.0.1', port: c.port ?? 6379, password: c.password, username: c.username, db: c.db, maxRetriesPerRequest: null };
}

/** Redis key a producer sets to cancel every shard of a run (workers poll it). @internal */
export const cancelKey = (queue: string, run: string): string => `itokit:${queue}:cancel:${run}`;
/** Redis key prefix of worker capability records. @internal */
export const workerKey = (queue: string, id: string): string => `itokit:${queue}:worker:${id}`;

/** The few plain Redis commands itokit/queue issues on BullMQ's ioredis connections. @internal */
export interface PlainRedis {
  set(key: string, value: string, mode: 'EX', seconds: number): Promise<unknown>;
  exists(key: string): Promise<number>;
  del(key: string): Promise<number>;
  keys(pattern: string): Promise<string[]>;
  mget(...keys: string[]): Promise<Array<string | null>>;
}

/** BullMQ's client promise seen as {@link PlainRedis}. @internal */
export async function plain(client: Promise<unknown>): Promise<PlainRedis> {
  return (await client) as PlainRedis;
}
