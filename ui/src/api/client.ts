// The one way the UI talks to the server: JSON over fetch, same origin, with Elasticsearch's
// error shape (`{"error":{"type","reason",…},"status"}`) turned into a readable ApiError.

/** One level of an Elasticsearch error body. */
export interface ErrorCause {
  type?: string;
  reason?: string;
  caused_by?: ErrorCause;
  root_cause?: ErrorCause[];
  failed_shards?: { reason?: ErrorCause }[];
}

/** A failed request: the server's error, or the network's. */
export class ApiError extends Error {
  readonly status: number;
  readonly type: string;
  readonly reason: string;
  /** Deeper causes, outermost first, each once ("type: reason"). */
  readonly causes: string[];

  constructor(status: number, type: string, reason: string, causes: string[] = []) {
    super(`${type}: ${reason}`);
    this.name = "ApiError";
    this.status = status;
    this.type = type;
    this.reason = reason;
    this.causes = causes;
  }

  /**
   * Where in `query` — the query string as sent — the error is, when a reason says. Logfleet's
   * `query_string` errors end with "at line L, column C" (from 1, columns in characters, not
   * UTF-16 units); Lucene's name a line and column too. The reason quotes the query first, so
   * the last mention is the position: a query with "line 1, column 2" in it does not fool it.
   */
  positionIn(query: string): QueryPosition | null {
    for (const text of [this.reason, ...this.causes]) {
      const lineColumn = [...text.matchAll(/\bline (\d+), column (\d+)/gi)].pop();
      if (lineColumn) {
        const line = Math.max(1, Number(lineColumn[1]));
        const column = Math.max(1, Number(lineColumn[2]));
        return { line, column, offset: offsetOf(query, line, column) };
      }
      const position = [...text.matchAll(/(?:at position|at offset|at char(?:acter)?) (\d+)/gi)].pop();
      if (position) {
        const offset = Math.min(query.length, Number(position[1]));
        const before = query.slice(0, offset).split("\n");
        return { line: before.length, column: Array.from(before[before.length - 1] ?? "").length + 1, offset };
      }
    }
    return null;
  }
}

/** A position in a query: as the server names it, and as an index into the string. */
export interface QueryPosition {
  line: number;
  column: number;
  /** UTF-16 index into the query (its length when the position is past the end). */
  offset: number;
}

/** The index of a line and column (from 1, in characters) in `text`, clamped to its lines. */
function offsetOf(text: string, line: number, column: number): number {
  const lines = text.split("\n");
  const index = Math.min(line, lines.length) - 1;
  const before = lines.slice(0, index).reduce((sum, one) => sum + one.length + 1, 0);
  return before + Array.from(lines[index] ?? "").slice(0, column - 1).join("").length;
}

function describe(cause: ErrorCause): string {
  return [cause.type, cause.reason].filter(Boolean).join(": ");
}

/** Builds an ApiError from a response body, whatever shape it has. */
export function errorFromBody(status: number, body: unknown): ApiError {
  if (typeof body === "object" && body !== null && "error" in body) {
    const error = body.error;
    if (typeof error === "string") return new ApiError(status, "error", error);
    if (typeof error === "object" && error !== null) {
      const top = error as ErrorCause;
      const causes: string[] = [];
      const seen = new Set([describe(top)]);
      const add = (cause: ErrorCause | undefined): void => {
        if (!cause) return;
        const text = describe(cause);
        if (text && !seen.has(text)) {
          seen.add(text);
          causes.push(text);
        }
        add(cause.caused_by);
      };
      add(top.caused_by);
      for (const shard of top.failed_shards ?? []) add(shard.reason);
      for (const root of top.root_cause ?? []) add(root);
      return new ApiError(status, top.type ?? "error", top.reason ?? `HTTP ${status}`, causes);
    }
  }
  return new ApiError(status, "http_error", `the server answered HTTP ${status}`);
}

export function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === "AbortError";
}

/** Turns anything thrown into an ApiError (aborts are the caller's to filter first). */
export function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof Error) return new ApiError(0, "connection_error", `the server could not be reached (${error.message})`);
  return new ApiError(0, "error", String(error));
}

/** The path of an index expression: a name, a pattern or a comma list. */
export function indexPath(index: string): string {
  return index
    .split(",")
    .map((part) => encodeURIComponent(part.trim()))
    .join(",");
}

export interface RequestOptions {
  method?: "GET" | "POST" | "PUT" | "DELETE";
  body?: unknown;
  /** A body sent as it is (NDJSON), with `contentType`. */
  rawBody?: string;
  contentType?: string;
  signal?: AbortSignal | undefined;
}

/** Sends a request and returns the response as it is, failing on a non-2xx with its error. */
export async function send(path: string, options: RequestOptions = {}): Promise<Response> {
  const hasBody = options.body !== undefined || options.rawBody !== undefined;
  const init: RequestInit = {
    method: options.method ?? (hasBody ? "POST" : "GET"),
    headers: { accept: "application/json", ...(hasBody ? { "content-type": options.contentType ?? "application/json" } : {}) },
    credentials: "same-origin",
  };
  if (options.rawBody !== undefined) init.body = options.rawBody;
  else if (options.body !== undefined) init.body = JSON.stringify(options.body);
  if (options.signal) init.signal = options.signal;
  let response: Response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    if (isAbort(error)) throw error;
    throw asApiError(error);
  }
  if (!response.ok) {
    let body: unknown = null;
    try {
      body = await response.json();
    } catch (error) {
      if (isAbort(error)) throw error;
    }
    throw errorFromBody(response.status, body);
  }
  return response;
}

/** Sends a request and parses its JSON answer. */
export async function requestJson<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const response = await send(path, options);
  try {
    return (await response.json()) as T;
  } catch (error) {
    if (isAbort(error)) throw error;
    throw new ApiError(response.status, "invalid_response", "the server's answer is not JSON");
  }
}
