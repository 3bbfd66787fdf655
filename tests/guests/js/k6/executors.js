// k6's time-based executors, three scenarios at once (tests/e2e/k6.rs): an
// arrival rate, ramping VUs and constant VUs, each for about two seconds.
import http from "k6/http";
import { sleep } from "k6";
import exec from "k6/execution";

export const options = {
  scenarios: {
    arrivals: { executor: "constant-arrival-rate", rate: 10, timeUnit: "1s", duration: "2s", preAllocatedVUs: 2 },
    ramp: { executor: "ramping-vus", stages: [{ duration: "1s", target: 2 }, { duration: "1s", target: 0 }] },
    steady: { executor: "constant-vus", vus: 1, duration: "2s" },
  },
};

export default function () {
  http.get(`${__ENV.BASE_URL}/`, { tags: { name: exec.scenario.name } });
  sleep(0.1);
}
