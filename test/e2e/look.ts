// Scratch: screenshots of every lab page over a run store (node --import tsx test/e2e/look.ts <runs> <out> [hash…]).
import { join } from "node:path";
import { startLab } from "../../src/lab/server.js";
import { openBrowser } from "./browser.js";

const [root, out, ...hashes] = process.argv.slice(2);
const lab = await startLab({ runsRoot: root, port: 0, pollMs: 200 });
const b = await openBrowser();
const page = await b.context.newPage();
page.on("pageerror", (e) => console.log("pageerror", e.message));
page.on("console", (m) =>
  m.type() === "error" || m.type() === "warning" ? console.log("console", m.text()) : undefined,
);
for (const h of hashes) {
  await page.goto(`${lab.url}${h}`);
  await page.waitForTimeout(Number(process.env.WAIT ?? 6000));
  const name = h.replace(/[^a-z0-9]+/gi, "_").slice(0, 60) || "home";
  await page.screenshot({ path: join(out, `${name}.png`), fullPage: true });
  const height = await page.evaluate(() => document.body.scrollHeight);
  for (let y = 0, k = 0; y < height && k < 10; y += 1000, k++)
    await page.screenshot({
      path: join(out, `${name}-${k}.png`),
      fullPage: true,
      clip: { x: 0, y, width: 1280, height: Math.min(1000, height - y) },
    });
  const text = await page.evaluate(() => document.body.innerText);
  for (const bad of ["[object Object]", "NaN", "undefined"])
    if (text.includes(bad)) console.log(h, "has", bad);
  console.log("shot", name);
}
await b.close();
await lab.close();
