// k6/http: requests through the VU's session (the host sends, measures and
// reports them as molotov's own), answered with k6's response objects; one
// module per VU (createHttp). A
// request that gets no response is a response with status 0 and `error`,
// as in k6, not an exception.
import { bytesOf, toBase64 } from "../bytes.js";
import { milliseconds } from "../duration.js";
import { HttpError, incr, timing } from "../molotov.js";
import { k6 } from "./state.js";
import { anyOf, matching } from "./submetrics.js";

const text = new TextDecoder();

let parseHTML; // k6/html's, when the build bundled it
/** Gives responses k6/html's parser, for `response.html()`. */
export const useHtmlParser = (parse) => (parseHTML = parse);

// k6's error codes for what molotov's host reports as an error kind.
const ERROR_CODES = { timeout: 1050, connect: 1210, "too-many-redirects": 1220, protocol: 1000, "body-too-large": 1000 };

/** `Content-Type` for `content-type`: how k6 names response headers. */
const canonical = (name) => name.replace(/(^|-)([a-z])/g, (_, dash, c) => dash + c.toUpperCase());


const hasHeader = (headers, name) => Object.keys(headers).some((h) => h.toLowerCase() === name);

/** The body k6 sends for `body`: a string or bytes as given, an object as a
 * form, multipart when one of its values is a file (`http.file`). */
function payload(body, headers) {
  if (body === undefined || body === null) return undefined;
  if (typeof body === "string") return body;
  if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return bytesOf(body);
  if (Object.values(body).some((v) => v instanceof FileData)) return multipart(body, headers);
  if (!hasHeader(headers, "content-type")) {
    headers["Content-Type"] = "application/x-www-form-urlencoded";
  }
  return Object.entries(body)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join("&");
}

/** `fields` as multipart/form-data: files (`http.file`) with their name
 * and type, other values as text. */
function multipart(fields, headers) {
  const boundary = `----molotov${Math.random().toString(16).slice(2)}`;
  const quoted = (text) => String(text).replace(/["\r\n]/g, encodeURIComponent);
  const parts = [];
  for (const [name, value] of Object.entries(fields)) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${quoted(name)}"`;
    if (value instanceof FileData) head += `; filename="${quoted(value.filename ?? name)}"\r\nContent-Type: ${value.content_type}`;
    const data = value instanceof FileData ? value.data : String(value);
    parts.push(bytesOf(`${head}\r\n\r\n`), bytesOf(data), bytesOf("\r\n"));
  }
  parts.push(bytesOf(`--${boundary}--\r\n`));
  headers["Content-Type"] = `multipart/form-data; boundary=${boundary}`;
  const body = new Uint8Array(parts.reduce((size, part) => size + part.length, 0));
  parts.reduce((at, part) => (body.set(part, at), at + part.length), 0);
  return body;
}

/** The value at a gjson-style `path` (`a.b`, `items.0.id`, `items.#`). */
function select(value, path) {
  for (const key of path.split(".")) {
    if (value === undefined || value === null) return undefined;
    value = key === "#" && Array.isArray(value) ? value.length : value[key];
  }
  return value;
}

class Response {
  #molotov;
  #params;
  #body;
  #headers = null;
  #send; // the VU's `request`, for submitForm and clickLink
  constructor(molotov, request, params, send) {
    this.#molotov = molotov;
    this.#params = params;
    this.#send = send;
    this.request = request;
    this.status = molotov.status;
    this.error = "";
    this.error_code = 0;
  }
  // Read from the host only when asked: most scripts never look. As k6's,
  // they are the last hop's, and `duration` is sending, waiting and
  // receiving (the connection's opening is apart).
  get timings() {
    const parts = this.#molotov.timings;
    if (parts === undefined) {
      const ms = this.#molotov.elapsedUs / 1000;
      return { duration: ms, waiting: ms, blocked: 0, connecting: 0, tls_handshaking: 0, sending: 0, receiving: 0 };
    }
    const [sending, waiting, receiving] = [parts.sendingUs / 1000, parts.waitingUs / 1000, parts.receivingUs / 1000];
    return {
      duration: sending + waiting + receiving,
      blocked: 0,
      connecting: parts.connectingUs / 1000,
      tls_handshaking: parts.tlsHandshakingUs / 1000,
      sending,
      waiting,
      receiving,
    };
  }
  get url() {
    return this.#molotov.url;
  }
  // One object, as k6's (the host's copy is made once, at the first look).
  get headers() {
    if (this.#headers) return this.#headers;
    this.#headers = {};
    for (const [name, value] of this.#molotov.headers) {
      const key = canonical(name);
      this.#headers[key] = key in this.#headers ? `${this.#headers[key]}, ${value}` : value;
    }
    return this.#headers;
  }
  get body() {
    if (this.#body !== undefined) return this.#body;
    const type = this.#params.responseType ?? (k6.options.discardResponseBodies ? "none" : "text");
    const bytes = this.#molotov.body;
    this.#body = type === "none" ? null : type === "binary" ? bytes.slice().buffer : text.decode(bytes);
    return this.#body;
  }
  get cookies() {
    const cookies = {};
    for (const [name, value] of this.#molotov.headers) {
      if (name.toLowerCase() !== "set-cookie") continue;
      const [pair] = value.split(";");
      const at = pair.indexOf("=");
      const cookie = { name: pair.slice(0, at).trim(), value: pair.slice(at + 1).trim() };
      (cookies[cookie.name] ??= []).push(cookie);
    }
    return cookies;
  }
  get status_text() {
    return `${this.status}`;
  }
  json(selector) {
    const body = this.body;
    // k6's words: a failed request's body, or a discarded one, is null.
    if (body === null) throw new Error("the body is null so we can't transform it to JSON - this likely was because of a request error getting the response");
    const value = JSON.parse(typeof body === "string" ? body : text.decode(this.#molotov.body));
    return selector === undefined ? value : select(value, selector);
  }
  /** The body parsed as HTML (k6/html's Selection), or the elements of it
   * that `selector` matches. */
  html(selector) {
    if (!parseHTML) throw new Error("response.html(): the build bundles the HTML parser only for a script that calls `.html(`, `.submitForm(` or `.clickLink(`, or imports k6/html");
    // k6 parses the body as text: nothing when it was discarded.
    const document = parseHTML(typeof this.body === "string" ? this.body : "");
    return selector === undefined ? document : document.find(selector);
  }
  /** Submits the page's form (the first `formSelector` matches) as a
   * browser would: its fields, `fields` over them, and the submit
   * button's name and value, to its action by its method. */
  submitForm({ formSelector = "form", fields = {}, submitSelector = '[type="submit"]', params = {} } = {}) {
    const form = this.html(formSelector).first();
    if (form.size() === 0) throw new Error(`submitForm: no form matches ${JSON.stringify(formSelector)} in ${this.url}`);
    const values = { ...form.serializeObject(), ...fields };
    const submit = form.find(submitSelector).first();
    if (submit.attr("name")) values[submit.attr("name")] = submit.val() ?? "";
    const action = new URL(form.attr("action", ""), this.url);
    const method = form.attr("method", "GET").toUpperCase();
    if (method !== "GET") return this.#send(method, action.href, values, params);
    // As a browser does, the form's fields replace the action's query.
    action.search = "";
    for (const [name, value] of Object.entries(values)) action.searchParams.append(name, value);
    return this.#send("GET", action.href, null, params);
  }
  /** Follows the page's link (the first `selector` matches). */
  clickLink({ selector = "a[href]", params = {} } = {}) {
    const href = this.html(selector).first().attr("href");
    if (href === undefined) throw new Error(`clickLink: no link matches ${JSON.stringify(selector)} in ${this.url}`);
    return this.#send("GET", new URL(href, this.url).href, null, params);
  }
}

/** A request that got no response, as k6 gives it. */
function failed(error, request) {
  const response = Object.create(Response.prototype);
  Object.assign(response, {
    request,
    status: 0,
    error: error.message,
    error_code: ERROR_CODES[error.kind] ?? 1000,
  });
  Object.defineProperties(response, {
    timings: { value: { duration: 0, waiting: 0, blocked: 0, connecting: 0, tls_handshaking: 0, sending: 0, receiving: 0 } },
    body: { value: null },
    headers: { value: {} },
    cookies: { value: {} },
    url: { value: request.url },
  });
  return response;
}

// k6's default; the host's copy is `K6_EXPECTED_STATUSES` (host/metrics/src/k6.rs).
const DEFAULT_EXPECTED = [[200, 399]];

/** The statuses a request expects, as [min, max] ranges: its own
 * `responseCallback`'s, else `http.setResponseCallback`'s, else k6's
 * default; undefined when its own callback is null (k6 then does not judge
 * it). */
function expectedBy(params) {
  if (params.responseCallback === undefined) return k6.expectedStatuses ?? DEFAULT_EXPECTED;
  return params.responseCallback?.expectedStatuses;
}

// The parts of http_req_duration, by k6's metric and timings' name.
const PHASES = [
  ["http_req_connecting", "connecting"],
  ["http_req_tls_handshaking", "tls_handshaking"],
  ["http_req_sending", "sending"],
  ["http_req_waiting", "waiting"],
  ["http_req_receiving", "receiving"],
];
const REQUEST_METRICS = ["http_reqs", "http_req_failed", "http_req_duration", ...PHASES.map(([metric]) => metric)];

/** `response`, recorded in the request metrics' sub-metrics that its tags
 * match (k6's: the VU's, the request's own, its name, method, URL,
 * status, whether its status was expected, and the VU's group), and in http_req_failed
 * when the layer judges each request. */
function measured(response, name, params, vu, group) {
  const judgedHere = k6.failedPerRequest;
  if (!judgedHere && !anyOf(REQUEST_METRICS)) return response;
  const { request, status } = response;
  const expected = expectedBy(params);
  const ok = expected === undefined || expected.some(([min, max]) => status >= min && status <= max);
  if (judgedHere && expected !== undefined) incr(`http_req_failed: ${!ok}`);
  const tags = {
    ...vu.tags,
    ...params.tags,
    name,
    method: request.method,
    url: request.url,
    status: String(status),
    expected_response: String(ok),
    error_code: String(response.error_code),
    group,
  };
  for (const key of matching("http_reqs", tags)) incr(key);
  if (expected !== undefined) for (const key of matching("http_req_failed", tags)) incr(`${key}: ${!ok}`);
  if (status === 0) return response;
  const timings = response.timings;
  for (const key of matching("http_req_duration", tags)) timing(key, timings.duration * 1000);
  for (const [metric, part] of PHASES) {
    for (const key of matching(metric, tags)) timing(key, timings[part] * 1000);
  }
  return response;
}

/** `k6/http` for `vu`: its requests go through its current session. On a
 * shared instance they return promises, which the build's rewrite of the
 * script awaits. */
export function createHttp(vu) {
  const sessionOf = () => vu.currentSession();
  function request(method, url, body, params) {
    params ??= {};
    const headers = { ...(params.headers ?? {}) };
    if (k6.options.userAgent && !hasHeader(headers, "user-agent")) headers["User-Agent"] = k6.options.userAgent;
    if (params.cookies && Object.keys(params.cookies).length) {
      const pairs = Object.entries(params.cookies).map(([k, v]) => `${k}=${typeof v === "object" ? v.value : v}`);
      headers.Cookie = pairs.join("; ");
    }
    if (params.auth && params.auth !== "basic") throw new Error(`auth "${params.auth}" is not supported (basic is, with user:pass@ in the URL)`);
    const target = String(url);
    const credentials = /^[a-z]+:\/\/([^/@]+)@/i.exec(target);
    let sent = target;
    if (credentials) {
      headers.Authorization = `Basic ${toBase64(bytesOf(decodeURIComponent(credentials[1])))}`;
      sent = target.replace(`${credentials[1]}@`, "");
    }
    const requestBody = payload(body, headers);
    const req = { method, url: sent, headers, body: requestBody };
    // k6 names a request by its URL (`http.url`'s by its template) unless
    // its `name` tag says otherwise.
    const name = params.tags?.name ?? (url instanceof TemplatedURL ? url.name : sent);
    // Tagged with the group the request was made in.
    const group = vu.group;
    const answered = (response) => measured(new Response(response, req, params, request), name, params, vu, group);
    const unanswered = (e) => {
      if (e instanceof HttpError) return measured(failed(e, req), name, params, vu, group);
      throw e;
    };
    try {
      const response = sessionOf().request({
        method,
        url: sent,
        headers,
        body: requestBody,
        timeoutMs: milliseconds(params.timeout),
        name,
        maxRedirects: params.redirects ?? k6.options.maxRedirects,
      });
      return typeof response.then === "function" ? response.then(answered, unanswered) : answered(response);
    } catch (e) {
      return unanswered(e);
    }
  }

  const get = (url, params) => request("GET", url, null, params);
  /** Several requests: at once on a shared instance (as k6's), else one
   * after another. */
  function batch(requests) {
    const one = (r) => {
      if (typeof r === "string" || r instanceof TemplatedURL) return get(r);
      if (Array.isArray(r)) return request(r[0], r[1], r[2], r[3]);
      return request(r.method ?? "GET", r.url, r.body, r.params);
    };
    const pending = (Array.isArray(requests) ? requests : Object.values(requests)).map(one);
    const shaped = (responses) =>
      Array.isArray(requests) ? responses : Object.fromEntries(Object.keys(requests).map((k, i) => [k, responses[i]]));
    return pending.some((r) => typeof r?.then === "function") ? Promise.all(pending).then(shaped) : shaped(pending);
  }
  /** The VU's cookies (its session's jar), as k6's jar reads and sets them. */
  function cookieJar() {
    const remove = (url, name) => sessionOf().setCookie(String(url), `${name}=; Max-Age=0`);
    return {
      cookiesForURL: (url) => Object.fromEntries(Object.entries(sessionOf().cookies(url)).map(([k, v]) => [k, [v]])),
      set(url, name, value, options = {}) {
        const attributes = [`${name}=${value}`];
        if (options.domain) attributes.push(`Domain=${options.domain}`);
        if (options.path) attributes.push(`Path=${options.path}`);
        if (options.expires) attributes.push(`Expires=${new Date(options.expires).toUTCString()}`);
        if (options.max_age !== undefined) attributes.push(`Max-Age=${options.max_age}`);
        if (options.secure) attributes.push("Secure");
        if (options.http_only) attributes.push("HttpOnly");
        sessionOf().setCookie(String(url), attributes.join("; "));
      },
      delete: remove,
      clear(url) {
        for (const name of Object.keys(sessionOf().cookies(url))) remove(url, name);
      },
    };
  }
  return {
    request,
    /** A request as a promise, whatever the instance. */
    asyncRequest(method, url, body, params) {
      const response = new Promise((resolve) => resolve(request(method, url, body, params)));
      // The iteration ends once its requests have, as k6's event loop waits.
      vu.keepOpenUntil(response);
      return response;
    },
    /** k6's tagged template: the URL, named by its template (each value as
     * `${}`), so that URLs that differ by an id share one name. */
    url: (strings, ...values) =>
      new TemplatedURL(strings.reduce((url, part, i) => url + values[i - 1] + part), strings.join("${}")),
    get,
    head: (url, params) => request("HEAD", url, null, params),
    post: (url, body, params) => request("POST", url, body, params),
    put: (url, body, params) => request("PUT", url, body, params),
    patch: (url, body, params) => request("PATCH", url, body, params),
    del: (url, body, params) => request("DELETE", url, body, params),
    options: (url, body, params) => request("OPTIONS", url, body, params),
    batch,
    cookieJar,
    file: (data, filename, contentType) => new FileData(data, filename, contentType),
    FileData,
    CookieJar,
    // The statuses k6 counts as expected, as [min, max] ranges: what the
    // host reads `http_req_failed` by (or this layer, when requests have
    // their own responseCallback).
    expectedStatuses: (...statuses) => ({
      expectedStatuses: statuses.map((s) => (typeof s === "number" ? [s, s] : [s.min, s.max])),
    }),
    setResponseCallback(callback) {
      k6.expectedStatuses = callback === null ? [[100, 599]] : callback?.expectedStatuses;
    },
    OCSP_STATUS_GOOD: "good",
  };
}

/** A URL made by `http.url`, with the name of its template. */
class TemplatedURL {
  constructor(url, name) {
    Object.assign(this, { url, name });
  }
  toString() {
    return this.url;
  }
}

export class FileData {
  constructor(data, filename, contentType) {
    Object.assign(this, { data, filename, content_type: contentType ?? "application/octet-stream" });
  }
}
export class CookieJar {
  constructor() {
    throw new Error("new http.CookieJar(): local cookie jars are not supported yet (the VU's own is http.cookieJar())");
  }
}
