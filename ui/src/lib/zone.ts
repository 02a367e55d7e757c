// The time zone times are shown and typed in: a preference of this browser, shared by every
// page (UTC or the browser's own zone).

import { signal } from "@preact/signals";
import { loadStored, store } from "./storage";
import type { Zone } from "./time";

export const zone = signal<Zone>(loadStored("zone", "local", (value): value is Zone => value === "utc" || value === "local"));

export function setZone(value: Zone): void {
  zone.value = value;
  store("zone", value);
}
