// Alert rules as the UI edits and describes them: the form's draft and the rule JSON it
// stands for, one-line summaries, the unit a rule's values are in, and the intervals an
// alert fired, read from the history stream's events.

import type { Channel, RuleBody, StoredRule } from "../api/alerts";
import { addClause, filterClause } from "../lib/lucene";
import type { ValueUnit } from "../lib/units";

export const METRICS: { metric: string; label: string; needsField: boolean }[] = [
  { metric: "count", label: "Count of events", needsField: false },
  { metric: "ratio", label: "Ratio (% of events matching)", needsField: false },
  { metric: "avg", label: "Average of a field", needsField: true },
  { metric: "max", label: "Maximum of a field", needsField: true },
  { metric: "min", label: "Minimum of a field", needsField: true },
  { metric: "sum", label: "Sum of a field", needsField: true },
  { metric: "p50", label: "Median (p50) of a field", needsField: true },
  { metric: "p95", label: "95th percentile of a field", needsField: true },
  { metric: "p99", label: "99th percentile of a field", needsField: true },
  { metric: "cardinality", label: "Distinct values of a field", needsField: true },
  { metric: "absence", label: "No events (absence)", needsField: false },
  { metric: "change", label: "Change against the window before (×)", needsField: false },
];

export const OPS = [">", ">=", "<", "<="];
export const SEVERITIES = ["critical", "warning", "info"];
export const CHANNEL_TYPES = ["webhook", "slack", "alertmanager", "email"];

export const needsField = (metric: string): boolean => METRICS.find((one) => one.metric === metric)?.needsField ?? false;

/** The form's state: text as typed, so that a half-written value is never lost. */
export interface RuleDraft {
  name: string;
  index: string;
  query: string;
  metric: string;
  field: string;
  numerator: string;
  denominator: string;
  op: string;
  threshold: string;
  window: string;
  every: string;
  for: string;
  groupBy: string;
  severity: string;
  labels: [string, string][];
  annotations: [string, string][];
  notify: { type: string; url: string; to: string }[];
  enabled: boolean;
  /** Keys the form does not edit (`delay`, `repeat`, anything newer), kept as they are. */
  rest: Record<string, unknown>;
}

export function newDraft(): RuleDraft {
  return {
    name: "", index: "logs-*", query: "", metric: "count", field: "", numerator: "", denominator: "", op: ">", threshold: "0",
    window: "5m", every: "1m", for: "0s", groupBy: "", severity: "warning", labels: [], annotations: [["summary", "{{value}} events in 5 minutes"]],
    notify: [], enabled: true, rest: {},
  };
}

/** A query as the form shows it: a Lucene string as it is, a Query DSL object as JSON. */
function queryText(query: unknown): string {
  if (query === undefined || query === null) return "";
  return typeof query === "string" ? query : JSON.stringify(query);
}

/** A query as typed: JSON when it is an object, else a Lucene string; absent when empty. */
export function readQuery(text: string): { value?: string | object; error?: string } {
  const trimmed = text.trim();
  if (trimmed === "") return {};
  if (trimmed.startsWith("{")) {
    try {
      const value: unknown = JSON.parse(trimmed);
      if (typeof value === "object" && value !== null && !Array.isArray(value)) return { value };
      return { error: "a Query DSL query is a JSON object" };
    } catch (error) {
      return { error: `not valid JSON: ${error instanceof Error ? error.message : String(error)}` };
    }
  }
  return { value: trimmed };
}

export function draftOf(rule: RuleBody): RuleDraft {
  const stored: StoredRule = { ...rule };
  delete stored.state;
  const { name, index, query, condition, window, every, for: hold, group_by: groupBy, severity, labels, annotations, notify, enabled, ...rest } = stored;
  return {
    name, index, query: queryText(query), metric: condition.metric, field: condition.field ?? "",
    numerator: queryText(condition.numerator), denominator: queryText(condition.denominator), op: condition.op ?? ">",
    threshold: String(condition.threshold ?? 0), window: window ?? "5m", every: every ?? "1m", for: hold ?? "0s",
    groupBy: (groupBy ?? []).join(", "), severity: severity ?? "warning",
    labels: Object.entries(labels ?? {}), annotations: Object.entries(annotations ?? {}),
    notify: (notify ?? []).map((channel) => ({ type: channel.type, url: channel.url ?? "", to: (channel.to ?? []).join(", ") })),
    enabled: enabled ?? true, rest,
  };
}

const list = (text: string): string[] => text.split(",").map((item) => item.trim()).filter((item) => item !== "");

/** The rule JSON a draft stands for, or the first thing the form must fix. */
export function ruleOf(draft: RuleDraft): { rule: RuleBody } | { error: string } {
  const query = readQuery(draft.query);
  if (query.error) return { error: `Query: ${query.error}` };
  const numerator = readQuery(draft.numerator);
  if (numerator.error) return { error: `Numerator: ${numerator.error}` };
  const denominator = readQuery(draft.denominator);
  if (denominator.error) return { error: `Denominator: ${denominator.error}` };
  const threshold = Number(draft.threshold);
  if (draft.metric !== "absence" && (draft.threshold.trim() === "" || !Number.isFinite(threshold))) return { error: "Threshold: a number is needed" };
  const condition: RuleBody["condition"] = { metric: draft.metric };
  if (needsField(draft.metric)) condition.field = draft.field.trim();
  if (draft.metric === "ratio") {
    if (numerator.value !== undefined) condition.numerator = numerator.value;
    if (denominator.value !== undefined) condition.denominator = denominator.value;
  }
  if (draft.metric !== "absence") {
    condition.op = draft.op;
    condition.threshold = threshold;
  }
  const pairs = (entries: [string, string][]): Record<string, string> | undefined => {
    const kept = entries.filter(([key]) => key.trim() !== "");
    return kept.length > 0 ? Object.fromEntries(kept.map(([key, value]) => [key.trim(), value])) : undefined;
  };
  const labels = pairs(draft.labels);
  const annotations = pairs(draft.annotations);
  const groupBy = list(draft.groupBy);
  const notify: Channel[] = draft.notify.map((channel) => (channel.type === "email" ? { type: "email", to: list(channel.to) } : { type: channel.type, url: channel.url.trim() }));
  const rule: RuleBody = {
    name: draft.name.trim(),
    index: draft.index.trim(),
    ...(query.value !== undefined ? { query: query.value } : {}),
    condition,
    window: draft.window.trim(),
    every: draft.every.trim(),
    for: draft.for.trim(),
    ...(groupBy.length > 0 ? { group_by: groupBy } : {}),
    severity: draft.severity,
    ...(labels ? { labels } : {}),
    ...(annotations ? { annotations } : {}),
    ...(notify.length > 0 ? { notify } : {}),
    enabled: draft.enabled,
    ...draft.rest,
  };
  return { rule };
}

/** The unit a rule's values are in: a percentage for `ratio`, milliseconds for `*_ms` fields. */
export function ruleUnit(rule: Pick<RuleBody, "condition">): ValueUnit {
  const { metric, field } = rule.condition;
  if (metric === "ratio") return "percent";
  if (metric === "count" || metric === "cardinality" || metric === "absence" || metric === "change") return "count";
  if (field && /(_ms|_ms_p\d+|duration)$/.test(field)) return "ms";
  if (field?.endsWith("_bytes")) return "bytes";
  if (field?.endsWith("_percent")) return "percent";
  return "count";
}

function formatThreshold(rule: Pick<RuleBody, "condition">): string {
  const threshold = rule.condition.threshold ?? 0;
  switch (rule.condition.metric) {
    case "ratio": return `${threshold} %`;
    case "change": return `${threshold}×`;
    default: return ruleUnit(rule) === "ms" ? `${threshold} ms` : String(threshold);
  }
}

/** `ratio > 5 % over 5m per app_name`, `p95(duration_ms) > 1000 ms over 5m`, `no events for 5m`. */
export function conditionSummary(rule: RuleBody): string {
  const { metric, field } = rule.condition;
  const window = rule.window ?? "5m";
  const per = rule.group_by && rule.group_by.length > 0 ? ` per ${rule.group_by.join(", ")}` : "";
  if (metric === "absence") return `no events for ${window}${per}`;
  const measure = needsField(metric) ? `${metric}(${field ?? "?"})` : metric;
  return `${measure} ${rule.condition.op ?? ">"} ${formatThreshold(rule)} over ${window}${per}`;
}

/** `app_name=auth, host=web-1`; empty for an ungrouped alert. */
export function groupText(group: Record<string, unknown> | null | undefined): string {
  return Object.entries(group ?? {}).map(([field, value]) => `${field}=${typeof value === "string" ? value : JSON.stringify(value)}`).join(", ");
}

/** `3 min ago`, `in 2 h`: for times near now. */
export function relativeTime(time: number, now = Date.now()): string {
  const seconds = Math.round((time - now) / 1000);
  const magnitude = Math.abs(seconds);
  const [amount, unit] = magnitude < 60 ? [magnitude, "s"] : magnitude < 3600 ? [Math.round(magnitude / 60), "min"] : magnitude < 86_400 ? [Math.round(magnitude / 3600), "h"] : [Math.round(magnitude / 86_400), "d"];
  if (magnitude < 5) return "just now";
  return seconds < 0 ? `${amount} ${unit} ago` : `in ${amount} ${unit}`;
}

/** A span as rules write it (`90s` → `1m 30s`), for "since" columns. */
export function formatDuration(milliseconds: number): string {
  const seconds = Math.max(0, Math.round(milliseconds / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${seconds % 60}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h ${minutes % 60}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

/** One change of an alert, as the history stream holds it. */
export interface HistoryEvent {
  time: number;
  rule: string;
  name: string;
  state: string;
  group: Record<string, unknown>;
  value: number | null;
  message: string;
  severity: string;
  silenced: boolean;
  repeat: boolean;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** A history event from a hit's `_source`; null for a delivery attempt or a foreign event. */
export function readHistoryEvent(source: unknown): HistoryEvent | null {
  if (!isObject(source) || !isObject(source.alert) || isObject(source.alert.delivery)) return null;
  const alert = source.alert;
  const time = Date.parse(typeof source["@timestamp"] === "string" ? source["@timestamp"] : "");
  if (!Number.isFinite(time) || typeof alert.rule !== "string" || typeof alert.state !== "string") return null;
  return {
    time,
    rule: alert.rule,
    name: typeof alert.name === "string" ? alert.name : alert.rule,
    state: alert.state,
    group: isObject(alert.group) ? alert.group : {},
    value: typeof alert.value === "number" ? alert.value : null,
    message: typeof source.message === "string" ? source.message : "",
    severity: typeof alert.severity === "string" ? alert.severity : "",
    silenced: alert.silenced === true,
    repeat: alert.repeat === true,
  };
}

/** An interval an alert fired: from its `firing` change to its `resolved` one (null: still firing). */
export interface FiredSpan {
  rule: string;
  name: string;
  group: Record<string, unknown>;
  from: number;
  to: number | null;
  peak: number | null;
}

/** Pairs each alert's `firing` with the change that ended it; events in any order. */
export function firedSpans(events: HistoryEvent[]): FiredSpan[] {
  const open = new Map<string, FiredSpan>();
  const spans: FiredSpan[] = [];
  for (const event of [...events].sort((a, b) => a.time - b.time)) {
    const key = `${event.rule}\u0000${JSON.stringify(event.group)}`;
    const current = open.get(key);
    if (event.state === "firing") {
      if (current) {
        if (event.value !== null) current.peak = Math.max(current.peak ?? -Infinity, event.value);
      } else {
        const span: FiredSpan = { rule: event.rule, name: event.name, group: event.group, from: event.time, to: null, peak: event.value };
        open.set(key, span);
        spans.push(span);
      }
    } else if (current && (event.state === "resolved" || event.state === "inactive")) {
      current.to = event.time;
      open.delete(key);
    }
  }
  return spans;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** A duration as rules write it (`5m`, `30s`, `1h`) in milliseconds; null when it does not parse. */
export function durationMs(text: string): number | null {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$/.exec(text);
  if (!match?.[1] || !match[2]) return null;
  return Number(match[1]) * (DURATION_UNITS[match[2]] ?? 0);
}

/** The labels silences match an alert on, as the server gives receivers. */
export function alertLabels(rule: RuleBody | undefined, ruleId: string, group: Record<string, unknown>): Record<string, string> {
  const labels: Record<string, string> = { ...(rule?.labels ?? {}) };
  if (rule) labels.alertname = rule.name;
  if (rule?.severity) labels.severity = rule.severity;
  labels.rule_id = ruleId;
  for (const [field, value] of Object.entries(group)) labels[field] = typeof value === "string" ? value : JSON.stringify(value);
  return labels;
}

/** Whether every matcher holds for these labels (a missing label is the empty string). */
export function matchesLabels(matchers: { name: string; value: string; isRegex: boolean; isEqual: boolean }[], labels: Record<string, string>): boolean {
  return matchers.length > 0 && matchers.every((matcher) => {
    const value = labels[matcher.name] ?? "";
    let equal: boolean;
    if (matcher.isRegex) {
      try {
        equal = new RegExp(`^(?:${matcher.value})$`).test(value);
      } catch {
        equal = false;
      }
    } else {
      equal = value === matcher.value;
    }
    return equal === matcher.isEqual;
  });
}

/** `name=value`, `name!~regex`… */
export function matcherText(matcher: { name: string; value: string; isRegex: boolean; isEqual: boolean }): string {
  const op = `${matcher.isEqual ? "=" : "!"}${matcher.isRegex ? "~" : matcher.isEqual ? "" : "="}`;
  return `${matcher.name}${op}${matcher.value}`;
}

/** A rule id made from its name: `Error rate over 5%` → `error-rate-over-5`. */
export function idFromName(name: string): string {
  return name.toLowerCase().normalize("NFKD").replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 64);
}

export const RULE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * The explorer's view of the events behind an alert: the rule's index and Lucene query with
 * the group's values as filters, over the last hour. A Query DSL query has no Lucene form, so
 * the view then shows the group's events without it.
 */
export function alertEventsPath(base: string, rule: RuleBody | undefined, group: Record<string, unknown>): string {
  let query = typeof rule?.query === "string" ? rule.query : "";
  for (const [field, value] of Object.entries(group)) {
    query = addClause(query, filterClause(field, typeof value === "string" ? value : JSON.stringify(value), false));
  }
  const parameters = new URLSearchParams({ index: rule?.index ?? "logs-*", from: "now-1h", to: "now", q: query });
  return `${base}/explorer?${parameters.toString()}`;
}
