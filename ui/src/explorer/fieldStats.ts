// What the loaded events say about each field: how many have it, and its commonest values.

import { computed } from "@preact/signals";
import type { Hit } from "../api/elasticsearch";
import { displayValue, flattenSource } from "../lib/format";
import { shownRows } from "./ResultsTable";

export interface FieldStats {
  /** Loaded events that have the field. */
  count: number;
  /** Value → events having it (values as text, long ones left out). */
  values: Map<string, number>;
}

const LONGEST_COUNTED_VALUE = 500;

export function fieldStats(hits: Hit[]): Map<string, FieldStats> {
  const stats = new Map<string, FieldStats>();
  for (const hit of hits) {
    for (const [name, value] of flattenSource(hit._source)) {
      let entry = stats.get(name);
      if (!entry) {
        entry = { count: 0, values: new Map() };
        stats.set(name, entry);
      }
      entry.count += 1;
      for (const one of Array.isArray(value) ? value : [value]) {
        const text = displayValue(one);
        if (text.length <= LONGEST_COUNTED_VALUE) entry.values.set(text, (entry.values.get(text) ?? 0) + 1);
      }
    }
  }
  return stats;
}

export const loadedStats = computed(() => {
  const hits = shownRows();
  return { hits: hits.length, fields: fieldStats(hits) };
});

export function topValues(stats: FieldStats, size: number): { label: string; count: number }[] {
  return [...stats.values.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, size)
    .map(([label, count]) => ({ label, count }));
}
