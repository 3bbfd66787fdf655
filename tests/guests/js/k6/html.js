// k6/html as k6's users write it (tests/e2e/k6.rs runs it unchanged):
// parseHTML and response.html() with k6's Selection and Element, a form's
// hidden token read from a page the server sends and posted back, the form
// submitted and a link followed.
import http from "k6/http";
import { check } from "k6";
import { parseHTML } from "k6/html";

export const options = { vus: 2, iterations: 4 };

const PAGE = `<!doctype html><html><head><title>Sign in</title></head><body>
<form action="/echo" method="post">
  <input type="hidden" name="csrf" value="t0k&amp;en"><input name="user" value="ada">
  <select name="plan"><option value="a">A</option><option value="b" selected>B</option></select>
  <button type="submit" name="go" value="1">Sign in</button>
</form>
<dl><dt id="term-1">term 1</dt><dd>d 1-a</dd><dd class="x y">d 1-b</dd><dt id="term-2">term 2</dt><dd>d 2-a</dd></dl>
<table><tr><td>cell</td></tr></table>
<ul><li><a href="/one">one</a></li><li><a href="/two" data-n="2">two</a></li></ul>
<p><a id="home" href="/">home</a></p>
</body></html>`;

export default function () {
  const doc = parseHTML(PAGE);
  const terms = [];
  doc.find("dt").each((i, el) => terms.push(`${i}:${el.nodeName()}#${el.id()}=${el.textContent()}>${el.nextElementSibling().textContent()}`));
  check(doc, {
    "title": (d) => d.find("title").text() === "Sign in",
    "attr and its default": (d) => d.find("input[name=csrf]").attr("value") === "t0k&en" && d.find("input[name=nope]").attr("value", "none") === "none",
    "form fields": (d) => JSON.stringify(d.find("form").serializeObject()) === '{"csrf":"t0k&en","user":"ada","plan":"b"}',
    "serialize": (d) => d.find("form").serialize() === "csrf=t0k%26en&user=ada&plan=b",
    "map gives selections": (d) => d.find("dl").children().map((i, s) => `${i}${s.text()}`).join(",") === "0term 1,1d 1-a,2d 1-b,3term 2,4d 2-a",
    "each gives elements": () => terms.join(",") === "0:dt#term-1=term 1>d 1-a,1:dt#term-2=term 2>d 2-a",
    "traversal": (d) =>
      d.find("dd").size() === 3 && d.find("dd").eq(1).attr("class") === "x y" && d.find("dd").filter(".x").text() === "d 1-b" &&
      d.find("dd").last().prevAll("dt").size() === 2 && d.find("td").closest("table").size() === 1 && d.find("dd").not(".x").size() === 2,
    "an HTML5 parser": (d) => d.find("tbody").size() === 1,
    "elements": (d) => {
      const body = d.find("body").get(0);
      const b = d.find("dd").get(1);
      return body.getElementById("term-2").textContent() === "term 2" && body.getElementsByClassName("y").length === 1 &&
        b.classList().join("|") === "x|y" && b.hasAttribute("class") && body.querySelectorAll("li a").length === 2 && body.querySelectorAll("a").length === 3 &&
        d.find("li a").last().data("n") === 2 && d.find("select").val() === "b" && d.find("li").get(0).innerHTML() === '<a href="/one">one</a>';
    },
  });
  // A page from the server, its token posted back (the built-in target's
  // /echo answers a POST with its body).
  const page = http.post(`${__ENV.BASE_URL}/echo`, PAGE, { headers: { "Content-Type": "text/html" } });
  const token = page.html().find("input[name=csrf]").attr("value");
  const posted = http.post(`${__ENV.BASE_URL}/echo`, { csrf: token });
  const submitted = page.submitForm({ fields: { user: "bob" } });
  const home = page.clickLink({ selector: "#home" });
  check(posted, {
    "token posted back": (r) => r.body === "csrf=t0k%26en",
    "html(selector)": () => page.html("option[selected]").text() === "B",
    "form submitted": () => submitted.status === 200 && submitted.body === "csrf=t0k%26en&user=bob&plan=b&go=1",
    "link followed": () => home.status === 200 && home.json("result") === "OK",
  });
}
