// A message for the next page (e.g. "notice 3 was sent" after the composer navigates).
let pending = null;
export function flash(kind, text) { pending = { kind, text }; }
export function takeFlash() { const f = pending; pending = null; return f; }
