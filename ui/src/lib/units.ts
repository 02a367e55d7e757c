// Metric values in their unit, for the dashboards' charts, tables and tooltips: short for
// axes and big numbers, exact (every digit the server gave) for tooltips and titles.

export type ValueUnit = "count" | "ms" | "bytes" | "percent" | "share" | "per_minute";

function trimmed(value: number, digits: number): string {
  return value.toLocaleString("en-US", { maximumFractionDigits: digits });
}

/** A metric value, short, in its unit (`1.2 s`, `83.4 MB`, `12.5%`, `1,204/min`). */
export function formatValue(value: number | null, unit: ValueUnit): string {
  if (value === null || !Number.isFinite(value)) return "—";
  switch (unit) {
    case "ms":
      if (Math.abs(value) >= 60_000) return `${trimmed(value / 60_000, 1)} min`;
      if (Math.abs(value) >= 1000) return `${trimmed(value / 1000, 2)} s`;
      return `${trimmed(value, Math.abs(value) < 10 ? 2 : 1)} ms`;
    case "bytes": {
      const units = ["B", "KB", "MB", "GB", "TB"];
      let scaled = value;
      let index = 0;
      while (Math.abs(scaled) >= 1024 && index < units.length - 1) {
        scaled /= 1024;
        index += 1;
      }
      return `${trimmed(scaled, index === 0 ? 0 : 1)} ${units[index] ?? "B"}`;
    }
    case "percent": return `${trimmed(value, 1)}%`;
    case "share": return `${trimmed(value * 100, value < 0.1 ? 2 : 1)}%`;
    case "per_minute": return `${trimmed(value, value < 10 ? 2 : 0)}/min`;
    case "count": return Math.abs(value) >= 10_000 ? compact(value) : trimmed(value, 2);
  }
}

function compact(value: number): string {
  return new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 1 }).format(value);
}

/** A metric value with every digit the server gave, for tooltips and tables' titles. */
export function formatExact(value: number | null, unit: ValueUnit): string {
  if (value === null || !Number.isFinite(value)) return "—";
  const digits = value.toLocaleString("en-US", { maximumFractionDigits: 6 });
  switch (unit) {
    case "ms": return `${digits} ms`;
    case "bytes": return `${value.toLocaleString("en-US", { maximumFractionDigits: 0 })} B`;
    case "percent": return `${digits}%`;
    case "share": return `${(value * 100).toLocaleString("en-US", { maximumFractionDigits: 4 })}%`;
    case "per_minute": return `${digits}/min`;
    case "count": return digits;
  }
}
