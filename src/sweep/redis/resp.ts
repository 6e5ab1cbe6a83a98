/**
 * A minimal Redis connection (RESP2 over TCP) with the surface of Bun's `RedisClient`, which
 * BullMQ wraps in its own adapter (reconnects, scripts, pipelines, blocking pops): `send`,
 * `connect`, `close`, `duplicate`, `connected`, `onconnect`/`onclose`.
 *
 * Why it exists: BullMQ 6 takes its Redis driver as an optional peer (ioredis or node-redis) and
 * neither is installed here; BullMQ's adapter needs only this much of a driver. The scheduling —
 * queues, locks, stalled-job recovery — is BullMQ's, not ours.
 */
import { connect as tcpConnect, type Socket } from "node:net";

export type RedisTarget = { host: string; port: number; db: number; username?: string; password?: string };

export type Reply = string | number | null | Reply[] | Buffer;

export class RedisReplyError extends Error {
  override name = "RedisReplyError";
}

type Pending = { resolve(r: Reply): void; reject(e: Error): void };

/** Parses one RESP2 value at `at`; returns it and the next offset, or null when more bytes are needed. */
export function parseReply(buf: Buffer, at: number): { value: Reply | RedisReplyError; next: number } | null {
  const eol = buf.indexOf("\r\n", at);
  if (eol < 0) return null;
  const type = String.fromCharCode(buf[at]);
  const line = buf.toString("utf8", at + 1, eol);
  const after = eol + 2;
  switch (type) {
    case "+":
      return { value: line, next: after };
    case "-":
      return { value: new RedisReplyError(line), next: after };
    case ":":
      return { value: Number(line), next: after };
    case "$": {
      const n = Number(line);
      if (n < 0) return { value: null, next: after };
      if (buf.length < after + n + 2) return null;
      return { value: buf.toString("utf8", after, after + n), next: after + n + 2 };
    }
    case "*": {
      const n = Number(line);
      if (n < 0) return { value: null, next: after };
      const items: Reply[] = [];
      let next = after;
      for (let i = 0; i < n; i++) {
        const item = parseReply(buf, next);
        if (!item) return null;
        // An error inside an array (EXEC of a failed command) is kept as a value for the caller.
        items.push(item.value instanceof RedisReplyError ? (item.value as unknown as Reply) : item.value);
        next = item.next;
      }
      return { value: items, next };
    }
    default:
      throw new RedisReplyError(`unexpected reply type "${type}" from Redis`);
  }
}

function encodeCommand(command: string, args: (string | Buffer | number)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length + 1}\r\n`)];
  for (const a of [command, ...args]) {
    const b = Buffer.isBuffer(a) ? a : Buffer.from(String(a));
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from("\r\n"));
  }
  return Buffer.concat(parts);
}

export class RespConnection {
  connected = false;
  onconnect: (() => void) | null = null;
  onclose: ((error?: Error) => void) | null = null;
  readonly #target: RedisTarget;
  readonly #connectTimeoutMs: number;
  #socket: Socket | null = null;
  #pending: Pending[] = [];
  #buffer: Buffer = Buffer.alloc(0);

  constructor(target: RedisTarget, opts: { connectTimeoutMs?: number } = {}) {
    this.#target = target;
    this.#connectTimeoutMs = opts.connectTimeoutMs ?? 5000;
  }

  /** Opens the socket, authenticates and selects the database. */
  connect(): Promise<void> {
    const { host, port } = this.#target;
    return new Promise<void>((resolve, reject) => {
      const socket = tcpConnect({ host, port });
      this.#socket = socket;
      socket.setNoDelay(true);
      const timer = setTimeout(() => {
        socket.destroy(new Error(`Connection has failed: no answer from ${host}:${port}`));
      }, this.#connectTimeoutMs);
      socket.once("connect", () => {
        clearTimeout(timer);
        this.connected = true;
        this.#handshake().then(() => {
          resolve();
          this.onconnect?.();
        }, reject);
      });
      socket.on("data", (chunk: Buffer) => this.#receive(chunk));
      socket.on("error", () => undefined); // "close" follows and says it
      socket.once("close", (hadError) => {
        clearTimeout(timer);
        const wasConnected = this.connected;
        this.connected = false;
        const error = new Error("Connection closed");
        for (const p of this.#pending.splice(0)) p.reject(error);
        if (!wasConnected) reject(new Error(`Connection has failed: cannot reach ${host}:${port}`));
        else this.onclose?.(hadError ? error : undefined);
      });
    });
  }

  async #handshake(): Promise<void> {
    const { username, password, db } = this.#target;
    if (password !== undefined) await this.send("AUTH", username ? [username, password] : [password]);
    if (db !== 0) await this.send("SELECT", [String(db)]);
  }

  send(command: string, args: (string | Buffer | number)[] = []): Promise<Reply> {
    const socket = this.#socket;
    if (!socket || !this.connected) return Promise.reject(new Error("Connection is closed."));
    return new Promise<Reply>((resolve, reject) => {
      this.#pending.push({ resolve, reject });
      socket.write(encodeCommand(command, args));
    });
  }

  #receive(chunk: Buffer): void {
    this.#buffer = this.#buffer.length ? Buffer.concat([this.#buffer, chunk]) : chunk;
    let at = 0;
    for (;;) {
      const parsed = at < this.#buffer.length ? parseReply(this.#buffer, at) : null;
      if (!parsed) break;
      at = parsed.next;
      const p = this.#pending.shift();
      if (parsed.value instanceof RedisReplyError) p?.reject(parsed.value);
      else p?.resolve(parsed.value);
    }
    this.#buffer = this.#buffer.subarray(at);
  }

  close(): void {
    this.#socket?.destroy();
  }

  /** A new, unconnected connection to the same server (BullMQ's blocking and reconnect paths). */
  duplicate(): Promise<RespConnection> {
    return Promise.resolve(new RespConnection(this.#target, { connectTimeoutMs: this.#connectTimeoutMs }));
  }
}
