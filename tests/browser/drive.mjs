// Opens the browser peer pages in headless Chromium (playwright-core, the system's Chromium)
// and prints what each observes as one JSON line ("STATE {...}") every half second, until
// its standard input closes or the time limit passes.
//   node drive.mjs <seconds> <page url> [<page url> ...]
import { chromium } from "playwright-core";

const [seconds, ...urls] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
    // offer the host's real addresses as ICE candidates, not mDNS names: the server in the
    // test namespace cannot resolve those (and nothing may look names up outside it).
    // Chromium shows real addresses to pages granted media access; this grants it.
    "--use-fake-ui-for-media-stream",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
  ],
});
let open = true;
process.stdin.on("end", () => { open = false; });
process.stdin.resume();
try {
  const pages = [];
  for (const url of urls) {
    const page = await browser.newPage();
    page.on("console", (m) => { if (m.type() === "error") console.log(`PAGE ${m.text()}`); });
    page.on("pageerror", (e) => console.log(`PAGE ${e}`));
    await page.goto(url);
    pages.push(page);
  }
  const end = Date.now() + Number(seconds) * 1000;
  while (open && Date.now() < end) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const states = [];
    for (const page of pages) states.push(await page.evaluate(() => window.observe()));
    console.log(`STATE ${JSON.stringify(states)}`);
  }
} finally {
  await browser.close();
}
