// k6/execution: what a VU knows of itself and the test; one module per VU.
import * as ctx from "molotov:scenario/context@0.4.7";
import { k6 } from "./state.js";

/** k6/execution for `vu` (`id`, `iteration`, `scenario`). */
export function createExecution(vu) {
  return {
    get vu() {
      return {
        idInInstance: vu.id,
        idInTest: vu.id,
        iterationInInstance: vu.iteration - 1,
        iterationInScenario: vu.iteration - 1,
        tags: vu.tags,
        metrics: { tags: vu.tags, metadata: vu.metadata },
      };
    },
    get scenario() {
      return {
        name: vu.scenario.name,
        executor: vu.scenario.executor,
        iterationInInstance: vu.iteration - 1,
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
        ctx.abortRun(String(reason));
        throw new Error(`test.abort: ${reason}`);
      },
    },
  };
}
