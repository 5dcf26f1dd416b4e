// Sample code for the tests in duration.test.mjs: formats a duration in milliseconds.

const UNITS = [
  ["h", 3_600_000],
  ["min", 60_000],
  ["s", 1_000],
];

export function formatDuration(milliseconds) {
  if (!Number.isFinite(milliseconds) || milliseconds < 0) {
    throw new RangeError(`duration must be a non-negative number, got ${milliseconds}`);
  }

  if (milliseconds < 1_000) {
    return `${Math.round(milliseconds)} ms`;
  }

  const parts = [];
  let rest = Math.floor(milliseconds / 1_000) * 1_000;
  for (const [unit, size] of UNITS) {
    const count = Math.floor(rest / size);
    if (count > 0) {
      parts.push(`${count} ${unit}`);
      rest -= count * size;
    }
  }
  return parts.join(" ");
}
