import {
  InputError,
  NotAllowedError,
  ServiceUnavailableError,
} from '@backstage/errors';
import type { LookupFunction } from 'node:net';
import { Agent, buildConnector, fetch, Headers, Response } from 'undici';
import { OUTBOUND_POLICY_REFUSED } from './oci/outboundPolicy';

/** How {@link fetchOutbound} may reach a URL and what it may bring back. */
export interface OutboundFetchOptions {
  /** Whether plain http may be used for a host[:port] (loopback or configured-insecure). */
  allowPlainHttp: (host: string) => boolean;
  /** Outbound policy hook, called before every request including redirects. */
  checkUrl?: (url: URL) => Promise<void>;
  /**
   * Resolves host names for the connections themselves (the policy's
   * `lookup`), so they go only to addresses the policy accepted.
   */
  connectLookup?: LookupFunction;
  /**
   * Checks the address and port each new connection actually reached (the
   * policy's `checkConnection`): the reason it is refused, or undefined. A
   * refused connection is closed before anything is sent on it.
   */
  connectCheck?: (address: string, port: number) => Promise<string | undefined>;
  /** For the whole exchange: redirects and the body included. */
  timeoutMs: number;
  /** A bound on the task this request is part of, e.g. a whole registration. */
  deadline?: OutboundDeadline;
  /** Largest body read; a bigger declared or streamed body is refused. */
  maxBytes: number;
  /** What is fetched, for messages, e.g. "manifest of oci://host/charts/hello:1.0.0". */
  what: string;
  accept?: string;
  /** GET unless said; HEAD reads headers only (e.g. a manifest's digest). */
  method?: 'GET' | 'HEAD';
  /** Sent only on hops to `origin`, so a redirect elsewhere never sees it. */
  authorization?: { header: string; origin: string };
  maxRedirects?: number;
}

/**
 * One time limit shared by the requests of a task (a registration: token,
 * manifest, chart layer), so a registry that answers each request just in
 * time cannot stretch the task to many times the per-request limit.
 */
export interface OutboundDeadline {
  signal: AbortSignal;
  /** What is bounded, for messages, e.g. "registering oci://host/charts/hello 0.1.0". */
  task: string;
  /** The limit and where it is set, for messages. */
  limit: string;
}

/** A deadline `ms` from now. */
export function outboundDeadline(
  ms: number,
  task: string,
  limit: string,
): OutboundDeadline {
  return { signal: AbortSignal.timeout(ms), task, limit };
}

/** A response; the body is read only for 2xx answers. */
export interface OutboundResponse {
  status: number;
  headers: Headers;
  body: Buffer;
  /** The URL that answered, after redirects. */
  url: URL;
}

const DEFAULT_MAX_REDIRECTS = 5;

// One connection pool per lookup: keep-alive across a registration's
// requests, and every new connection resolved through that lookup and checked
// for the address it reached.
const agents = new WeakMap<LookupFunction, Agent>();
let defaultAgent: Agent | undefined;

function agentFor(
  lookup: LookupFunction | undefined,
  connectCheck: OutboundFetchOptions['connectCheck'],
): Agent {
  if (!lookup) {
    defaultAgent ??= new Agent();
    return defaultAgent;
  }
  let agent = agents.get(lookup);
  if (!agent) {
    agent = new Agent({ connect: checkedConnector(lookup, connectCheck) });
    agents.set(lookup, agent);
  }
  return agent;
}

/**
 * Connects through the policy's lookup, then checks the socket's remote
 * address and port: the address actually connected to, whatever the URL
 * spelled (an IP literal never goes through a lookup).
 */
function checkedConnector(
  lookup: LookupFunction,
  connectCheck: OutboundFetchOptions['connectCheck'],
): buildConnector.connector {
  const connect = buildConnector({ lookup });
  return (options, callback) => {
    connect(options, (error, socket) => {
      if (error || !socket || !connectCheck) {
        (callback as (e: Error | null, s: typeof socket) => void)(
          error,
          socket,
        );
        return;
      }
      const address = socket.remoteAddress ?? '';
      const port = socket.remotePort ?? 0;
      connectCheck(address, port).then(
        why => {
          if (why) {
            socket.destroy();
            callback(
              Object.assign(
                new Error(`Refusing to connect to ${options.hostname}: ${why}`),
                { code: OUTBOUND_POLICY_REFUSED },
              ),
              null,
            );
          } else {
            callback(null, socket);
          }
        },
        checkError => {
          socket.destroy();
          callback(checkError as Error, null);
        },
      );
    });
  };
}

/**
 * One outbound GET with manual redirects: every hop must be http(s) (plain
 * http only where allowed), carry no credentials in the URL and pass the
 * outbound policy; the body is read with a byte cap, and the whole exchange
 * with a time cap.
 */
export async function fetchOutbound(
  start: URL,
  options: OutboundFetchOptions,
): Promise<OutboundResponse> {
  const { deadline } = options;
  if (deadline?.signal.aborted) {
    throw deadlineError(deadline, start, options);
  }
  const signal = deadline
    ? AbortSignal.any([AbortSignal.timeout(options.timeoutMs), deadline.signal])
    : AbortSignal.timeout(options.timeoutMs);
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  let url = start;
  for (let hop = 0; ; hop++) {
    if (url.protocol === 'http:' && !options.allowPlainHttp(url.host)) {
      throw new NotAllowedError(
        `Refusing plain http to ${url.host} for the ${options.what}`,
      );
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new NotAllowedError(
        `Refusing ${url.protocol} URL for the ${options.what}`,
      );
    }
    if (url.username || url.password) {
      throw new NotAllowedError(
        `Refusing a URL with credentials for the ${options.what}`,
      );
    }
    await options.checkUrl?.(url);
    const headers: Record<string, string> = {};
    if (options.accept) {
      headers.accept = options.accept;
    }
    if (options.authorization && url.origin === options.authorization.origin) {
      headers.authorization = options.authorization.header;
    }
    let response: Response;
    try {
      response = await fetch(url, {
        method: options.method ?? 'GET',
        headers,
        redirect: 'manual',
        signal,
        dispatcher: agentFor(options.connectLookup, options.connectCheck),
      });
    } catch (error) {
      throw networkError(error, url, options);
    }
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel();
      if (hop >= maxRedirects) {
        throw new ServiceUnavailableError(
          `Too many redirects fetching the ${options.what}`,
        );
      }
      url = new URL(location, url);
      continue;
    }
    // A HEAD answer declares the length of a body it does not send.
    if (
      response.status < 200 ||
      response.status >= 300 ||
      options.method === 'HEAD'
    ) {
      await response.body?.cancel();
      return {
        status: response.status,
        headers: response.headers,
        body: Buffer.alloc(0),
        url,
      };
    }
    const body = await readCapped(response, url, options);
    return { status: response.status, headers: response.headers, body, url };
  }
}

async function readCapped(
  response: Response,
  url: URL,
  options: OutboundFetchOptions,
): Promise<Buffer> {
  const tooLarge = () =>
    new InputError(
      `The ${options.what} is larger than the ${options.maxBytes} byte limit`,
    );
  // A declared length over the cap is refused before any of the body is read.
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > options.maxBytes) {
    await response.body?.cancel();
    throw tooLarge();
  }
  if (!response.body) {
    return Buffer.alloc(0);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        break;
      }
      total += value.byteLength;
      if (total > options.maxBytes) {
        await reader.cancel();
        throw tooLarge();
      }
      chunks.push(Buffer.from(value));
    }
  } catch (error) {
    if (error instanceof InputError) {
      throw error;
    }
    throw networkError(error, url, options);
  }
  return Buffer.concat(chunks, total);
}

function networkError(
  error: unknown,
  url: URL,
  options: OutboundFetchOptions,
): Error {
  const name = (error as { name?: string })?.name;
  if (options.deadline?.signal.aborted) {
    return deadlineError(options.deadline, url, options);
  }
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new ServiceUnavailableError(
      `Timed out after ${options.timeoutMs} ms fetching the ${options.what} from ${url.host}`,
    );
  }
  // Only the cause's message: it names the network failure, never our headers.
  const cause = (error as { cause?: { message?: string; code?: string } })
    ?.cause;
  if (cause?.code === OUTBOUND_POLICY_REFUSED) {
    return new InputError(`${cause.message} (for the ${options.what})`);
  }
  const detail = cause?.code ?? cause?.message ?? (error as Error)?.message;
  return new ServiceUnavailableError(
    `Could not reach ${url.host} for the ${options.what}: ${detail}`,
  );
}

function deadlineError(
  deadline: OutboundDeadline,
  url: URL,
  options: OutboundFetchOptions,
): Error {
  return new ServiceUnavailableError(
    `Stopped ${deadline.task}: it took longer than ${deadline.limit}, the last step fetching the ${options.what} from ${url.host}`,
  );
}
