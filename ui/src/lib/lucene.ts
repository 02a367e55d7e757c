// Just enough Lucene query syntax for the explorer: writing filters into a query, and finding
// the term under the caret for autocompletion.

const FIELD_SPECIAL = /[\s+\-=&|><!(){}[\]^"~*?:\\/]/g;

/** A field name as Lucene reads it (`geo.city_name`, `weird\ field`). */
export function escapeField(field: string): string {
  return field.replace(FIELD_SPECIAL, (character) => `\\${character}`);
}

/** A value inside double quotes. */
export function quoteValue(value: string): string {
  return `"${value.replace(/[\\"]/g, (character) => `\\${character}`)}"`;
}

/** `field:"value"`, or `-field:"value"` to exclude it. */
export function filterClause(field: string, value: string, exclude: boolean): string {
  return `${exclude ? "-" : ""}${escapeField(field)}:${quoteValue(value)}`;
}

/** `_exists_:field`, or `-_exists_:field`. */
export function existsClause(field: string, exclude: boolean): string {
  return `${exclude ? "-" : ""}_exists_:${escapeField(field)}`;
}

/**
 * Adds a clause to a query so both must hold. The query is parenthesised when it has a
 * top-level OR, which would otherwise bind looser than the added clause.
 */
export function addClause(query: string, clause: string): string {
  const base = query.trim();
  if (base === "" || base === "*") return clause;
  if (base.split(/\s+/).includes(clause)) return base;
  const opposite = clause.startsWith("-") ? clause.slice(1) : `-${clause}`;
  const withoutOpposite = base.split(/\s+/).filter((token) => token !== opposite).join(" ");
  if (withoutOpposite === "") return clause;
  const needsParentheses = /\bOR\b|\|\|/.test(withoutOpposite);
  return needsParentheses ? `(${withoutOpposite}) ${clause}` : `${withoutOpposite} ${clause}`;
}

export interface CompletionContext {
  /** What to complete: a field name, or a value of `field`. */
  kind: "field" | "value";
  field: string;
  /** The typed prefix, unescaped and unquoted. */
  prefix: string;
  /** The span of the query the completion replaces. */
  start: number;
  end: number;
}

/** The term under the caret: a field name being typed, or the value after `field:`. */
export function completionAt(query: string, caret: number): CompletionContext | null {
  const before = query.slice(0, caret);
  const valueMatch = /(?:^|[\s(+-])((?:[^\s():"\\]|\\.)+):("(?:[^"\\]|\\.)*|(?:[^\s()"\\]|\\.)*)$/.exec(before);
  if (valueMatch?.[1] !== undefined && valueMatch[2] !== undefined) {
    const field = valueMatch[1].replace(/\\(.)/g, "$1");
    const raw = valueMatch[2];
    const prefix = raw.startsWith('"') ? raw.slice(1).replace(/\\(.)/g, "$1") : raw.replace(/\\(.)/g, "$1");
    const rest = query.slice(caret);
    const after = (raw.startsWith('"') ? /^(?:[^"\\]|\\.)*"?/ : /^(?:[^\s()"\\]|\\.)*/).exec(rest)?.[0] ?? "";
    return { kind: "value", field, prefix, start: caret - raw.length, end: caret + after.length };
  }
  const fieldMatch = /(?:^|[\s(+-])((?:[\w.@]|\\.)*)$/.exec(before);
  if (fieldMatch?.[1] === undefined) return null;
  const word = fieldMatch[1];
  if (/^(AND|OR|NOT)$/.test(word)) return null;
  const after = /^[\w.@]*/.exec(query.slice(caret))?.[0] ?? "";
  return { kind: "field", field: "", prefix: word.replace(/\\(.)/g, "$1"), start: caret - word.length, end: caret + after.length };
}
