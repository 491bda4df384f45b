import { AddressInfo, createServer, Server, Socket } from 'node:net';

/**
 * A TCP relay for fault injection: listens on 127.0.0.1 (a free port) and
 * forwards every connection to `host:port`, until told otherwise.
 *
 * - `cut()` destroys every open connection and refuses new ones (the peer is
 *   gone: connection reset / refused);
 * - `pause()` keeps accepting but forwards nothing either way (a hung peer);
 * - `drip(bytesPerSecond)` forwards, in both directions, at most that many
 *   bytes per second per connection and direction (a slow peer);
 * - `resume()` forwards normally again (queued bytes are flushed).
 */
export interface FaultRelay {
  host: string;
  port: number;
  /** `127.0.0.1:<port>`. */
  address: string;
  /** Connections accepted so far. */
  readonly accepted: number;
  /**
   * Sees every chunk before it is forwarded (`up`: client to target); it may
   * change the mode, e.g. cut when a given statement goes by. The chunk is
   * forwarded (or dropped) according to the mode after the call.
   */
  onChunk(
    tap: ((direction: 'up' | 'down', chunk: Buffer) => void) | undefined,
  ): void;
  cut(): void;
  pause(): void;
  drip(bytesPerSecond: number): void;
  resume(): void;
  close(): Promise<void>;
}

type Mode =
  | { kind: 'forward' }
  | { kind: 'cut' }
  | { kind: 'pause' }
  | { kind: 'drip'; bytesPerSecond: number };

/** One direction of one connection: bytes queued and released per the mode. */
class Pipe {
  private queue: Buffer[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly to: Socket, private readonly mode: () => Mode) {}

  push(chunk: Buffer) {
    this.queue.push(chunk);
    this.pump();
  }

  pump() {
    if (this.timer || this.to.destroyed) return;
    const mode = this.mode();
    if (mode.kind === 'forward') {
      for (const chunk of this.queue.splice(0)) this.to.write(chunk);
      return;
    }
    if (mode.kind !== 'drip' || this.queue.length === 0) return;
    // Ten slices a second, at least one byte each.
    const slice = Math.max(1, Math.floor(mode.bytesPerSecond / 10));
    const head = this.queue[0];
    this.to.write(head.subarray(0, slice));
    if (head.length > slice) this.queue[0] = head.subarray(slice);
    else this.queue.shift();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, 100);
  }

  stop() {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.queue = [];
  }
}

/** Starts a relay to `target` (`host:port`). */
export async function startFaultRelay(target: {
  host: string;
  port: number;
}): Promise<FaultRelay> {
  let mode: Mode = { kind: 'forward' };
  let accepted = 0;
  let tap: ((direction: 'up' | 'down', chunk: Buffer) => void) | undefined;
  const connections = new Set<{
    client: Socket;
    upstream: Socket;
    pipes: Pipe[];
  }>();

  const server: Server = createServer(client => {
    if (mode.kind === 'cut') {
      client.resetAndDestroy();
      return;
    }
    accepted++;
    const upstream = new Socket();
    const toUpstream = new Pipe(upstream, () => mode);
    const toClient = new Pipe(client, () => mode);
    const connection = { client, upstream, pipes: [toUpstream, toClient] };
    connections.add(connection);
    const close = () => {
      toUpstream.stop();
      toClient.stop();
      client.destroy();
      upstream.destroy();
      connections.delete(connection);
    };
    const relayChunk = (direction: 'up' | 'down', chunk: Buffer) => {
      tap?.(direction, chunk);
      if (!connections.has(connection)) return;
      (direction === 'up' ? toUpstream : toClient).push(chunk);
    };
    client.on('data', (chunk: Buffer) => relayChunk('up', chunk));
    upstream.on('data', (chunk: Buffer) => relayChunk('down', chunk));
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', close);
    upstream.on('close', close);
    upstream.connect(target.port, target.host);
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const setMode = (next: Mode) => {
    mode = next;
    for (const { pipes } of connections) for (const pipe of pipes) pipe.pump();
  };

  const relay: FaultRelay = {
    host: '127.0.0.1',
    port,
    address: `127.0.0.1:${port}`,
    get accepted() {
      return accepted;
    },
    onChunk(next) {
      tap = next;
    },
    cut() {
      mode = { kind: 'cut' };
      for (const { client, upstream, pipes } of [...connections]) {
        for (const pipe of pipes) pipe.stop();
        client.resetAndDestroy();
        upstream.destroy();
      }
      connections.clear();
    },
    pause() {
      setMode({ kind: 'pause' });
    },
    drip(bytesPerSecond: number) {
      setMode({ kind: 'drip', bytesPerSecond });
    },
    resume() {
      setMode({ kind: 'forward' });
    },
    async close() {
      relay.cut();
      await new Promise<void>(resolve => server.close(() => resolve()));
    },
  };
  return relay;
}
