// k6/timers (and the timer globals a k6 script sees): setTimeout and
// setInterval whose callbacks the VU's iteration waits for, as k6's event
// loop does; cleared ones end at once. One module per VU.
import { cancellableSleep } from "../driver.js";

/** The timers of `vu`, whose `track` keeps its iteration open. */
export function createTimers(vu) {
  let next = 1;
  const cancels = new Map(); // id -> cancel

  function setTimeout(callback, ms = 0, ...args) {
    const id = next++;
    const timer = cancellableSleep(Number(ms) || 0);
    cancels.set(id, timer.cancel);
    vu.track(
      timer.fired.then((fired) => {
        cancels.delete(id);
        if (fired) callback(...args);
      }),
    );
    return id;
  }

  function setInterval(callback, ms = 0, ...args) {
    const id = next++;
    let timer;
    let cleared = false;
    cancels.set(id, () => {
      cleared = true;
      timer?.cancel();
    });
    vu.track(
      (async () => {
        while (!cleared) {
          timer = cancellableSleep(Number(ms) || 0);
          if (!(await timer.fired) || cleared) break;
          callback(...args);
        }
        cancels.delete(id);
      })(),
    );
    return id;
  }

  function clearTimeout(id) {
    cancels.get(id)?.();
  }

  return { setTimeout, clearTimeout, setInterval, clearInterval: clearTimeout };
}
