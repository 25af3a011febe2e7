const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** 6291456 → "6.0 MiB". */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

/** Bytes per second since `startedAt`, as "12.3 MiB/s". */
export function formatRate(bytes: number, startedAt: number, now: number = Date.now()): string {
  const seconds = Math.max((now - startedAt) / 1000, 0.001);
  return `${formatBytes(Math.round(bytes / seconds))}/s`;
}
