/** Sizes as people read them, in the API's error sentences. */

/** Binary units with one decimal: "10 MB", "1.5 GB", "512 KB", or plain bytes below 1 KB. */
export function formatSize(bytes: number): string {
  const units = ['KB', 'MB', 'GB', 'TB'];
  if (bytes < 1024) return `${bytes} bytes`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${+value.toFixed(1)} ${units[unit]}`;
}

/** Two sizes as a person should compare them: exact bytes where rounding would make them look equal. */
export function compareSizes(size: number, limit: number): [string, string] {
  const [a, b] = [formatSize(size), formatSize(limit)];
  if (a !== b) return [a, b];
  const exact = (n: number) => `${n.toLocaleString('en-US')} bytes`;
  return [exact(size), `${exact(limit)} (${b})`];
}
