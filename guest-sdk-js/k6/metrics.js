// k6/metrics: custom metrics, as molotov's. A Trend's values are
// milliseconds (molotov keeps microseconds); a Rate is two counters,
// `NAME: true` and `NAME: false`. Tags are accepted and not kept yet.
import { gauge, incr, timing } from "../molotov.js";

class Metric {
  constructor(name) {
    if (typeof name !== "string" || !name) throw new Error("a metric needs a name");
    this.name = name;
  }
}

export class Counter extends Metric {
  add(value) {
    incr(this.name, Math.round(Number(value)));
  }
}

export class Gauge extends Metric {
  add(value) {
    gauge(this.name, Number(value));
  }
}

export class Trend extends Metric {
  add(value) {
    timing(this.name, Number(value) * 1000);
  }
}

export class Rate extends Metric {
  add(value) {
    incr(`${this.name}: ${value ? "true" : "false"}`);
  }
}

export default { Counter, Gauge, Trend, Rate };
