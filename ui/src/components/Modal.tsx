// A modal dialog (the platform's <dialog>, shown with showModal): focus stays inside, Escape
// and the close button close it.

import type { ComponentChildren } from "preact";
import { useLayoutEffect, useRef } from "preact/hooks";
import { Icon } from "./Icon";

export function Modal({ title, onClose, children, wide = false, testId }: {
  title: string;
  onClose: () => void;
  children: ComponentChildren;
  wide?: boolean;
  testId?: string;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  useLayoutEffect(() => {
    const element = dialog.current;
    if (element && !element.open) element.showModal();
    return () => { element?.close(); };
  }, []);
  return (
    <dialog
      ref={dialog}
      class={`modal ${wide ? "modal-wide" : ""}`}
      aria-label={title}
      data-testid={testId}
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
    >
      <header class="modal-header">
        <h2 class="modal-title">{title}</h2>
        <button type="button" class="icon-button" aria-label="Close" title="Close" onClick={onClose}><Icon name="close" /></button>
      </header>
      <div class="modal-body">{children}</div>
    </dialog>
  );
}
