// localStorage that never throws: private modes and full quotas degrade to "not remembered".

const PREFIX = "logfleet.";

export function loadStored<T>(key: string, fallback: T, isValid: (value: unknown) => value is T): T {
  try {
    const text = window.localStorage.getItem(PREFIX + key);
    if (text === null) return fallback;
    const value: unknown = JSON.parse(text);
    return isValid(value) ? value : fallback;
  } catch {
    return fallback;
  }
}

export function store(key: string, value: unknown): void {
  try {
    window.localStorage.setItem(PREFIX + key, JSON.stringify(value));
  } catch {
    // Not remembering a preference is not worth interrupting the user for.
  }
}

export const isString = (value: unknown): value is string => typeof value === "string";
export const isBoolean = (value: unknown): value is boolean => typeof value === "boolean";
export const isStringArray = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((item) => typeof item === "string");
