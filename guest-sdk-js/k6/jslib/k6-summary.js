// jslib's k6-summary (https://jslib.k6.io/k6-summary/…/index.js), which
// handleSummary functions import: the end-of-test summary as text, and the
// thresholds as JUnit XML, from the data handleSummary gets. Written for
// molotov; it draws no colours (the host escapes control characters).

const TIME_UNITS = [
  [60_000, "m"],
  [1_000, "s"],
  [1, "ms"],
  [0.001, "µs"],
];

function duration(ms) {
  for (const [size, unit] of TIME_UNITS) {
    if (Math.abs(ms) >= size || unit === "µs") return `${+(ms / size).toFixed(2)}${unit}`;
  }
  return `${ms}ms`;
}

function number(value) {
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}

function metricValues(metric, trendStats) {
  const v = metric.values;
  switch (metric.type) {
    case "counter":
      return `${number(v.count)} ${number(v.rate)}/s`;
    case "rate":
      return `${(100 * v.rate).toFixed(2)}% ✓ ${v.passes} ✗ ${v.fails}`;
    case "gauge":
      return `${number(v.value)} min=${number(v.min)} max=${number(v.max)}`;
    default: {
      const show = metric.contains === "time" ? duration : number;
      return trendStats
        .filter((stat) => stat in v)
        .map((stat) => `${stat}=${show(v[stat])}`)
        .join(" ");
    }
  }
}

function checkLines(group, indent) {
  const lines = [];
  for (const check of group.checks ?? []) {
    lines.push(`${indent}${check.fails === 0 ? "✓" : "✗"} ${check.name}`);
    if (check.fails > 0) {
      const share = Math.round((100 * check.passes) / (check.passes + check.fails));
      lines.push(`${indent}  ↳  ${share}% — ✓ ${check.passes} / ✗ ${check.fails}`);
    }
  }
  for (const sub of group.groups ?? []) {
    lines.push(`${indent}█ ${sub.name}`, ...checkLines(sub, `${indent}  `));
  }
  return lines;
}

/** The summary as k6 prints it: checks, then each metric with its values
 * (✓ or ✗ before a metric whose thresholds held or not). */
export function textSummary(data, options = {}) {
  const indent = options.indent ?? " ";
  const trendStats = data.options?.summaryTrendStats ?? ["avg", "min", "med", "max", "p(90)", "p(95)"];
  const lines = checkLines(data.root_group ?? {}, indent);
  if (lines.length) lines.push("");
  const names = Object.keys(data.metrics ?? {}).sort();
  const width = Math.max(0, ...names.map((name) => name.length)) + 3;
  for (const name of names) {
    const metric = data.metrics[name];
    const verdicts = Object.values(metric.thresholds ?? {});
    const mark = verdicts.length === 0 ? " " : verdicts.every((t) => t.ok) ? "✓" : "✗";
    lines.push(`${indent}${mark} ${name.padEnd(width, ".")}: ${metricValues(metric, trendStats)}`);
  }
  return `\n${lines.join("\n")}\n\n`;
}

const xml = (text) => String(text).replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The thresholds as JUnit XML: one test case per threshold. */
export function jUnit(data, options = {}) {
  const cases = [];
  let failures = 0;
  for (const [name, metric] of Object.entries(data.metrics ?? {})) {
    for (const [threshold, { ok }] of Object.entries(metric.thresholds ?? {})) {
      const title = `${name} - ${threshold}`;
      if (ok) {
        cases.push(`<testcase name="${xml(title)}" />`);
      } else {
        failures++;
        cases.push(`<testcase name="${xml(title)}"><failure message="failed" /></testcase>`);
      }
    }
  }
  const name = xml(options.name ?? "k6 thresholds");
  return (
    `<?xml version="1.0"?>\n<testsuites tests="${cases.length}" failures="${failures}">\n` +
    `<testsuite name="${name}" tests="${cases.length}" failures="${failures}">${cases.join("\n")}\n</testsuite>\n</testsuites>\n`
  );
}

export default { textSummary, jUnit };
