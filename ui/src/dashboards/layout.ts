// The dashboard grid: 24 columns, rows of a fixed height. Panels are placed by their layout
// (x, y, w, h in cells); moving or resizing one pushes the panels it lands on down, as
// Grafana's grid does, and closes the gaps above.

import { GRID_COLUMNS, type Layout, type Panel } from "./model";

export const ROW_HEIGHT = 40;
export const GAP = 10;
/** The panel frame's header and padding, above and around the chart. */
export const FRAME = 52;

export function panelPixelHeight(layout: Layout): number {
  return layout.h * ROW_HEIGHT + (layout.h - 1) * GAP;
}

function overlaps(a: Layout, b: Layout): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

/**
 * Places `moved` at its layout and pushes every panel it overlaps down below it (repeatedly,
 * so a pushed panel pushes the next), then moves each panel up as far as it fits.
 */
export function settle(panels: Panel[], movedId: string): Panel[] {
  const placed = panels.map((panel) => ({ ...panel, layout: { ...panel.layout } }));
  const moved = placed.find((panel) => panel.id === movedId);
  if (moved) {
    moved.layout.x = Math.max(0, Math.min(GRID_COLUMNS - moved.layout.w, moved.layout.x));
    moved.layout.y = Math.max(0, moved.layout.y);
  }
  const order = [...placed].sort((a, b) => (a.id === movedId ? -1 : b.id === movedId ? 1 : a.layout.y - b.layout.y || a.layout.x - b.layout.x));
  const settled: Panel[] = [];
  for (const panel of order) {
    if (panel.id !== movedId) {
      // Down until it overlaps nothing settled.
      for (let guard = 0; guard < 10_000; guard += 1) {
        const blocker = settled.find((other) => overlaps(other.layout, panel.layout));
        if (!blocker) break;
        panel.layout.y = blocker.layout.y + blocker.layout.h;
      }
    }
    settled.push(panel);
  }
  // Close the gaps: each panel (top first) rises while the row above is free.
  const compacted: Panel[] = [];
  for (const panel of [...settled].sort((a, b) => a.layout.y - b.layout.y || a.layout.x - b.layout.x)) {
    while (panel.layout.y > 0 && !compacted.some((other) => overlaps(other.layout, { ...panel.layout, y: panel.layout.y - 1 }))) {
      panel.layout.y -= 1;
    }
    compacted.push(panel);
  }
  const byId = new Map(compacted.map((panel) => [panel.id, panel]));
  return panels.map((panel) => byId.get(panel.id) ?? panel);
}
