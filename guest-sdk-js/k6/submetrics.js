// k6's sub-metrics: a threshold on a metric filtered by tags
// (`http_req_duration{status:200}`, `my_trend{type:api}`) judges only the
// samples whose tags match. The layer records each matching sample once
// more, under the threshold's own key, as a custom metric that the host
// judges (host/cli/src/k6_options.rs translates the threshold alike). A
// filter by `name` alone on http_req_duration or http_reqs is the host's
// own (requests are kept by name): not recorded here.
import { incr } from "../molotov.js";
import { k6 } from "./state.js";

// The request metrics the host keeps by name (not http_req_failed: the
// host does not keep statuses by name).
const NAMED_BY_HOST = new Set(["http_req_duration", "http_reqs"]);

let byMetric; // metric -> [{ key, tags: [[tag, value]] }], from the options
const OPTIONS_UNSET = k6.options; // until the init context has run

/** `{a:1, b: "x"}` (a threshold key's braces) as [[tag, value]]. */
function filterOf(text) {
  return text.split(",").map((pair) => {
    const at = pair.indexOf(":");
    const value = pair.slice(at + 1).trim().replace(/^(["'])(.*)\1$/, "$2");
    return [pair.slice(0, at).trim(), value];
  });
}

function parse(thresholds) {
  const parsed = new Map();
  for (const key of Object.keys(thresholds)) {
    const open = key.indexOf("{");
    if (open < 0 || !key.endsWith("}")) continue;
    const metric = key.slice(0, open).trim();
    const tags = filterOf(key.slice(open + 1, -1));
    const hostsOwn = NAMED_BY_HOST.has(metric) && tags.length === 1 && tags[0][0] === "name";
    if (hostsOwn) continue;
    if (!parsed.has(metric)) parsed.set(metric, []);
    parsed.get(metric).push({ key, tags });
  }
  // A counter or rate that no sample matches is 0, as k6 judges it, not
  // missing (a custom timing has no empty form: it stays missing).
  for (const { key } of parsed.get("http_reqs") ?? []) incr(key, 0);
  for (const metric of ["http_req_failed", "checks"]) {
    for (const { key } of parsed.get(metric) ?? []) incr(`${key}: false`, 0);
  }
  return parsed;
}

/** The keys of the sub-metrics of `metric` whose filter `tags` match
 * (every filtered tag has that value), with the script's own `tags` option
 * and the scenario's name beside them, as k6 tags every sample. */
export function matching(metric, tags) {
  const subs = submetricsOf(metric);
  if (subs === undefined) return [];
  const all = { scenario: k6.scenario, ...(k6.options.tags ?? {}), ...tags };
  return subs.filter((sub) => sub.tags.every(([tag, value]) => tag in all && String(all[tag]) === value)).map((sub) => sub.key);
}

const anyByList = new WeakMap(); // list of metrics -> whether one has sub-metrics

/** Whether any of `metrics` (the same array at each call) has sub-metrics
 * this layer records: one lookup per call once the options are known. */
export function anyOf(metrics) {
  if (k6.options === OPTIONS_UNSET) return false;
  let any = anyByList.get(metrics);
  if (any === undefined) anyByList.set(metrics, (any = metrics.some((metric) => submetricsOf(metric) !== undefined)));
  return any;
}

/** The sub-metrics of `metric` this layer records, if any. */
export function submetricsOf(metric) {
  if (k6.options === OPTIONS_UNSET) return undefined;
  byMetric ??= parse(k6.options.thresholds ?? {});
  return byMetric.get(metric);
}
