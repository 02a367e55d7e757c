// Icons as JSX elements (paths drawn by us, no markup parsed), 16px on a 16-unit grid.

const PATHS = {
  search: "M7 2a5 5 0 1 0 3.1 8.9l3 3 1-1-3-3A5 5 0 0 0 7 2zm0 1.5a3.5 3.5 0 1 1 0 7 3.5 3.5 0 0 1 0-7z",
  refresh: "M13 3v3.5H9.5L11 5A4.5 4.5 0 1 0 12.4 9h1.5A6 6 0 1 1 12 3.9z",
  close: "M4 3 3 4l4 4-4 4 1 1 4-4 4 4 1-1-4-4 4-4-1-1-4 4z",
  plus: "M7.3 3h1.4v4.3H13v1.4H8.7V13H7.3V8.7H3V7.3h4.3z",
  minus: "M3 7.3h10v1.4H3z",
  chevronDown: "m4 6 4 4 4-4-1-1-3 3-3-3z",
  chevronRight: "m6 4 4 4-4 4-1-1 3-3-3-3z",
  chevronLeft: "m10 4-4 4 4 4 1-1-3-3 3-3z",
  copy: "M5 2h7a1 1 0 0 1 1 1v8h-1.5V3.5H5zM3 5h6.5a1 1 0 0 1 1 1v7.5a1 1 0 0 1-1 1H3a1 1 0 0 1-1-1V6a1 1 0 0 1 1-1zm.5 1.5v6.5H9V6.5z",
  play: "M5 3v10l8-5z",
  pause: "M4 3h3v10H4zm5 0h3v10H9z",
  download: "M7.3 2h1.4v7l2.3-2.3 1 1L8 11.7 4 7.7l1-1L7.3 9zM3 12.5h10V14H3z",
  save: "M3 2h8l3 3v8a1 1 0 0 1-1 1H3a1 1 0 0 1-1-1V3a1 1 0 0 1 1-1zm1 1.5V6h6V3.5zM8 8.5a2 2 0 1 0 0 4 2 2 0 0 0 0-4z",
  link: "M6.5 9.5 9.5 6.5l1 1-3 3zM4.6 8.2l1 1-1.4 1.4a1.4 1.4 0 0 0 2 2L7.6 11l1 1-1.4 1.4a2.8 2.8 0 0 1-4-4zm6.8-.4-1-1 1.4-1.4a1.4 1.4 0 0 0-2-2L8.4 4.8l-1-1 1.4-1.4a2.8 2.8 0 0 1 4 4z",
  clock: "M8 1.5a6.5 6.5 0 1 1 0 13 6.5 6.5 0 0 1 0-13zM8 3a5 5 0 1 0 0 10A5 5 0 0 0 8 3zm-.7 1.5h1.4v3.2l2.2 1.3-.7 1.2-2.9-1.7z",
  filterIn: "M7 2a5 5 0 1 0 3.1 8.9l3 3 1-1-3-3A5 5 0 0 0 7 2zm0 1.5a3.5 3.5 0 1 1 0 7 3.5 3.5 0 0 1 0-7zM6.4 4.5h1.2v1.9h1.9v1.2H7.6v1.9H6.4V7.6H4.5V6.4h1.9z",
  filterOut: "M7 2a5 5 0 1 0 3.1 8.9l3 3 1-1-3-3A5 5 0 0 0 7 2zm0 1.5a3.5 3.5 0 1 1 0 7 3.5 3.5 0 0 1 0-7zM4.5 6.4h5v1.2h-5z",
  columns: "M2 3h12v10H2zm1.5 1.5v7h3v-7zm4.5 0v7h4.5v-7z",
  chart: "M2 2h1.5v10.5H14V14H2zm3 6h2v3.5H5zm3-3h2v6.5H8zm3 2h2v4.5h-2z",
  trash: "M6 2h4l.5 1H13v1.5H3V3h2.5zM4 5.5h8l-.6 8.5H4.6z",
  edit: "m11 2 3 3-8 8H3v-3zm0 2.1L4.5 10.6v.9h.9L11.9 5z",
  arrowUp: "M8 3 4 7l1 1 2.3-2.3V13h1.4V5.7L11 8l1-1z",
  arrowDown: "M8 13 4 9l1-1 2.3 2.3V3h1.4v7.3L11 8l1 1z",
  sort: "M5 2 2 5.5h2.3V14h1.4V5.5H8zm6 12 3-3.5h-2.3V2h-1.4v8.5H8z",
  wrap: "M2 3h12v1.5H2zm0 4h9.5a2.5 2.5 0 0 1 0 5H9v1.5L6.5 11.5 9 9.5V11h2.5a1 1 0 0 0 0-2H2zm0 4h3v1.5H2z",
  list: "M2 3h2v2H2zm3.5.3H14v1.4H5.5zM2 7h2v2H2zm3.5.3H14v1.4H5.5zM2 11h2v2H2zm3.5.3H14v1.4H5.5z",
  eye: "M8 3.5c3 0 5.3 2 6.5 4.5C13.3 10.5 11 12.5 8 12.5S2.7 10.5 1.5 8C2.7 5.5 5 3.5 8 3.5zM8 5.5a2.5 2.5 0 1 0 0 5 2.5 2.5 0 0 0 0-5z",
  bell: "M8 1.5a1 1 0 0 1 1 1v.6a4.5 4.5 0 0 1 3.5 4.4V10l1.5 2v1H2v-1l1.5-2V7.5A4.5 4.5 0 0 1 7 3.1v-.6a1 1 0 0 1 1-1zM6.5 14h3a1.5 1.5 0 0 1-3 0z",
  dragHandle: "M5.5 3h1.5v1.5H5.5zm3.5 0h1.5v1.5H9zM5.5 7.3h1.5v1.5H5.5zm3.5 0h1.5v1.5H9zm-3.5 4.2h1.5V13H5.5zm3.5 0h1.5V13H9z",
} as const;

export type IconName = keyof typeof PATHS;

export function Icon({ name, title }: { name: IconName; title?: string }) {
  return (
    <svg class="icon" viewBox="0 0 16 16" width="16" height="16" aria-hidden={title ? undefined : "true"} role={title ? "img" : undefined}>
      {title ? <title>{title}</title> : null}
      <path d={PATHS[name]} fill="currentColor" fill-rule="evenodd" />
    </svg>
  );
}
