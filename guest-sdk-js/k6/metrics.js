// k6/metrics: custom metrics, as molotov's. A Trend's values are
// milliseconds (molotov keeps microseconds); a Rate is two counters,
// `NAME: true` and `NAME: false`. A value's tags count where a threshold
// filters the metric by them (k6's sub-metrics: ./submetrics.js).
import { gauge, incr, timing } from "../molotov.js";
import { k6 } from "./state.js";
import { matching, submetricsOf } from "./submetrics.js";

class Metric {
  #vu; // the VU whose init context made it, in whose group values are added
  constructor(name) {
    if (typeof name !== "string" || !name) throw new Error("a metric needs a name");
    this.name = name;
    this.#vu = k6.initialising;
    for (const { key } of submetricsOf(name) ?? []) this.empty(key);
  }
  /** Records sub-metric `key` with no sample, where that has a value. */
  empty() {}
  /** `record` for the metric and each of its sub-metrics that `tags` match. */
  each(tags, record) {
    record(this.name);
    if (submetricsOf(this.name) === undefined) return;
    for (const key of matching(this.name, { ...this.#vu?.tags, group: this.#vu?.group ?? "", ...tags })) record(key);
  }
}

export class Counter extends Metric {
  empty(key) {
    incr(key, 0);
  }
  add(value, tags) {
    this.each(tags, (name) => incr(name, Math.round(Number(value))));
  }
}

export class Gauge extends Metric {
  add(value, tags) {
    this.each(tags, (name) => gauge(name, Number(value)));
  }
}

export class Trend extends Metric {
  add(value, tags) {
    this.each(tags, (name) => timing(name, Number(value) * 1000));
  }
}

export class Rate extends Metric {
  empty(key) {
    incr(`${key}: false`, 0);
  }
  add(value, tags) {
    this.each(tags, (name) => incr(`${name}: ${value ? "true" : "false"}`));
  }
}

export default { Counter, Gauge, Trend, Rate };
