// Logfleet's own endpoints under /_logfleet/: saved searches, export and live tail.

import type { Hit } from "./elasticsearch";
import { ApiError, requestJson, send } from "./client";

export interface SavedSearch<State = unknown> {
  id: string;
  name: string;
  state: State;
  created_at: string;
  updated_at: string;
}

export async function listSavedSearches(signal?: AbortSignal): Promise<SavedSearch[]> {
  const response = await requestJson<{ saved_searches: SavedSearch[] }>("/_logfleet/saved-searches", { signal });
  return response.saved_searches;
}

export function createSavedSearch(name: string, state: unknown): Promise<SavedSearch> {
  return requestJson<SavedSearch>("/_logfleet/saved-searches", { method: "POST", body: { name, state } });
}

export function updateSavedSearch(id: string, name: string, state: unknown): Promise<SavedSearch> {
  return requestJson<SavedSearch>(`/_logfleet/saved-searches/${encodeURIComponent(id)}`, { method: "PUT", body: { name, state } });
}

export async function deleteSavedSearch(id: string): Promise<void> {
  await requestJson<unknown>(`/_logfleet/saved-searches/${encodeURIComponent(id)}`, { method: "DELETE" });
}

export type ExportFormat = "csv" | "ndjson";

export interface ExportRequest {
  index: string;
  query: unknown;
  sort: unknown[];
  columns: string[];
  format: ExportFormat;
  limit: number;
}

export interface ExportResult {
  blob: Blob;
  fileName: string;
  rows: number;
}

const NEWLINE = 0x0a;
const QUOTE = 0x22;

function fileNameOf(disposition: string | null, format: ExportFormat): string {
  const quoted = disposition ? /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition) : null;
  const name = quoted?.[1] ? decodeURIComponent(quoted[1]) : "";
  // Only a plain file name: the browser would refuse a path anyway.
  const safe = name.replace(/[/\\]/g, "_").trim();
  return safe || `logfleet-export.${format}`;
}

/** Streams an export, reporting rows received against the total the server announced. */
export async function exportEvents(
  request: ExportRequest,
  signal: AbortSignal,
  onProgress: (rows: number, total: number | null) => void,
): Promise<ExportResult> {
  const response = await send("/_logfleet/export", { method: "POST", body: request, signal });
  const totalHeader = response.headers.get("x-logfleet-total");
  const total = totalHeader === null ? null : Number(totalHeader);
  const headerRows = request.format === "csv" ? 1 : 0;
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  let lines = 0;
  // A CSV value may hold line breaks inside its quotes; only those outside end a row (a
  // doubled quote toggles twice). NDJSON escapes them, and its quotes are JSON's.
  const csv = request.format === "csv";
  let quoted = false;
  if (!response.body) throw new ApiError(response.status, "invalid_response", "the export has no body");
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    for (const byte of value) {
      if (csv && byte === QUOTE) quoted = !quoted;
      else if (byte === NEWLINE && !quoted) lines += 1;
    }
    onProgress(Math.max(0, lines - headerRows), total);
  }
  const type = request.format === "csv" ? "text/csv" : "application/x-ndjson";
  return {
    blob: new Blob(chunks, { type }),
    fileName: fileNameOf(response.headers.get("content-disposition"), request.format),
    rows: Math.max(0, lines - headerRows),
  };
}

/** Offers a Blob as a download through a temporary object URL. */
export function saveBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = fileName;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // The download has started from the URL; give the browser a moment before revoking it.
  window.setTimeout(() => { URL.revokeObjectURL(url); }, 10_000);
}

/** What the live tail's stream says besides its hits. */
export interface TailCallbacks {
  /** The stream is open: from here on, new events come through it. */
  onOpen: () => void;
  onHits: (hits: Hit[]) => void;
  /**
   * The server skipped writes this subscriber was too slow for (`event: missed`);
   * `batches` is how many groups of writes, when the server says.
   */
  onMissed: (batches: number | null) => void;
}

/**
 * Follows the live tail until `signal` aborts or the server ends the stream. Answers before
 * the stream starts (an invalid query) reject with the server's error.
 */
export async function followTail(
  index: string,
  query: string,
  signal: AbortSignal,
  { onOpen, onHits, onMissed }: TailCallbacks,
): Promise<void> {
  const parameters = new URLSearchParams({ index, q: query });
  const response = await send(`/_logfleet/tail?${parameters.toString()}`, { signal });
  if (!response.body) throw new ApiError(response.status, "invalid_response", "the tail has no body");
  onOpen();
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buffered += value;
    // Events end with a blank line; the last piece may be the start of the next one.
    const events = buffered.split(/\r?\n\r?\n/);
    buffered = events.pop() ?? "";
    for (const event of events) {
      let name = "message";
      const data: string[] = [];
      for (const line of event.split(/\r?\n/)) {
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon === -1 ? line : line.slice(0, colon);
        const content = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") name = content;
        else if (field === "data") data.push(content);
      }
      if (name === "missed") {
        onMissed(missedBatches(data.join("\n")));
        continue;
      }
      if (name !== "hits" || data.length === 0) continue;
      const payload = JSON.parse(data.join("\n")) as { hits?: Hit[] };
      if (payload.hits && payload.hits.length > 0) onHits(payload.hits);
    }
  }
}

/** `{"missed_batches": n}`'s n, or null when the message does not say. */
function missedBatches(data: string): number | null {
  try {
    const payload = JSON.parse(data) as { missed_batches?: unknown };
    return typeof payload.missed_batches === "number" && Number.isFinite(payload.missed_batches) ? payload.missed_batches : null;
  } catch {
    return null;
  }
}

/** A dashboard as `GET /_logfleet/dashboards` lists it. */
export interface DashboardSummary {
  id: string;
  title: string;
  description?: string;
  tags?: string[];
  panels: number;
  prebuilt: boolean;
  created_at: string;
  updated_at: string;
}

/** A stored dashboard: what was PUT, plus what the server adds. */
export type StoredDashboard = Record<string, unknown> & { id: string; title: string; prebuilt?: boolean; created_at?: string; updated_at?: string };

const dashboardPath = (id: string): string => `/_logfleet/dashboards/${encodeURIComponent(id)}`;

export function listDashboards(signal?: AbortSignal): Promise<DashboardSummary[]> {
  return requestJson<DashboardSummary[]>("/_logfleet/dashboards", { signal });
}

export function getDashboard(id: string, signal?: AbortSignal): Promise<StoredDashboard> {
  return requestJson<StoredDashboard>(dashboardPath(id), { signal });
}

/** Creates or replaces the dashboard at `id`. */
export function putDashboard(id: string, dashboard: object): Promise<StoredDashboard> {
  return requestJson<StoredDashboard>(dashboardPath(id), { method: "PUT", body: dashboard });
}

/** Creates a dashboard under an id the server chooses. */
export function createDashboard(dashboard: object): Promise<StoredDashboard> {
  return requestJson<StoredDashboard>("/_logfleet/dashboards", { method: "POST", body: dashboard });
}

export async function deleteDashboard(id: string): Promise<void> {
  await requestJson<unknown>(dashboardPath(id), { method: "DELETE" });
}
