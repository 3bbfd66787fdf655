// Build time (Node), for a k6 script bundled as CommonJS: makes the
// functions that wait for k6's blocking calls (`http.*`, `sleep`, `group`,
// a response's `submitForm` and `clickLink`)
// `async`, and those calls `await`ed, so that many VUs can share one
// instance, each waiting without holding up the others. What cannot be
// rewritten safely (a waiting function passed to `forEach`, a method, a
// getter) leaves the script as it is, and it runs a VU per instance.
import { parseAst } from "rolldown/parseAst";

const BLOCKING = {
  "k6/http": new Set(["get", "post", "put", "patch", "del", "head", "options", "request", "batch"]),
  k6: new Set(["sleep", "group"]),
  "k6/ws": new Set(["connect"]),
};
// A response's own waiting methods, whatever holds the response.
const RESPONSE_BLOCKING = new Set(["submitForm", "clickLink"]);
const FUNCTIONS = new Set(["FunctionDeclaration", "FunctionExpression", "ArrowFunctionExpression"]);

/** Every node under `node`, with its parent and the function it is in. */
function walk(node, visit, parent = null, inFunction = null) {
  if (!node || typeof node.type !== "string") return;
  visit(node, parent, inFunction);
  const within = FUNCTIONS.has(node.type) ? node : inFunction;
  for (const key of Object.keys(node)) {
    const child = node[key];
    if (Array.isArray(child)) for (const item of child) walk(item, visit, node, within);
    else if (child && typeof child.type === "string") walk(child, visit, node, within);
  }
}

/** `{ code }` rewritten, or `{ why }` it was left as it is. */
export function asyncify(code) {
  const program = parseAst(code);
  const modules = new Map(); // variable -> k6 module
  const named = new Map(); // function name -> node
  const parents = new Map();
  const calls = []; // [call, enclosing function]
  const references = []; // [identifier, parent]
  walk(program, (node, parent, inFunction) => {
    parents.set(node, parent);
    if (node.type === "VariableDeclarator" && node.init?.type === "CallExpression" && node.init.callee.name === "require") {
      const id = node.init.arguments[0]?.value;
      if (id in BLOCKING) modules.set(node.id.name, id);
    }
    if (node.type === "FunctionDeclaration" && node.id) named.set(node.id.name, node);
    if (node.type === "VariableDeclarator" && FUNCTIONS.has(node.init?.type)) named.set(node.id.name, node.init);
    if (node.type === "CallExpression") calls.push([node, inFunction]);
    if (node.type === "Identifier") references.push([node, parent]);
  });

  const calleeOf = (call) => (call.callee.type === "SequenceExpression" ? call.callee.expressions.at(-1) : call.callee);
  const blockingApi = (call) => {
    const callee = calleeOf(call);
    if (callee.type !== "MemberExpression" || callee.computed) return false;
    if (RESPONSE_BLOCKING.has(callee.property.name)) return true;
    let object = callee.object;
    if (object.type === "MemberExpression" && object.property.name === "default") object = object.object;
    return object.type === "Identifier" && BLOCKING[modules.get(object.name)]?.has(callee.property.name);
  };
  const userCallee = (call) => {
    const callee = calleeOf(call);
    return callee.type === "Identifier" ? named.get(callee.name) : undefined;
  };

  const waiting = new Set(); // calls to await
  const blocking = new Set(); // functions to make async
  for (let changed = true; changed; ) {
    changed = false;
    for (const [call, inFunction] of calls) {
      if (waiting.has(call)) continue;
      if (!blockingApi(call) && !blocking.has(userCallee(call))) continue;
      if (!inFunction) return { why: "a request or sleep in the init context" };
      waiting.add(call);
      if (!blocking.has(inFunction)) {
        blocking.add(inFunction);
        changed = true;
      }
    }
  }

  // Each waiting function must be called where the rewrite awaits it: by
  // name, as group()'s callback, or as one of the script's exports.
  for (const fn of blocking) {
    const parent = parents.get(fn);
    if (fn.generator || (parent?.type === "Property" && parent.value === fn) || parent?.type === "MethodDefinition") {
      return { why: "a method or generator waits for a request" };
    }
    const passedToGroup =
      parent?.type === "CallExpression" && parent.arguments[1] === fn && blockingApi(parent);
    const declared = fn.type === "FunctionDeclaration" || (parent?.type === "VariableDeclarator" && parent.init === fn);
    if (!passedToGroup && !declared) return { why: "a function that waits for a request is passed to another" };
  }
  for (const [identifier, parent] of references) {
    const fn = named.get(identifier.name);
    if (!fn || !blocking.has(fn)) continue;
    if (parent.type === "FunctionDeclaration" || parent.type === "VariableDeclarator") continue;
    // A property's name, not the function.
    if (parent.type === "MemberExpression" && parent.property === identifier && !parent.computed) continue;
    if (parent.type === "Property" && parent.key === identifier && !parent.computed && !parent.shorthand) continue;
    if (parent.type === "CallExpression" && calleeOf(parent) === identifier) continue;
    if (parent.type === "SequenceExpression" && parents.get(parent)?.type === "CallExpression") continue;
    const exported =
      parent.type === "AssignmentExpression" &&
      parent.right === identifier &&
      parent.left.type === "MemberExpression" &&
      parent.left.object.name === "exports";
    if (!exported) return { why: `${identifier.name}, which waits for a request, is used other than called` };
  }

  const edits = [];
  for (const fn of blocking) if (!fn.async) edits.push([fn.start, "async "]);
  for (const call of waiting) edits.push([call.start, "(await "], [call.end, ")"]);
  edits.sort((a, b) => b[0] - a[0]);
  let out = code;
  for (const [at, text] of edits) out = out.slice(0, at) + text + out.slice(at);
  return { code: out };
}
