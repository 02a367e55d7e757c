// Top values as horizontal bars, largest first: the value's name, its bar and its exact value;
// a click on a bar filters the dashboard by it.

import { formatPercent, showControls, truncate } from "../lib/format";
import { formatExact, formatValue, type ValueUnit } from "../lib/units";

export function Bars({ items, unit, showShare, onSelect }: {
  items: { key: string; value: number; count: number }[];
  unit: ValueUnit;
  /** Show each bar's share of the total (for counts). */
  showShare: boolean;
  onSelect?: (key: string) => void;
}) {
  const max = Math.max(1e-9, ...items.map((item) => item.value));
  const total = items.reduce((sum, item) => sum + item.value, 0);
  return (
    <ol class="bars">
      {items.map((item, position) => (
        <li key={item.key} data-row={position}>
          <button
            type="button"
            class="bars-item"
            title={`${truncate(item.key, 500).text}\n${formatExact(item.value, unit)} (${item.count.toLocaleString("en-US")} events) — click to filter`}
            onClick={() => { onSelect?.(item.key); }}
            disabled={!onSelect}
          >
            <span class="bars-label">{item.key === "" ? "(empty)" : showControls(truncate(item.key, 120).text)}</span>
            <span class="bars-value">
              {formatValue(item.value, unit)}
              {showShare && total > 0 ? <span class="bars-share"> · {formatPercent(item.value / total)}</span> : null}
            </span>
            <span class="bars-track"><span class="bars-fill" style={{ width: `${Math.max(0.5, (item.value / max) * 100)}%` }} /></span>
          </button>
        </li>
      ))}
    </ol>
  );
}
