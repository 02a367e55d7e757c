// The time range: quick ranges, relative (`now-15m`) or absolute times typed in, UTC or the
// browser's zone, and the refresh button that re-reads `now`. Shared by the explorer and the
// dashboards; the page owns the range (in its URL).

import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { browserZoneName, describeRange, formatTime, isValidTime, pinTime, QUICK_RANGES, resolveRange, showTime, type TimeRange } from "../lib/time";
import { setZone, zone } from "../lib/zone";
import { Icon } from "./Icon";
import { Popover } from "./Popover";

function RangeEditor({ range, onApply, close }: { range: TimeRange; onApply: (range: TimeRange) => void; close: () => void }) {
  const currentZone = zone.value;
  // Absolute times show in the chosen zone, and go to the URL as instants.
  const [from, setFrom] = useState(() => showTime(range.from, zone.peek()));
  const [to, setTo] = useState(() => showTime(range.to, zone.peek()));
  const fromValid = isValidTime(from, currentZone);
  const toValid = isValidTime(to, currentZone);
  const ordered = fromValid && toValid && resolveRange({ from, to }, currentZone) !== null;
  const apply = (next: TimeRange): void => {
    onApply(next);
    close();
  };
  const absolute = (): void => {
    const bounds = resolveRange({ from, to }, currentZone);
    if (!bounds) return;
    setFrom(formatTime(bounds.from, currentZone));
    setTo(formatTime(bounds.to, currentZone));
  };
  return (
    <div class="time-editor">
      <div class="time-quick">
        <div class="section-title">Quick ranges</div>
        <div class="quick-grid">
          {QUICK_RANGES.map((quick) => (
            <button
              type="button"
              key={quick.label}
              class={`quick-range ${quick.from === range.from && quick.to === range.to ? "active" : ""}`}
              onClick={() => { apply({ from: quick.from, to: quick.to }); }}
            >
              {quick.label}
            </button>
          ))}
        </div>
      </div>
      <form
        class="time-custom"
        onSubmit={(event) => {
          event.preventDefault();
          if (ordered) apply({ from: pinTime(from, currentZone), to: pinTime(to, currentZone) });
        }}
      >
        <div class="section-title">Custom range</div>
        <label class="field-label">
          From
          <input class={`text-input ${fromValid ? "" : "invalid"}`} value={from} onInput={(event) => { setFrom(event.currentTarget.value); }} spellcheck={false} aria-invalid={!fromValid} />
        </label>
        <label class="field-label">
          To
          <input class={`text-input ${toValid ? "" : "invalid"}`} value={to} onInput={(event) => { setTo(event.currentTarget.value); }} spellcheck={false} aria-invalid={!toValid} />
        </label>
        <p class="hint">
          Relative: <code>now-15m</code>, <code>now-1d/d</code>. Absolute: <code>2026-11-26 10:00:00</code> ({currentZone === "utc" ? "UTC" : browserZoneName()}) or ISO 8601 with a zone.
        </p>
        {!ordered && fromValid && toValid ? <p class="hint invalid-text">“From” must be before “To”.</p> : null}
        <div class="form-actions">
          <button type="button" class="button" onClick={absolute} disabled={!ordered}>Make absolute</button>
          <button type="submit" class="button primary" disabled={!ordered}>Apply</button>
        </div>
        <div class="section-title">Time zone</div>
        <div class="segmented" role="radiogroup" aria-label="Time zone">
          <button type="button" role="radio" aria-checked={currentZone === "local"} class={currentZone === "local" ? "active" : ""} onClick={() => { setZone("local"); }}>
            Browser ({browserZoneName()})
          </button>
          <button type="button" role="radio" aria-checked={currentZone === "utc"} class={currentZone === "utc" ? "active" : ""} onClick={() => { setZone("utc"); }}>
            UTC
          </button>
        </div>
      </form>
    </div>
  );
}

export function TimeRangePicker({ range, onApply, onRefresh, children }: {
  range: TimeRange;
  onApply: (range: TimeRange) => void;
  onRefresh: () => void;
  /** Shown between the range and the refresh button (the dashboards' auto-refresh). */
  children?: ComponentChildren;
}) {
  return (
    <div class="time-picker">
      <Popover
        title="Time range"
        align="right"
        buttonClass="button time-button"
        panelClass="time-panel"
        testId="time-picker"
        label={
          <>
            <Icon name="clock" />
            <span class="time-label">{describeRange(range, zone.value)}</span>
            {zone.value === "utc" ? <span class="zone-badge">UTC</span> : null}
            <Icon name="chevronDown" />
          </>
        }
      >
        {(close) => <RangeEditor range={range} onApply={onApply} close={close} />}
      </Popover>
      {children}
      <button type="button" class="button" title="Refresh (re-reads now)" aria-label="Refresh" onClick={onRefresh}>
        <Icon name="refresh" />
      </button>
    </div>
  );
}
