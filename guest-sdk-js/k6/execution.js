// k6/execution: what the VU knows of itself and the test.
import * as ctx from "molotov:scenario/context@0.4.4";
import { k6, vuNumber } from "./state.js";

export default {
  get vu() {
    return {
      idInInstance: vuNumber(),
      idInTest: vuNumber(),
      iterationInInstance: k6.iteration - 1,
      iterationInScenario: k6.iteration - 1,
      tags: {},
      metrics: { tags: {}, metadata: {} },
    };
  },
  get scenario() {
    return {
      name: k6.scenario.name,
      executor: k6.scenario.executor,
      iterationInInstance: k6.iteration - 1,
      iterationInTest: Number(ctx.step()),
    };
  },
  get instance() {
    return { vusActive: ctx.args().workers, vusInitialized: ctx.args().workers };
  },
  test: {
    get options() {
      return k6.options;
    },
    abort(reason = "test aborted") {
      throw new Error(`test.abort: ${reason}`);
    },
  },
};
