// Event ids: UUID version 7 (time-ordered, so the server's index stays local);
// anonymous ids: version 4, as the server requires (`anon-<uuid v4>`).

function hex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < 16; i++) {
    s += (bytes[i]! + 256).toString(16).slice(1);
    if (i === 3 || i === 5 || i === 7 || i === 9) s += '-';
  }
  return s;
}

function random(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(16));
}

export function uuidv4(): string {
  const b = random();
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  return hex(b);
}

export function uuidv7(now: number = Date.now()): string {
  const b = random();
  // 48-bit big-endian milliseconds.
  let ms = now;
  for (let i = 5; i >= 0; i--) {
    b[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  return hex(b);
}
