// The table's columns: the chosen ones, or defaults from the fields the index pattern has.

import { computed } from "@preact/signals";
import { fieldsResult } from "./search";
import { SOURCE_COLUMN, TIME_FIELD, updateView, view } from "./state";

const PREFERRED = [TIME_FIELD, "level", "app_name", "message"];

export const columns = computed<string[]>(() => {
  const chosen = view.value.columns;
  if (chosen && chosen.length > 0) return chosen;
  const fields = fieldsResult.value.fields;
  const present = PREFERRED.filter((name) => fields.has(name));
  const described = present.some((name) => name !== TIME_FIELD);
  if (described) return present;
  return [...(fields.has(TIME_FIELD) ? [TIME_FIELD] : []), SOURCE_COLUMN];
});

function setColumns(next: string[]): void {
  updateView({ columns: next.length > 0 ? next : null });
}

export function addColumn(name: string): void {
  const current = columns.peek().filter((column) => column !== SOURCE_COLUMN);
  if (!current.includes(name)) setColumns([...current, name]);
}

export function removeColumn(name: string): void {
  const next = columns.peek().filter((column) => column !== name);
  const described = next.some((column) => column !== TIME_FIELD);
  setColumns(described ? next : [...next, SOURCE_COLUMN]);
}

export function toggleColumn(name: string): void {
  if (columns.peek().includes(name)) removeColumn(name);
  else addColumn(name);
}

/** Moves `name` to `position` (an index in the current columns). */
export function moveColumn(name: string, position: number): void {
  const current = columns.peek().filter((column) => column !== name);
  const clamped = Math.max(0, Math.min(current.length, position));
  setColumns([...current.slice(0, clamped), name, ...current.slice(clamped)]);
}

export const DEFAULT_WIDTHS: Record<string, number> = { [TIME_FIELD]: 200, level: 84, app_name: 150 };
