// A ranked list of values with proportional bars (Kibana's field "visualize" for keywords).
// Values are text; the bar widths are set through the CSSOM, which the CSP allows.

import { formatCount, formatPercent, showControls, truncate } from "../lib/format";

export interface BarListItem {
  label: string;
  count: number;
}

export function BarList({ items, total, onSelect }: { items: BarListItem[]; total: number; onSelect?: (label: string, exclude: boolean) => void }) {
  const max = Math.max(1, ...items.map((item) => item.count));
  return (
    <ol class="bar-list">
      {items.map((item) => (
        <li key={item.label} class="bar-item">
          <div class="bar-label">
            <span class="bar-text" title={truncate(item.label, 2000).text}>{item.label === "" ? "(empty)" : showControls(truncate(item.label, 200).text)}</span>
            <span class="bar-count">{formatCount(item.count)} · {formatPercent(total > 0 ? item.count / total : 0)}</span>
            {onSelect ? (
              <span class="bar-actions">
                <button type="button" class="link-button" onClick={() => { onSelect(item.label, false); }}>filter for</button>
                <button type="button" class="link-button" onClick={() => { onSelect(item.label, true); }}>filter out</button>
              </span>
            ) : null}
          </div>
          <div class="bar-track"><div class="bar-fill" style={{ width: `${(item.count / max) * 100}%` }} /></div>
        </li>
      ))}
    </ol>
  );
}
