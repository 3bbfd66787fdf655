// k6/html: parseHTML and response.html(), k6's Selection and Element over
// cheerio (parse5, an HTML5 parser as Go's that k6 uses; css-select for
// selectors). The build bundles it only into scripts that use it.
import { load } from "cheerio";

/** A set of matched elements, as k6's (goquery's) Selection: jQuery's
 * traversal, each method returning a new Selection. */
export class Selection {
  #$; // the document's cheerio
  #sel; // cheerio's selection
  constructor($, sel) {
    this.#$ = $;
    this.#sel = sel;
  }
  #of(sel) {
    return new Selection(this.#$, sel);
  }
  /** `value` (a selector, a Selection or a function of (index, Selection))
   * as cheerio takes it. */
  #criterion(value) {
    if (value instanceof Selection) return value.#sel;
    if (typeof value === "function") return (index, node) => value(index, this.#of(this.#$(node)));
    return value;
  }
  attr(name, fallback) {
    return this.#sel.attr(name) ?? fallback;
  }
  children(selector) {
    return this.#of(this.#sel.children(selector));
  }
  closest(selector) {
    return this.#of(this.#sel.closest(selector));
  }
  contents() {
    return this.#of(this.#sel.contents());
  }
  data(key) {
    return this.#sel.data(key);
  }
  each(fn) {
    this.#sel.each((index, node) => {
      fn(index, new Element(this.#$, node));
    });
    return this;
  }
  eq(index) {
    return this.#of(this.#sel.eq(index));
  }
  filter(value) {
    return this.#of(this.#sel.filter(this.#criterion(value)));
  }
  find(selector) {
    return this.#of(this.#sel.find(this.#criterion(selector)));
  }
  first() {
    return this.#of(this.#sel.first());
  }
  get(index) {
    const node = this.#sel.get(index);
    return node === undefined ? undefined : new Element(this.#$, node);
  }
  has(selector) {
    return this.#of(this.#sel.has(selector));
  }
  html() {
    return this.#sel.html() ?? undefined;
  }
  is(value) {
    return this.#sel.is(this.#criterion(value));
  }
  last() {
    return this.#of(this.#sel.last());
  }
  map(fn) {
    return this.#sel.toArray().map((node, index) => fn(index, this.#of(this.#$(node))));
  }
  next(selector) {
    return this.#of(this.#sel.next(selector));
  }
  nextAll(selector) {
    return this.#of(this.#sel.nextAll(selector));
  }
  nextUntil(selector, filter) {
    return this.#of(this.#sel.nextUntil(this.#criterion(selector), filter));
  }
  not(value) {
    return this.#of(this.#sel.not(this.#criterion(value)));
  }
  parent(selector) {
    return this.#of(this.#sel.parent(selector));
  }
  parents(selector) {
    return this.#of(this.#sel.parents(selector));
  }
  parentsUntil(selector, filter) {
    return this.#of(this.#sel.parentsUntil(this.#criterion(selector), filter));
  }
  prev(selector) {
    return this.#of(this.#sel.prev(selector));
  }
  prevAll(selector) {
    return this.#of(this.#sel.prevAll(selector));
  }
  prevUntil(selector, filter) {
    return this.#of(this.#sel.prevUntil(this.#criterion(selector), filter));
  }
  /** A form's fields URL-encoded, as a form would send them. */
  serialize() {
    return this.#sel.serialize();
  }
  serializeArray() {
    return this.#sel.serializeArray();
  }
  serializeObject() {
    return Object.fromEntries(this.serializeArray().map(({ name, value }) => [name, value]));
  }
  siblings(selector) {
    return this.#of(this.#sel.siblings(selector));
  }
  size() {
    return this.#sel.length;
  }
  slice(start, end) {
    return this.#of(this.#sel.slice(start, end));
  }
  text() {
    return this.#sel.text();
  }
  toArray() {
    return this.#sel.toArray().map((node) => this.#of(this.#$(node)));
  }
  val() {
    return this.#sel.val();
  }
}

const NODE_TYPES = { tag: 1, script: 1, style: 1, text: 3, cdata: 4, directive: 10, comment: 8, root: 9 };

/** One node, as k6's Element: the DOM's properties as methods. */
export class Element {
  #$;
  #node;
  constructor($, node) {
    this.#$ = $;
    this.#node = node;
  }
  #element(node) {
    return node ? new Element(this.#$, node) : undefined;
  }
  #elements(nodes) {
    return nodes.map((node) => new Element(this.#$, node));
  }
  #tags(nodes) {
    return nodes.filter((node) => NODE_TYPES[node.type] === 1);
  }
  selection() {
    return new Selection(this.#$, this.#$(this.#node));
  }
  nodeName() {
    return this.#node.name ?? `#${this.#node.type}`;
  }
  nodeType() {
    return NODE_TYPES[this.#node.type];
  }
  nodeValue() {
    return this.#node.data ?? null;
  }
  id() {
    return this.getAttribute("id") ?? "";
  }
  className() {
    return this.getAttribute("class") ?? "";
  }
  classList() {
    return this.className().split(/\s+/).filter(Boolean);
  }
  lang() {
    return this.getAttribute("lang") ?? "";
  }
  getAttribute(name) {
    return this.#node.attribs?.[name];
  }
  hasAttribute(name) {
    return this.getAttribute(name) !== undefined;
  }
  hasAttributes() {
    return Object.keys(this.#node.attribs ?? {}).length > 0;
  }
  attributes() {
    return Object.fromEntries(Object.entries(this.#node.attribs ?? {}).map(([name, value]) => [name, { name, value }]));
  }
  textContent() {
    return this.#$(this.#node).text();
  }
  innerHTML() {
    return this.#$(this.#node).html() ?? "";
  }
  toString() {
    return this.#$.html(this.#node);
  }
  value() {
    return this.#$(this.#node).val();
  }
  childNodes() {
    return this.#elements(this.#node.children ?? []);
  }
  children() {
    return this.#elements(this.#tags(this.#node.children ?? []));
  }
  childElementCount() {
    return this.#tags(this.#node.children ?? []).length;
  }
  hasChildNodes() {
    return (this.#node.children ?? []).length > 0;
  }
  firstChild() {
    return this.#element(this.#node.children?.[0]);
  }
  lastChild() {
    return this.#element(this.#node.children?.at(-1));
  }
  firstElementChild() {
    return this.#element(this.#tags(this.#node.children ?? [])[0]);
  }
  lastElementChild() {
    return this.#element(this.#tags(this.#node.children ?? []).at(-1));
  }
  nextSibling() {
    return this.#element(this.#node.next);
  }
  previousSibling() {
    return this.#element(this.#node.prev);
  }
  nextElementSibling() {
    return this.#element(this.#$(this.#node).next().get(0));
  }
  previousElementSibling() {
    return this.#element(this.#$(this.#node).prev().get(0));
  }
  parentNode() {
    return this.#element(this.#node.parent);
  }
  parentElement() {
    return this.#element(this.#$(this.#node).parent().get(0));
  }
  matches(selector) {
    return this.#$(this.#node).is(selector);
  }
  contains(other) {
    return other instanceof Element && this.#$.contains(this.#node, other.#node);
  }
  isSameNode(other) {
    return other instanceof Element && other.#node === this.#node;
  }
  querySelector(selector) {
    return this.#element(this.#$(this.#node).find(selector).get(0));
  }
  querySelectorAll(selector) {
    return this.#elements(this.#$(this.#node).find(selector).toArray());
  }
  #descendants(keep) {
    return this.#elements(this.#$(this.#node).find("*").toArray().filter(keep));
  }
  getElementById(id) {
    return this.#descendants((node) => node.attribs.id === id)[0];
  }
  getElementsByClassName(name) {
    return this.#descendants((node) => (node.attribs.class ?? "").split(/\s+/).includes(name));
  }
  getElementsByTagName(name) {
    return this.querySelectorAll(name);
  }
}

/** `html` parsed as a document, selected whole (k6's `parseHTML`). */
export function parseHTML(html) {
  const $ = load(String(html ?? ""));
  return new Selection($, $.root());
}

export default { parseHTML };
