// k6/data: a SharedArray is the array its function makes, frozen, made
// once per instance and shared by the VUs there, as k6 shares it.
const made = new Map();

export class SharedArray {
  constructor(name, make) {
    if (typeof make !== "function") throw new Error("SharedArray needs a function that returns an array");
    if (!made.has(name)) {
      const array = make();
      if (!Array.isArray(array)) throw new Error(`SharedArray ${name}: its function must return an array`);
      made.set(name, Object.freeze(array));
    }
    return made.get(name);
  }
}

export default { SharedArray };
