// Logfleet's alerting endpoints under /_logfleet/alerts/: rules (with their alerts' states and
// a preview over past events), the alerts that are pending or firing, and silences. The
// history of changes is an ordinary data stream, read with `_search`.

import { requestJson } from "./client";
import type { SearchResponse } from "./elasticsearch";

/** A rule's JSON, as `crates/alerts/src/rule.rs` reads it (unknown keys are kept as they are). */
export interface RuleBody {
  name: string;
  index: string;
  query?: string | object;
  condition: {
    metric: string;
    field?: string;
    numerator?: string | object;
    denominator?: string | object;
    op?: string;
    threshold?: number;
  };
  window?: string;
  every?: string;
  for?: string;
  delay?: string;
  repeat?: string;
  group_by?: string[];
  severity?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  notify?: Channel[];
  enabled?: boolean;
  [key: string]: unknown;
}

export interface Channel {
  type: string;
  url?: string;
  to?: string[];
  [key: string]: unknown;
}

export interface RuleState {
  firing: number;
  pending: number;
  last_evaluation?: { at: string; took_ms?: number; error?: string | null } | null;
}

export type StoredRule = RuleBody & { state?: RuleState };

export interface ActiveAlert {
  rule: string;
  name: string | null;
  severity: string | null;
  state: "pending" | "firing";
  group: Record<string, unknown>;
  value: number | null;
  active_since: string | null;
  fired_at: string | null;
  evaluated_at: string;
  flapping?: boolean;
}

export interface Matcher {
  name: string;
  value: string;
  isRegex: boolean;
  isEqual: boolean;
}

export interface Silence {
  id: string;
  matchers: Matcher[];
  starts_at_ms: number;
  ends_at_ms: number;
  comment: string;
  created_by: string;
  active: boolean;
}

export interface NewSilence {
  matchers: Matcher[];
  starts_at_ms?: number;
  ends_at_ms: number;
  comment: string;
  created_by?: string;
}

export interface PreviewSeries {
  group: Record<string, unknown>;
  points: [number, number | null][];
}

export interface FiredInterval {
  group: Record<string, unknown>;
  from: string;
  to: string | null;
  peak: number | null;
}

export interface Preview {
  from: string;
  to: string;
  step: string;
  evaluations: number;
  metric: string;
  op: string;
  threshold: number;
  series: PreviewSeries[];
  fired: FiredInterval[];
}

/** The data stream every change of an alert is written to. */
export const HISTORY_STREAM = "logs-alerts-default";

const rulePath = (id: string): string => `/_logfleet/alerts/rules/${encodeURIComponent(id)}`;

export function listRules(signal?: AbortSignal): Promise<Record<string, StoredRule>> {
  return requestJson<Record<string, StoredRule>>("/_logfleet/alerts/rules", { signal });
}

export async function getRule(id: string, signal?: AbortSignal): Promise<RuleBody> {
  const answer = await requestJson<Record<string, RuleBody>>(rulePath(id), { signal });
  const rule = answer[id] ?? Object.values(answer)[0];
  if (!rule) throw new Error(`no rule in the answer for ${id}`);
  return rule;
}

export async function putRule(id: string, rule: RuleBody): Promise<void> {
  await requestJson<unknown>(rulePath(id), { method: "PUT", body: rule });
}

export async function deleteRule(id: string): Promise<void> {
  await requestJson<unknown>(rulePath(id), { method: "DELETE" });
}

/** What the rule would have done over the last `range` (`24h`), evaluated step by step. */
export function previewRule(rule: RuleBody, range: string, signal?: AbortSignal): Promise<Preview> {
  return requestJson<Preview>(`/_logfleet/alerts/rules/_preview?range=${encodeURIComponent(range)}`, { method: "POST", body: rule, signal });
}

export async function activeAlerts(signal?: AbortSignal): Promise<ActiveAlert[]> {
  const answer = await requestJson<{ alerts: ActiveAlert[] }>("/_logfleet/alerts", { signal });
  return answer.alerts;
}

export async function listSilences(signal?: AbortSignal): Promise<Silence[]> {
  const answer = await requestJson<{ silences: Silence[] }>("/_logfleet/alerts/silences", { signal });
  return answer.silences;
}

export async function createSilence(silence: NewSilence): Promise<string> {
  const answer = await requestJson<{ id: string }>("/_logfleet/alerts/silences", { method: "POST", body: silence });
  return answer.id;
}

export async function deleteSilence(id: string): Promise<void> {
  await requestJson<unknown>(`/_logfleet/alerts/silences/${encodeURIComponent(id)}`, { method: "DELETE" });
}

/**
 * The newest changes of alerts (delivery attempts left out), newest first; none before the
 * first change has created the stream.
 */
export function alertHistory(size: number, signal?: AbortSignal): Promise<SearchResponse> {
  return requestJson<SearchResponse>(`/${HISTORY_STREAM}/_search?ignore_unavailable=true`, {
    body: {
      size,
      query: { bool: { must_not: [{ exists: { field: "alert.delivery.channel" } }] } },
      sort: [{ "@timestamp": { order: "desc" } }],
    },
    signal,
  });
}
