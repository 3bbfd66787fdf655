// k6/data: a SharedArray is the array its function makes, frozen. Each
// instance makes its own, once (a VU's instance is its own in k6 scripts).
export class SharedArray {
  constructor(name, make) {
    if (typeof make !== "function") throw new Error("SharedArray needs a function that returns an array");
    const array = make();
    if (!Array.isArray(array)) throw new Error(`SharedArray ${name}: its function must return an array`);
    return Object.freeze(array);
  }
}

export default { SharedArray };
