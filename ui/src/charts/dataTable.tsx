// A dashboard table: rows of cells (text, or numbers in a unit), sortable by any column; key
// cells filter the dashboard on click. Rows carry `data-row`.

import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { showControls, truncate } from "../lib/format";
import { formatExact, formatValue, type ValueUnit } from "../lib/units";

export interface Column {
  label: string;
  /** Numbers are shown in this unit and right-aligned; text columns have none. */
  unit?: ValueUnit;
  /** The field a text column holds: a click on a cell filters by it. */
  filterField?: string | null;
  /** Cells rendered by the caller (severity, badges); sorting still uses the raw value. */
  render?: (value: string | number | null, row: number) => ComponentChildren;
}

export type Cell = string | number | null;

function compare(a: Cell, b: Cell): number {
  if (a === null) return b === null ? 0 : 1;
  if (b === null) return -1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a).localeCompare(String(b));
}

export function DataTable({ columns, rows, onSelect, initialSort = null }: {
  columns: Column[];
  rows: Cell[][];
  onSelect?: (field: string, value: string) => void;
  initialSort?: { column: number; descending: boolean } | null;
}) {
  const [sort, setSort] = useState(initialSort);
  const order = rows.map((_, index) => index);
  if (sort) {
    order.sort((a, b) => {
      const result = compare(rows[a]?.[sort.column] ?? null, rows[b]?.[sort.column] ?? null);
      return sort.descending ? -result : result;
    });
  }
  return (
    <div class="data-table-scroll">
      <table class="data-table">
        <thead>
          <tr>
            {columns.map((column, position) => (
              <th key={column.label} class={column.unit ? "numeric" : ""} aria-sort={sort?.column === position ? (sort.descending ? "descending" : "ascending") : undefined}>
                <button type="button" class="th-sort" onClick={() => { setSort({ column: position, descending: sort?.column === position ? !sort.descending : Boolean(column.unit) }); }}>
                  {column.label}
                  {sort?.column === position ? <span class="sort-arrow">{sort.descending ? "↓" : "↑"}</span> : null}
                </button>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {order.map((rowIndex) => {
            const row = rows[rowIndex] ?? [];
            return (
              <tr key={rowIndex} data-row={rowIndex}>
                {columns.map((column, position) => {
                  const value = row[position] ?? null;
                  if (column.render) return <td key={column.label} class={column.unit ? "numeric" : ""}>{column.render(value, rowIndex)}</td>;
                  if (column.unit) {
                    return <td key={column.label} class="numeric" title={formatExact(typeof value === "number" ? value : null, column.unit)}>{formatValue(typeof value === "number" ? value : null, column.unit)}</td>;
                  }
                  const text = value === null ? "" : String(value);
                  const shown = text === "" ? "—" : showControls(truncate(text, 300).text);
                  const field = column.filterField;
                  return (
                    <td key={column.label} title={truncate(text, 2000).text}>
                      {field && onSelect && text !== "" ? (
                        <button type="button" class="cell-filter" onClick={() => { onSelect(field, text); }}>{shown}</button>
                      ) : <span class="cell-text">{shown}</span>}
                    </td>
                  );
                })}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
