// Durations as k6 scripts write them.

/** A k6 duration (`"2s"`, `"1m30s"`, `"500ms"`) or a number of ms, in ms. */
export function milliseconds(value) {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value === "number") return Math.round(value);
  const units = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  const rest = String(value).replace(/(\d+(?:\.\d+)?)(ms|s|m|h)/g, (_, n, unit) => ((total += Number(n) * units[unit]), ""));
  if (rest !== "") throw new Error(`"${value}" is not a duration (say "2s", "500ms" or a number of ms)`);
  return Math.round(total);
}
