// The Elasticsearch API the explorer uses, typed as far as the UI reads it.

import { indexPath, requestJson } from "./client";

export type Source = Record<string, unknown>;

export interface Hit {
  _index: string;
  _id: string;
  _score?: number | null;
  _source?: Source;
  sort?: unknown[];
  highlight?: Record<string, string[]>;
}

export interface TermsBucket {
  key: string | number;
  key_as_string?: string;
  doc_count: number;
}

export interface DateHistogramBucket {
  key: number;
  key_as_string?: string;
  doc_count: number;
  [subAggregation: string]: unknown;
}

export interface SearchResponse {
  took?: number;
  timed_out?: boolean;
  pit_id?: string;
  hits: {
    total?: { value: number; relation: "eq" | "gte" };
    hits: Hit[];
  };
  aggregations?: Record<string, unknown>;
}

export interface FieldCapability {
  type: string;
  searchable: boolean;
  aggregatable: boolean;
  indices?: string[];
}

export interface FieldCapsResponse {
  indices: string[];
  fields: Record<string, Record<string, FieldCapability>>;
}

export interface ResolveIndexResponse {
  indices: { name: string; attributes?: string[]; aliases?: string[]; data_stream?: string }[];
  aliases: { name: string; indices: string[] }[];
  data_streams: { name: string; backing_indices: string[]; timestamp_field: string }[];
}

export function search(index: string, body: unknown, signal?: AbortSignal): Promise<SearchResponse> {
  return requestJson<SearchResponse>(`/${indexPath(index)}/_search`, { body, signal });
}

/** A search in an open point in time (no index in the path, as Elasticsearch requires). */
export function searchPointInTime(body: unknown, signal?: AbortSignal): Promise<SearchResponse> {
  return requestJson<SearchResponse>("/_search", { body, signal });
}

export async function openPointInTime(index: string, keepAlive: string, signal?: AbortSignal): Promise<string> {
  const response = await requestJson<{ id: string }>(
    `/${indexPath(index)}/_pit?keep_alive=${encodeURIComponent(keepAlive)}&ignore_unavailable=true`,
    { method: "POST", signal },
  );
  return response.id;
}

export async function closePointInTime(id: string): Promise<void> {
  await requestJson<unknown>("/_pit", { method: "DELETE", body: { id } });
}

export function fieldCaps(index: string, signal?: AbortSignal): Promise<FieldCapsResponse> {
  return requestJson<FieldCapsResponse>(`/${indexPath(index)}/_field_caps?fields=*&ignore_unavailable=true`, { signal });
}

export function resolveIndex(expression: string, signal?: AbortSignal): Promise<ResolveIndexResponse> {
  return requestJson<ResolveIndexResponse>(`/_resolve/index/${indexPath(expression)}`, { signal });
}

export interface GetResponse {
  _index: string;
  _id: string;
  found: boolean;
  _source?: Source;
}

export function getDocument(index: string, id: string, signal?: AbortSignal): Promise<GetResponse> {
  return requestJson<GetResponse>(`/${indexPath(index)}/_doc/${encodeURIComponent(id)}`, { signal });
}

/** One search of a `_msearch`: its header line and its body. */
export interface MultiSearchItem {
  index: string;
  body: unknown;
}

/** One answer of a `_msearch`: a search response, or that search's own error. */
export type MultiSearchResult =
  | { ok: true; response: SearchResponse }
  | { ok: false; status: number; error: unknown };

/**
 * Many searches in one round trip (`POST /_msearch`, NDJSON: a header line naming the index,
 * then the body, per search). Each search fails on its own; a refused request fails them all.
 */
export async function multiSearch(items: MultiSearchItem[], signal?: AbortSignal): Promise<MultiSearchResult[]> {
  // Elasticsearch refuses an empty _msearch; nothing asked, nothing to answer.
  if (items.length === 0) return [];
  const lines = items.map((item) => `${JSON.stringify({ index: item.index })}\n${JSON.stringify(item.body)}\n`).join("");
  const response = await requestJson<{ responses: (SearchResponse & { error?: unknown; status?: number })[] }>("/_msearch", {
    method: "POST",
    rawBody: lines,
    contentType: "application/x-ndjson",
    signal,
  });
  return items.map((_, position) => {
    const answer = response.responses[position];
    if (!answer) return { ok: false, status: 0, error: { type: "invalid_response", reason: "the server sent fewer answers than searches" } };
    if (answer.error !== undefined) return { ok: false, status: answer.status ?? 500, error: answer.error };
    return { ok: true, response: answer };
  });
}
