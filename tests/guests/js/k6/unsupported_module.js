// A k6 module that molotov does not have (tests/e2e/k6.rs).
import { browser } from "k6/browser";

export default async function () {
  await browser.newPage();
}
