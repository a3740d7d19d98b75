/**
 * Turns anything thrown into an Error, so catch blocks can rely on `.message` and `.name`
 * (JavaScript lets code throw strings, plain objects or undefined).
 */
export function ensureError(value: unknown): Error {
  if (value instanceof Error) return value;
  let text: string;
  if (typeof value === "string") {
    text = value;
  } else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      // Circular structures and BigInts cannot be serialised; String() always works.
      text = String(value);
    }
  }
  return new Error(`Non-Error value thrown: ${text}`, { cause: value });
}
