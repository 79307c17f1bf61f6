// driver.mjs: drives one headless Chromium page running the call harness
// (page/), for Go tests (see browser.go). It speaks testclient/jsclient's
// protocol: each stdin line is {"id":N,"cmd":"...",...args}, each answer one
// stdout line {"id":N,"ok":true,"result":...} or {"id":N,"ok":false,"error":"..."};
// id 0 is answered once ready.
//
// Go starts Chromium itself (so that it owns and reaps the process) and hands
// over the DevTools endpoint with "connect". Every command other than connect
// and stop is window.harness[cmd](args) in the page. The page's console goes to
// stderr, filtered by DRIVER_LOG=debug|info|warn|error (default warn).
import { format } from "node:util";
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";

const levels = { debug: 1, log: 2, info: 2, warning: 3, warn: 3, error: 4 };
const minLevel = levels[process.env.DRIVER_LOG ?? "warn"] ?? 3;
// Warnings every login produces against Dendrite.
const noise = /default global (override|underride) push rule/;

let browser = null;
let page = null;

function send(obj) { process.stdout.write(JSON.stringify(obj) + "\n"); }
function log(...args) { process.stderr.write(format(...args) + "\n"); }

process.on("unhandledRejection", (err) => log("unhandled rejection:", err));

const commands = {
  async connect({ endpoint, url }) {
    if (page) throw new Error("already connected");
    browser = await chromium.connectOverCDP(endpoint);
    const context = browser.contexts()[0] ?? (await browser.newContext());
    page = await context.newPage();
    page.on("console", (msg) => {
      const level = levels[msg.type()] ?? 2;
      const text = msg.text();
      if (level >= minLevel && !noise.test(text)) log(`[page ${msg.type()}] ${text}`);
    });
    page.on("pageerror", (err) => log("[page error]", err));
    page.on("crash", () => log("[page crashed]"));
    if (url) { // without one, the page stays blank for goto
      await page.goto(url);
      await page.waitForFunction(() => window.harnessReady === true, null, { timeout: 15000 });
    }
    return { version: browser.version() };
  },

  // Generic page commands, for pages other than the call harness. frame, if given,
  // picks the first frame whose URL starts with it (a widget inside its host page).
  async goto({ url }) {
    await page.goto(url);
    return { url: page.url() };
  },
  async waitText({ selector, text, frame, timeoutMs }) {
    const target = await waitFrame(frame, timeoutMs ?? 15000);
    await target.waitForFunction(([sel, want]) => {
      const el = document.querySelector(sel);
      return el !== null && el.textContent.includes(want);
    }, [selector, text], { timeout: timeoutMs ?? 15000 });
    return { text: await target.textContent(selector) };
  },
  async evaluate({ expression, frame }) {
    return { value: await pickFrame(frame).evaluate(expression) };
  },
  async screenshot({ path, fullPage }) {
    await page.screenshot({ path, fullPage: fullPage ?? true });
    return { path };
  },

  async stop() {
    const b = browser;
    browser = page = null;
    if (b) await b.close().catch(() => {});
    setTimeout(() => process.exit(0), 10);
    return {};
  },
};

function pickFrame(prefix) {
  if (!page) throw new Error("not connected to a browser");
  if (!prefix) return page;
  const f = page.frames().find((fr) => fr.url().startsWith(prefix));
  if (!f) throw new Error(`no frame at ${prefix}`);
  return f;
}

async function waitFrame(prefix, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try { return pickFrame(prefix); } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function handle(line) {
  let msg;
  try { msg = JSON.parse(line); } catch (err) {
    send({ id: -1, ok: false, error: `bad JSON: ${err.message}` });
    return;
  }
  const { id, cmd, ...args } = msg;
  try {
    let result;
    if (Object.hasOwn(commands, cmd)) {
      result = await commands[cmd](args);
    } else {
      if (!page) throw new Error(`${cmd}: not connected to a browser`);
      result = await page.evaluate(async ([name, a]) => {
        const fn = window.harness[name];
        if (typeof fn !== "function") throw new Error(`unknown command ${JSON.stringify(name)}`);
        try {
          return await fn(a);
        } catch (err) {
          // Matrix errors carry errcode/httpStatus; keep them across the boundary.
          return { __error: String(err?.message ?? err), errcode: err?.errcode, httpStatus: err?.httpStatus };
        }
      }, [cmd, args]);
      if (result && Object.hasOwn(result, "__error")) {
        send({ id, ok: false, error: result.__error, errcode: result.errcode, httpStatus: result.httpStatus });
        return;
      }
    }
    send({ id, ok: true, result: result ?? {} });
  } catch (err) {
    send({ id, ok: false, error: String(err?.message ?? err) });
  }
}

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on("line", (line) => { if (line.trim()) handle(line); });
rl.on("close", () => process.exit(0));
send({ id: 0, ok: true, result: { ready: true, node: process.version } });
