// Time ranges as the user writes them (Elasticsearch date math such as `now-15m` or `now/d`,
// or absolute ISO 8601 times), resolved to milliseconds once per run so every request of a
// run (histogram, hits, pages) covers the same instants.

export type Zone = "utc" | "local";

export interface TimeRange {
  from: string;
  to: string;
}

export interface Bounds {
  from: number;
  to: number;
}

export const QUICK_RANGES: { label: string; from: string; to: string }[] = [
  { label: "Last 5 minutes", from: "now-5m", to: "now" },
  { label: "Last 15 minutes", from: "now-15m", to: "now" },
  { label: "Last 30 minutes", from: "now-30m", to: "now" },
  { label: "Last 1 hour", from: "now-1h", to: "now" },
  { label: "Last 4 hours", from: "now-4h", to: "now" },
  { label: "Last 12 hours", from: "now-12h", to: "now" },
  { label: "Last 24 hours", from: "now-24h", to: "now" },
  { label: "Last 7 days", from: "now-7d", to: "now" },
  { label: "Last 30 days", from: "now-30d", to: "now" },
  { label: "Last 90 days", from: "now-90d", to: "now" },
  { label: "Last 1 year", from: "now-1y", to: "now" },
  { label: "Today", from: "now/d", to: "now/d" },
  { label: "Yesterday", from: "now-1d/d", to: "now-1d/d" },
  { label: "This week", from: "now/w", to: "now/w" },
];

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, H: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Calendar arithmetic in the chosen zone, through a Date read and written in that zone. */
interface Calendar {
  get(date: Date): [number, number, number, number, number, number, number];
  make(parts: [number, number, number, number, number, number, number]): number;
}

const CALENDARS: Record<Zone, Calendar> = {
  utc: {
    get: (d) => [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds()],
    make: (p) => Date.UTC(...p),
  },
  local: {
    get: (d) => [d.getFullYear(), d.getMonth(), d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds(), d.getMilliseconds()],
    make: (p) => new Date(...p).getTime(),
  },
};

function addUnits(time: number, amount: number, unit: string, zone: Zone): number {
  const fixed = UNIT_MS[unit];
  if (fixed !== undefined && unit !== "d" && unit !== "w") return time + amount * fixed;
  const calendar = CALENDARS[zone];
  const parts = calendar.get(new Date(time));
  if (unit === "y") parts[0] += amount;
  else if (unit === "M") parts[1] += amount;
  else if (unit === "w") parts[2] += amount * 7;
  else if (unit === "d") parts[2] += amount;
  return calendar.make(parts);
}

function roundTo(time: number, unit: string, roundUp: boolean, zone: Zone): number {
  const calendar = CALENDARS[zone];
  const parts = calendar.get(new Date(time));
  const start: typeof parts = [...parts];
  const zeroFrom = (index: number): void => {
    for (let i = index; i < start.length; i += 1) start[i] = i === 2 ? 1 : 0;
  };
  switch (unit) {
    case "y": start[1] = 0; zeroFrom(2); break;
    case "M": zeroFrom(2); break;
    case "w": {
      // ISO weeks start on Monday.
      const weekday = (new Date(calendar.make([parts[0], parts[1], parts[2], 12, 0, 0, 0])).getUTCDay() + 6) % 7;
      start[2] = parts[2] - weekday;
      start[3] = start[4] = start[5] = start[6] = 0;
      break;
    }
    case "d": start[3] = start[4] = start[5] = start[6] = 0; break;
    case "h": case "H": start[4] = start[5] = start[6] = 0; break;
    case "m": start[5] = start[6] = 0; break;
    case "s": start[6] = 0; break;
    default: return time;
  }
  const rounded = calendar.make(start);
  return roundUp ? addUnits(rounded, 1, unit, zone) - 1 : rounded;
}

/**
 * Resolves date math (`now-1h`, `now-1d/d`, `2026-11-26T10:00:00Z||+1h`) or an absolute time to
 * milliseconds. `roundUp` picks the end of a rounded unit, as Elasticsearch does for `lte`.
 */
export function resolveTime(expression: string, now: number, zone: Zone, roundUp: boolean): number | null {
  const text = expression.trim();
  let anchor: number;
  let math: string;
  if (text.startsWith("now")) {
    anchor = now;
    math = text.slice(3);
  } else {
    const [date = "", rest = ""] = text.split("||");
    const parsed = parseAbsolute(date, zone);
    if (parsed === null) return null;
    anchor = parsed;
    math = rest;
  }
  let time = anchor;
  const pattern = /([+-])(\d+)([yMwdhHms])|\/([yMwdhHms])/y;
  let offset = 0;
  while (offset < math.length) {
    pattern.lastIndex = offset;
    const step = pattern.exec(math);
    if (!step) return null;
    if (step[4]) time = roundTo(time, step[4], roundUp, zone);
    else time = addUnits(time, (step[1] === "-" ? -1 : 1) * Number(step[2]), step[3] ?? "s", zone);
    offset = pattern.lastIndex;
  }
  return time;
}

/**
 * Parses an absolute time: ISO 8601 with or without a zone, with `T` or a space. Times without
 * a zone are in `zone`.
 */
export function parseAbsolute(text: string, zone: Zone): number | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i.exec(text.trim());
  if (!match) return null;
  const [, year, month, day, hour = "0", minute = "0", second = "0", fraction = "0", offset] = match;
  const parts: [number, number, number, number, number, number, number] = [
    Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second),
    Math.floor(Number(`0.${fraction}`) * 1000),
  ];
  if (parts[1] > 11 || parts[2] < 1 || parts[2] > 31 || parts[3] > 23 || parts[4] > 59 || parts[5] > 59) return null;
  if (offset) {
    const utc = Date.UTC(...parts);
    if (offset.toUpperCase() === "Z") return utc;
    const sign = offset.startsWith("-") ? -1 : 1;
    const digits = offset.slice(1).replace(":", "");
    return utc - sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
  }
  return CALENDARS[zone].make(parts);
}

/** Splits `2026-11-26 10:00||+1h` into its absolute anchor and its date math; null for `now…`. */
function anchorOf(expression: string): { date: string; math: string } | null {
  const text = expression.trim();
  if (text.startsWith("now")) return null;
  const bar = text.indexOf("||");
  return bar === -1 ? { date: text, math: "" } : { date: text.slice(0, bar), math: text.slice(bar) };
}

/**
 * A time as the URL keeps it: an absolute time typed without a zone (read in `zone`) becomes
 * an ISO 8601 instant, so a link, or switching the zone, means the same instant everywhere;
 * `now…` and what does not parse stay as written.
 */
export function pinTime(expression: string, zone: Zone): string {
  const anchor = anchorOf(expression);
  const time = anchor ? parseAbsolute(anchor.date, zone) : null;
  if (!anchor || time === null) return expression.trim();
  return `${new Date(time).toISOString()}${anchor.math}`;
}

/** A time as the range editor shows it: absolute ones in `zone` (`2026-11-26 10:00:00`). */
export function showTime(expression: string, zone: Zone): string {
  const anchor = anchorOf(expression);
  const time = anchor ? parseAbsolute(anchor.date, zone) : null;
  if (!anchor || time === null) return expression;
  const shown = formatTime(time, zone);
  return `${shown.endsWith(".000") ? shown.slice(0, -4) : shown}${anchor.math}`;
}

export function resolveRange(range: TimeRange, zone: Zone, now = Date.now()): Bounds | null {
  const from = resolveTime(range.from, now, zone, false);
  const to = resolveTime(range.to, now, zone, true);
  if (from === null || to === null || from > to) return null;
  return { from, to };
}

export function isValidTime(expression: string, zone: Zone): boolean {
  return resolveTime(expression, Date.now(), zone, false) !== null;
}

export interface HistogramInterval {
  /** `fixed_interval` below a day, `calendar_interval` from a day up. */
  kind: "fixed_interval" | "calendar_interval";
  value: string;
  /** The nominal length of a bucket. */
  milliseconds: number;
  label: string;
}

const INTERVALS: HistogramInterval[] = [
  ["1s", 1_000, "1 second"], ["2s", 2_000, "2 seconds"], ["5s", 5_000, "5 seconds"], ["10s", 10_000, "10 seconds"],
  ["15s", 15_000, "15 seconds"], ["30s", 30_000, "30 seconds"], ["1m", 60_000, "1 minute"], ["2m", 120_000, "2 minutes"],
  ["5m", 300_000, "5 minutes"], ["10m", 600_000, "10 minutes"], ["15m", 900_000, "15 minutes"], ["30m", 1_800_000, "30 minutes"],
  ["1h", 3_600_000, "1 hour"], ["2h", 7_200_000, "2 hours"], ["3h", 10_800_000, "3 hours"], ["6h", 21_600_000, "6 hours"],
  ["12h", 43_200_000, "12 hours"],
].map(([value, milliseconds, label]): HistogramInterval => ({ kind: "fixed_interval", value: value as string, milliseconds: milliseconds as number, label: label as string }))
  .concat([
    { kind: "calendar_interval" as const, value: "day", milliseconds: 86_400_000, label: "1 day" },
    { kind: "calendar_interval" as const, value: "week", milliseconds: 604_800_000, label: "1 week" },
    { kind: "calendar_interval" as const, value: "month", milliseconds: 2_629_746_000, label: "1 month" },
    { kind: "calendar_interval" as const, value: "quarter", milliseconds: 7_889_238_000, label: "1 quarter" },
    { kind: "calendar_interval" as const, value: "year", milliseconds: 31_556_952_000, label: "1 year" },
  ]);

const YEARLY: HistogramInterval = { kind: "calendar_interval", value: "year", milliseconds: 31_556_952_000, label: "1 year" };

/** The histogram interval giving at most 120 buckets (and, the steps being ~2×, about 60 or more). */
export function histogramInterval(bounds: Bounds, maxBuckets = 120): HistogramInterval {
  const span = Math.max(1, bounds.to - bounds.from);
  return INTERVALS.find((interval) => span / interval.milliseconds <= maxBuckets) ?? YEARLY;
}

export function browserZoneName(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

/** The zone to send Elasticsearch (`time_zone`). */
export function zoneParameter(zone: Zone): string {
  return zone === "utc" ? "UTC" : browserZoneName();
}

const formatters = new Map<Zone, Intl.DateTimeFormat>();

function formatterFor(zone: Zone): Intl.DateTimeFormat {
  let formatter = formatters.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-CA", {
      timeZone: zone === "utc" ? "UTC" : undefined,
      year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit", fractionalSecondDigits: 3,
      hourCycle: "h23",
    });
    formatters.set(zone, formatter);
  }
  return formatter;
}

/** `2026-11-26 10:00:00.000` in the chosen zone. */
export function formatTime(time: number, zone: Zone, precision: "ms" | "s" = "ms"): string {
  const parts: Partial<Record<Intl.DateTimeFormatPartTypes, string>> = {};
  for (const part of formatterFor(zone).formatToParts(new Date(time))) parts[part.type] = part.value;
  const seconds = `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second}`;
  return precision === "ms" ? `${seconds}.${parts.fractionalSecond}` : seconds;
}

/** A `@timestamp` value from a document, in the chosen zone; other values as they are. */
export function formatTimestampValue(value: unknown, zone: Zone): string {
  if (typeof value === "number") return formatTime(value, zone);
  if (typeof value !== "string") return String(value);
  const time = Date.parse(value);
  return Number.isNaN(time) ? value : formatTime(time, zone);
}

export function describeRange(range: TimeRange, zone: Zone): string {
  const quick = QUICK_RANGES.find((candidate) => candidate.from === range.from && candidate.to === range.to);
  if (quick) return quick.label;
  const show = (expression: string, roundUp: boolean): string => {
    if (expression.startsWith("now")) return expression;
    const time = resolveTime(expression, Date.now(), zone, roundUp);
    return time === null ? expression : formatTime(time, zone, "s");
  };
  return `${show(range.from, false)} → ${show(range.to, true)}`;
}

/** The range twice as wide, ending at the same instant (or now) — "widen it". */
export function widenRange(range: TimeRange, zone: Zone): TimeRange {
  const bounds = resolveRange(range, zone);
  if (!bounds) return { from: "now-24h", to: "now" };
  const span = Math.max(60_000, bounds.to - bounds.from);
  const ladder = ["now-15m", "now-1h", "now-4h", "now-24h", "now-7d", "now-30d", "now-90d", "now-1y", "now-5y"];
  if (range.to === "now") {
    const wider = ladder.find((from) => {
      const start = resolveTime(from, Date.now(), zone, false);
      return start !== null && Date.now() - start > span * 1.5;
    });
    return { from: wider ?? "now-5y", to: "now" };
  }
  return { from: new Date(bounds.from - span).toISOString(), to: new Date(Math.min(Date.now(), bounds.to + span)).toISOString() };
}
