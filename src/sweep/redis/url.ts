/**
 * `redis://[user:password@]host[:port][/db]`: where a queue lives. The password is never printed or
 * written to a run: `redactRedisUrl` is the only form that leaves this module.
 */
import { UsageError } from "../../errors.js";

/** Where a Redis server is, as ioredis takes it. */
export type RedisTarget = { host: string; port: number; db: number; username?: string; password?: string };

export function parseRedisUrl(text: string): RedisTarget {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--queue: not a URL: ${redactRedisUrl(text)} (expected redis://host:port/db)`);
  }
  if (url.protocol !== "redis:")
    throw new UsageError(
      `--queue: expected a redis:// URL, got ${url.protocol}// (rediss:// is not supported)`,
    );
  const db = url.pathname.replace(/^\//, "");
  if (db !== "" && !/^\d{1,2}$/.test(db))
    throw new UsageError(`--queue: the database "${db}" is not a number (redis://host:port/0)`);
  const port = url.port === "" ? 6379 : Number(url.port);
  return {
    host: url.hostname.replace(/^\[|\]$/g, "") || "127.0.0.1",
    port,
    db: db === "" ? 0 : Number(db),
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
  };
}

/** The URL as it may be shown: credentials replaced by "***". */
export function redactRedisUrl(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i, "$1***@");
}

export function describeTarget(t: RedisTarget): string {
  return `redis://${t.password !== undefined ? "***@" : ""}${t.host}:${t.port}/${t.db}`;
}
