// Drives the `kazu serve` page in headless Chromium over the DevTools protocol
// (--remote-debugging-pipe, no npm packages): pastes text and annotates it,
// uploads an annotated Kazu JSON fixture, checks the highlighted entities in
// the DOM and saves a screenshot.
// Usage: node serve_page.js BASE_URL FIXTURE_JSON OUT_DIR [CHROMIUM]
"use strict";
const { spawn } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");

const [base, fixturePath, outDir, chromiumBin = "chromium"] = process.argv.slice(2);
if (!base || !fixturePath || !outDir) {
  console.error("usage: node serve_page.js BASE_URL FIXTURE_JSON OUT_DIR [CHROMIUM]");
  process.exit(2);
}
let failures = 0;
function check(cond, what) {
  console.log(`${cond ? "ok  " : "FAIL"} ${what}`);
  if (!cond) failures++;
}

const profile = fs.mkdtempSync(path.join(os.tmpdir(), "kazu-web-"));
const chrome = spawn(chromiumBin, ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
  "--no-first-run", "--no-default-browser-check", "--remote-debugging-pipe", `--user-data-dir=${profile}`,
  "about:blank"], { stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"] });
let chromeErr = "";
chrome.stderr.on("data", (d) => { chromeErr += d; });
const toChrome = chrome.stdio[3], fromChrome = chrome.stdio[4];
let nextId = 1, inbuf = "";
const pending = new Map(), listeners = [];
fromChrome.on("data", (d) => {
  inbuf += d.toString("utf8");
  let i;
  while ((i = inbuf.indexOf("\0")) >= 0) {
    const msg = JSON.parse(inbuf.slice(0, i));
    inbuf = inbuf.slice(i + 1);
    if (msg.id && pending.has(msg.id)) {
      const { resolve, reject } = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.error) reject(new Error(JSON.stringify(msg.error)));
      else resolve(msg.result);
    } else if (msg.method) {
      for (const l of listeners.slice()) l(msg);
    }
  }
});
function send(method, params = {}, sessionId) {
  const id = nextId++;
  const msg = { id, method, params };
  if (sessionId) msg.sessionId = sessionId;
  toChrome.write(JSON.stringify(msg) + "\0");
  return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
}
function waitEvent(method, ms = 15000) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timeout waiting for ${method}`)), ms);
    const l = (msg) => {
      if (msg.method === method) {
        clearTimeout(t);
        listeners.splice(listeners.indexOf(l), 1);
        resolve(msg.params);
      }
    };
    listeners.push(l);
  });
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const { targetId } = await send("Target.createTarget", { url: "about:blank" });
  const { sessionId } = await send("Target.attachToTarget", { targetId, flatten: true });
  const s = (m, p) => send(m, p, sessionId);
  const evaluate = async (expr) => {
    const r = await s("Runtime.evaluate", { expression: expr, awaitPromise: true, returnByValue: true });
    if (r.exceptionDetails) throw new Error(`page error: ${JSON.stringify(r.exceptionDetails)}`);
    return r.result.value;
  };
  const waitFor = async (expr, what, ms = 15000) => {
    const t0 = Date.now();
    while (Date.now() - t0 < ms) {
      if (await evaluate(expr)) return true;
      await sleep(100);
    }
    throw new Error(`timeout waiting for ${what}`);
  };
  await s("Page.enable");
  await s("Runtime.enable");
  await s("Emulation.setDeviceMetricsOverride", { width: 1280, height: 1000, deviceScaleFactor: 1, mobile: false });
  const loaded = waitEvent("Page.loadEventFired");
  await s("Page.navigate", { url: base + "/" });
  await loaded;
  check(await evaluate("document.title") === "kazu-c: annotate text", "page title");
  check(await evaluate("!!document.querySelector('link[href=\"/style.css\"]') && getComputedStyle(document.querySelector('header')).display === 'flex'"),
    "stylesheet served and applied");
  await waitFor("document.querySelectorAll('#group option').length > 1", "step groups in the select");

  // 1. Paste text and annotate through the server.
  const pasted = "EGFR mutations are frequent in non-small cell lung cancer. Patients received gefitinib.";
  await evaluate("document.getElementById('text').focus()");
  await s("Input.insertText", { text: pasted });
  check(await evaluate("document.getElementById('text').value") === pasted, "text pasted into the textarea");
  await evaluate("document.getElementById('annotate').click()");
  await waitFor("/document\\(s\\)/.test(document.getElementById('status').textContent)", "annotation result");
  check(await evaluate("document.querySelectorAll('#result .doc').length") === 1, "one document rendered from the server");
  check(await evaluate("document.querySelector('#result .doc .text').textContent") === pasted,
    "rendered text equals the pasted text");
  check(await evaluate("!document.getElementById('download').disabled"), "download enabled after a result");
  const nServerEnts = await evaluate("new Set([...document.querySelectorAll('#result mark.ent')].map(m => m.dataset.k)).size");
  console.log(`     (server pipeline returned ${nServerEnts} entities for the pasted text)`);

  // 2. Upload an annotated Kazu Document JSON: nested, non-contiguous, non-BMP text.
  const fixture = JSON.parse(fs.readFileSync(fixturePath, "utf8"));
  const ents = fixture.sections[0].entities;
  const { root } = await s("DOM.getDocument", { depth: -1 });
  const { nodeId } = await s("DOM.querySelector", { nodeId: root.nodeId, selector: "#file" });
  await s("DOM.setFileInputFiles", { nodeId, files: [path.resolve(fixturePath)] });
  await waitFor(`document.querySelectorAll('#result mark.ent').length >= ${ents.length}`, "fixture entities");
  const marks = await evaluate(`[...document.querySelectorAll('#result mark.ent')].map(m => ({k: +m.dataset.k,
      cls: m.dataset.class, text: m.textContent, nc: m.classList.contains('nc'),
      parent: m.parentElement.closest('mark.ent') ? +m.parentElement.closest('mark.ent').dataset.k : -1,
      bg: getComputedStyle(m).backgroundColor}))`);
  const ks = new Set(marks.map((m) => m.k));
  check(ks.size === ents.length, `every entity highlighted (${ks.size}/${ents.length})`);
  ents.forEach((e, k) => {
    const mine = marks.filter((m) => m.k === k);
    check(mine.length > 0 && mine.every((m) => m.cls === e.entity_class), `entity ${k} '${e.match}' has class ${e.entity_class}`);
    if (e.spans.length === 1) {
      check(mine.length === 1 && mine[0].text === e.match, `entity ${k} highlights exactly '${e.match}' (got '${mine.map((m) => m.text).join("|")}')`);
    }
  });
  const nc = marks.filter((m) => m.nc);
  check(nc.length === 2 && nc[0].k === nc[1].k && nc.map((m) => m.text).join(" ") === "breast cancer",
    "non-contiguous entity shown as two dashed pieces 'breast' + 'cancer'");
  const lung = marks.find((m) => m.text === "lung");
  check(lung && lung.cls === "anatomy" && lung.parent === 0, "nested 'lung' (anatomy) inside 'Non-small cell lung cancer' (disease)");
  const ncCancer = nc.find((m) => m.text === "cancer");
  check(ncCancer && marks[marks.findIndex((m) => m.k === ncCancer.parent)].text === "ovarian cancer",
    "the non-contiguous 'cancer' piece nests inside 'ovarian cancer'");
  const egfr = marks.find((m) => m.cls === "gene");
  check(egfr && egfr.text === "EGFR", "code point offsets after a non-BMP character ('EGFR' after the emoji)");
  const bgs = new Map(marks.map((m) => [m.cls, m.bg]));
  check(new Set(bgs.values()).size === bgs.size, `one colour per class (${[...bgs.keys()].join(", ")})`);
  check(await evaluate("[...document.querySelectorAll('#legend .chip')].map(c => c.textContent).join(',')") ===
    [...new Set(ents.map((e) => e.entity_class))].sort().join(","), "legend lists the classes");
  check(await evaluate("document.querySelectorAll('#entities tbody tr').length") === ents.length, "entity table rows");

  // Hover one piece of the non-contiguous entity: both pieces highlight.
  await evaluate(`document.querySelector('mark.ent.nc').dispatchEvent(new MouseEvent('mouseover', {bubbles: true}))`);
  check(await evaluate("document.querySelectorAll('mark.ent.nc.hl').length") === 2, "hover highlights every piece of the entity");
  await evaluate(`document.querySelector('mark.ent.nc').dispatchEvent(new MouseEvent('mouseout', {bubbles: true}))`);
  const title = await evaluate(`document.querySelector('mark.ent[data-class="drug"]').title`);
  check(/CHEMBL:CHEMBL1201585/.test(title) && /HIGHLY_LIKELY/.test(title) && /MemoryEfficientStringMatchingStep/.test(title),
    "hover title has ids, confidence and step");

  // Click the drug: the details panel shows class, ids, default label, confidence, step.
  await evaluate(`document.querySelector('mark.ent[data-class="drug"]').click()`);
  const details = await evaluate("document.getElementById('details').hidden ? '' : document.getElementById('details').textContent");
  for (const w of ["drug", "CHEMBL:CHEMBL1201585", "TRASTUZUMAB", "HIGHLY_LIKELY", "MemoryEfficientStringMatchingStep"])
    check(details.includes(w), `details panel shows '${w}'`);
  await evaluate(`document.querySelector('mark.ent[data-class="anatomy"]').click()`);
  const d2 = await evaluate("document.getElementById('details').textContent");
  check(d2.includes("POSSIBLE") && d2.includes("UBERON"), "clicking the nested entity shows its own details");

  const shot = await s("Page.captureScreenshot", { format: "png", captureBeyondViewport: true });
  fs.mkdirSync(outDir, { recursive: true });
  const png = path.join(outDir, "serve_web.png");
  fs.writeFileSync(png, Buffer.from(shot.data, "base64"));
  check(fs.statSync(png).size > 10000, `screenshot saved: ${png}`);
}

// Kill Chromium, wait for it to go, then remove its profile (best effort).
async function killAll() {
  const gone = new Promise((r) => { if (chrome.exitCode !== null || chrome.signalCode) r(); else chrome.once("exit", r); });
  try { chrome.kill("SIGKILL"); } catch (e) { /* already gone */ }
  await Promise.race([gone, sleep(5000)]);
  try { fs.rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 }); } catch (e) { /* tmp */ }
}
const watchdog = setTimeout(async () => { console.error("FAIL: page test timed out"); await killAll(); process.exit(1); }, 90000);
main().then(async () => {
  clearTimeout(watchdog);
  await killAll();
  console.log(failures ? `${failures} check(s) failed` : "all page checks passed");
  process.exit(failures ? 1 : 0);
}, async (e) => {
  clearTimeout(watchdog);
  console.error(`FAIL: ${e.message}\n${chromeErr.slice(-2000)}`);
  await killAll();
  process.exit(1);
});
