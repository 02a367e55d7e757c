// Values from events as display text. Everything here returns plain strings: rendering them
// is Preact's job, which puts them in text nodes.

import type { Source } from "../api/elasticsearch";

/** A document's leaves by dotted path; arrays of objects give arrays of their leaves. */
export function flattenSource(source: Source | undefined): Map<string, unknown> {
  const fields = new Map<string, unknown>();
  const visit = (prefix: string, value: unknown): void => {
    if (isPlainObject(value)) {
      const entries = Object.entries(value);
      if (entries.length === 0 && prefix) fields.set(prefix, value);
      for (const [key, child] of entries) visit(prefix ? `${prefix}.${key}` : key, child);
      return;
    }
    if (Array.isArray(value) && value.some(isPlainObject)) {
      const leaves = new Map<string, unknown[]>();
      for (const item of value as unknown[]) {
        for (const [path, leaf] of flattenSource(isPlainObject(item) ? item : { "": item })) {
          const key = path ? `${prefix}.${path}` : prefix;
          const list = leaves.get(key) ?? [];
          list.push(...(Array.isArray(leaf) ? (leaf as unknown[]) : [leaf]));
          leaves.set(key, list);
        }
      }
      for (const [path, list] of leaves) fields.set(path, list);
      return;
    }
    fields.set(prefix, value);
  };
  if (source) visit("", source);
  return fields;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// C0 controls (but tab and newline) and DEL shown as their Unicode pictures, so a terminal
// escape or a NUL in a log line is visible rather than silently swallowed.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/g;

export function showControls(text: string): string {
  return text.replace(CONTROL, (character) => {
    const code = character.charCodeAt(0);
    return String.fromCharCode(code === 0x7f ? 0x2421 : 0x2400 + code);
  });
}

/** A value as one line of text (arrays joined, objects as JSON). */
export function displayValue(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  if (Array.isArray(value)) return value.map((item) => (typeof item === "object" && item !== null ? JSON.stringify(item) : displayValue(item))).join(", ");
  return JSON.stringify(value);
}

/** The value a filter for it should match (a keyword's exact text). */
export function filterValue(value: unknown): string | null {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return null;
}

/** Long values cut for a table cell: no cell lays out a megabyte. */
export function truncate(text: string, max: number): { text: string; truncated: boolean } {
  if (text.length <= max) return { text, truncated: false };
  // Do not split a surrogate pair.
  let end = max;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return { text: `${text.slice(0, end)}…`, truncated: true };
}

export function formatCount(count: number): string {
  return count.toLocaleString("en-US");
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export function formatPercent(share: number): string {
  if (share === 0) return "0%";
  if (share < 0.001) return "<0.1%";
  return `${(share * 100).toFixed(share < 0.1 ? 1 : 0)}%`;
}

