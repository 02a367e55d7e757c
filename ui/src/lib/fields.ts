// What the explorer knows of each field, from `_field_caps`.

import type { FieldCapsResponse } from "../api/elasticsearch";

export interface FieldInfo {
  name: string;
  /** The Elasticsearch type; `conflict` when indexes disagree. */
  type: string;
  types: string[];
  searchable: boolean;
  aggregatable: boolean;
}

const SORTABLE_TYPES = new Set(["keyword", "constant_keyword", "long", "integer", "short", "byte", "double", "float", "half_float", "scaled_float", "unsigned_long", "date", "date_nanos", "ip", "boolean"]);
const NUMBER_TYPES = new Set(["long", "integer", "short", "byte", "double", "float", "half_float", "scaled_float", "unsigned_long"]);
const HIDDEN_TYPES = new Set(["object", "nested", "alias"]);

export function fieldsFromCaps(caps: FieldCapsResponse): Map<string, FieldInfo> {
  const fields = new Map<string, FieldInfo>();
  for (const [name, byType] of Object.entries(caps.fields)) {
    if (name.startsWith("_")) continue;
    const types = Object.keys(byType);
    const capabilities = Object.values(byType);
    if (types.length === 0 || types.every((type) => HIDDEN_TYPES.has(type))) continue;
    fields.set(name, {
      name,
      type: types.length === 1 ? (types[0] ?? "unknown") : "conflict",
      types,
      searchable: capabilities.some((capability) => capability.searchable),
      aggregatable: capabilities.length > 0 && capabilities.every((capability) => capability.aggregatable),
    });
  }
  return new Map([...fields.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

export function isSortable(field: FieldInfo | undefined): boolean {
  return field?.types.every((type) => SORTABLE_TYPES.has(type)) ?? false;
}

export function isNumeric(field: FieldInfo | undefined): boolean {
  return field?.types.every((type) => NUMBER_TYPES.has(type)) ?? false;
}

export function isDate(field: FieldInfo | undefined): boolean {
  return field?.types.every((type) => type === "date" || type === "date_nanos") ?? false;
}

/** A short badge for the type, as Kibana's field icons. */
export function typeBadge(type: string): string {
  if (NUMBER_TYPES.has(type)) return "#";
  switch (type) {
    case "keyword": case "constant_keyword": return "k";
    case "text": case "match_only_text": return "t";
    case "date": case "date_nanos": return "d";
    case "ip": return "ip";
    case "boolean": return "b";
    case "geo_point": return "g";
    case "conflict": return "!";
    default: return "?";
  }
}
