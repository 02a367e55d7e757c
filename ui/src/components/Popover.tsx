// A button with a panel under it; closes on Escape, on a click elsewhere, or by `close()`.

import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";

export function Popover({
  label, title, children, align = "left", buttonClass = "button", panelClass = "", testId,
}: {
  label: ComponentChildren;
  title: string;
  children: (close: () => void) => ComponentChildren;
  align?: "left" | "right";
  buttonClass?: string;
  panelClass?: string;
  testId?: string;
}) {
  const [open, setOpen] = useState(false);
  const root = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return undefined;
    const onPointer = (event: PointerEvent): void => {
      if (root.current && event.target instanceof Node && !root.current.contains(event.target)) setOpen(false);
    };
    const onKey = (event: KeyboardEvent): void => {
      if (event.key === "Escape") {
        event.stopPropagation();
        setOpen(false);
      }
    };
    document.addEventListener("pointerdown", onPointer);
    document.addEventListener("keydown", onKey, true);
    return () => {
      document.removeEventListener("pointerdown", onPointer);
      document.removeEventListener("keydown", onKey, true);
    };
  }, [open]);
  return (
    <div class="popover" ref={root}>
      <button type="button" class={buttonClass} aria-expanded={open} aria-haspopup="true" title={title} onClick={() => { setOpen(!open); }} data-testid={testId}>
        {label}
      </button>
      {open ? (
        <div class={`popover-panel popover-${align} ${panelClass}`} role="dialog" aria-label={title}>
          {children(() => { setOpen(false); })}
        </div>
      ) : null}
    </div>
  );
}
