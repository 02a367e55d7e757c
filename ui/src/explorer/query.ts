// The Query DSL the explorer sends: one place builds the filter every request shares, so the
// histogram, the table, the sidebar's aggregations and the export all count the same events.

import type { Bounds } from "../lib/time";
import { TIME_FIELD, type SortSpec } from "./state";

export const HIGHLIGHT_PRE = "@logfleet-highlight@";
export const HIGHLIGHT_POST = "@/logfleet-highlight@";

export function timeFilter(bounds: Bounds): object {
  return {
    range: {
      [TIME_FIELD]: {
        gte: new Date(bounds.from).toISOString(),
        lte: new Date(bounds.to).toISOString(),
        format: "strict_date_optional_time",
      },
    },
  };
}

export function queryStringClause(query: string): object {
  return { query_string: { query, default_operator: "AND", analyze_wildcard: true } };
}

/** The user's Lucene query within the time range (when the index has a time field). */
export function buildQuery(query: string, bounds: Bounds | null, extraFilters: object[] = []): object {
  const trimmed = query.trim();
  return {
    bool: {
      must: trimmed ? [queryStringClause(trimmed)] : [],
      filter: [...(bounds ? [timeFilter(bounds)] : []), ...extraFilters],
    },
  };
}

/** The sort keys for a view: the chosen one, then time, so ties read in time order. */
export function buildSort(sort: SortSpec, hasTime: boolean): object[] {
  const keys: object[] = [{ [sort.field]: { order: sort.order, unmapped_type: sort.field === TIME_FIELD ? "date" : "keyword" } }];
  if (sort.field !== TIME_FIELD && hasTime) keys.push({ [TIME_FIELD]: { order: "desc", unmapped_type: "date" } });
  return keys;
}

export const HIGHLIGHT = {
  pre_tags: [HIGHLIGHT_PRE],
  post_tags: [HIGHLIGHT_POST],
  fields: { "*": {} },
  number_of_fragments: 0,
  require_field_match: false,
};
