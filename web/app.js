/* kazu-c annotation page: sends text to the server's Kazu API (or loads a Kazu
 * Document JSON file) and shows the entities highlighted by class. Nested
 * entities become nested <mark>s; a non-contiguous entity is one dashed <mark>
 * per span, all highlighted together. Offsets in Kazu JSON are code points. */
"use strict";

const $ = (id) => document.getElementById(id);
const CLASS_COLOURS = {
  gene: "#b7e4c7", disease: "#ffd6a5", drug: "#fff3b0", cell_line: "#ffadad", cell_type: "#a0c4ff",
  species: "#d7b8f3", anatomy: "#ffc8dd", molecular_function: "#d9d9d9", cellular_component: "#bde0fe",
  biological_process: "#e6ccb2",
};
let lastResult = null;   // the JSON shown (list of Kazu documents)
let entityIndex = [];    // k -> {ent, doc, section}

function colourOf(cls) {
  if (CLASS_COLOURS[cls]) return CLASS_COLOURS[cls];
  let h = 0;
  for (const ch of String(cls)) h = (h * 31 + ch.codePointAt(0)) % 360;
  return `hsl(${h}, 70%, 82%)`;
}

function setStatus(msg, isError) {
  const s = $("status");
  s.textContent = msg;
  s.className = isError ? "error" : "";
}

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k === "style") e.style.cssText = v;
    else e.setAttribute(k, v);
  }
  for (const k of kids) e.append(k);
  return e;
}

function confidence(ent) { return ent.mention_confidence || "HIGHLY_LIKELY"; }

function idsOf(ent) {
  return (ent.mappings || []).map((m) => `${m.source || "?"}:${m.idx}${m.default_label ? ` (${m.default_label})` : ""}`);
}

function summary(ent) {
  const ids = idsOf(ent);
  return `${ent.entity_class}: ${ent.match}\nids: ${ids.length ? ids.join("; ") : "unmapped"}\n` +
    `confidence: ${confidence(ent)}\nstep: ${ent.namespace || "?"}`;
}

/* Pieces (one per span) nested into a tree; a piece crossing its parent's end
 * is split so that the DOM stays well-formed. */
function buildTree(len, pieces) {
  const work = pieces.slice().sort((a, b) => a.start - b.start || b.end - a.end || a.k - b.k);
  const root = { start: 0, end: len, children: [] };
  const stack = [root];
  while (work.length) {
    const p = work.shift();
    while (stack.length > 1 && stack[stack.length - 1].end <= p.start) stack.pop();
    const parent = stack[stack.length - 1];
    if (p.end > parent.end) {
      const rest = { ...p, start: parent.end, cont: true };
      p.end = parent.end;
      let i = 0;
      while (i < work.length && (work[i].start < rest.start || (work[i].start === rest.start && work[i].end >= rest.end))) i++;
      work.splice(i, 0, rest);
    }
    if (p.end <= p.start) continue;
    const node = { ...p, children: [] };
    parent.children.push(node);
    stack.push(node);
  }
  return root;
}

function emit(parentEl, cps, node) {
  let cur = node.start;
  for (const ch of node.children) {
    if (ch.start > cur) parentEl.append(cps.slice(cur, ch.start).join(""));
    const info = entityIndex[ch.k];
    const ent = info.ent;
    const m = el("mark", {
      class: "ent" + (ent.spans.length > 1 ? " nc" : ""),
      "data-k": String(ch.k),
      "data-class": ent.entity_class,
      title: summary(ent),
      style: `--c: ${colourOf(ent.entity_class)}`,
    });
    emit(m, cps, ch);
    parentEl.append(m);
    cur = ch.end;
  }
  if (node.end > cur) parentEl.append(cps.slice(cur, node.end).join(""));
}

function renderSection(sec, doc) {
  const cps = Array.from(sec.text || "");
  const pieces = [];
  for (const ent of sec.entities || []) {
    const k = entityIndex.length;
    entityIndex.push({ ent, doc, section: sec });
    for (const sp of ent.spans || []) {
      const start = Math.max(0, Math.min(cps.length, sp.start | 0));
      const end = Math.max(0, Math.min(cps.length, sp.end | 0));
      if (end > start) pieces.push({ k, start, end });
    }
  }
  const textEl = el("div", { class: "text" });
  emit(textEl, cps, buildTree(cps.length, pieces));
  return el("div", { class: "sec" }, el("div", { class: "sec-name" }, sec.name || ""), textEl);
}

function renderDocs(docs) {
  entityIndex = [];
  const out = $("result");
  out.replaceChildren();
  const classes = new Set();
  for (const doc of docs) {
    const d = el("div", { class: "doc", "data-idx": doc.idx || "" }, el("h3", {}, `document ${doc.idx || ""}`));
    const fail = doc.metadata && doc.metadata.PROCESSING_EXCEPTION;
    if (fail) d.append(el("div", { class: "failure" }, `processing failed: ${fail}`));
    for (const sec of doc.sections || []) d.append(renderSection(sec, doc));
    out.append(d);
  }
  const tbody = $("entities").querySelector("tbody");
  tbody.replaceChildren();
  entityIndex.forEach(({ ent }, k) => {
    classes.add(ent.entity_class);
    const chip = el("span", { class: "chip", style: `background: ${colourOf(ent.entity_class)}` }, ent.entity_class);
    const tr = el("tr", { "data-k": String(k) },
      el("td", {}, String(k + 1)), el("td", {}, ent.match), el("td", {}, chip),
      el("td", {}, (ent.spans || []).map((s) => `${s.start}-${s.end}`).join(", ")),
      el("td", {}, idsOf(ent).join("; ") || "unmapped"), el("td", {}, confidence(ent)),
      el("td", {}, ent.namespace || ""));
    tr.addEventListener("click", () => showDetails(k));
    tbody.append(tr);
  });
  $("entities").hidden = entityIndex.length === 0;
  const legend = $("legend");
  legend.replaceChildren(...[...classes].sort().map((c) =>
    el("span", { class: "chip", "data-class": c, style: `background: ${colourOf(c)}` }, c)));
  lastResult = docs;
  $("download").disabled = false;
  setStatus(`${docs.length} document(s), ${entityIndex.length} entit${entityIndex.length === 1 ? "y" : "ies"}`);
}

function showDetails(k) {
  const { ent } = entityIndex[k];
  const box = $("details");
  const dl = el("dl", {});
  const row = (t, v) => dl.append(el("dt", {}, t), el("dd", {}, v));
  row("class", ent.entity_class);
  row("match", ent.match);
  row("spans", (ent.spans || []).map((s) => `${s.start}-${s.end}`).join(", ") + (ent.spans.length > 1 ? " (non-contiguous)" : ""));
  row("confidence", confidence(ent));
  row("step", ent.namespace || "?");
  const maps = ent.mappings || [];
  if (!maps.length) row("ids", "unmapped");
  maps.forEach((m, i) => row(i ? "" : "ids", `${m.source || "?"}:${m.idx} — ${m.default_label || ""}` +
    (m.string_match_confidence ? ` [${m.string_match_confidence}` +
      (m.disambiguation_confidence ? `, ${m.disambiguation_confidence}` : "") + "]" : "")));
  if (ent.linking_candidates) row("candidates", String(ent.linking_candidates.length));
  const close = el("button", { class: "close", type: "button", "aria-label": "close" }, "×");
  close.addEventListener("click", () => { box.hidden = true; });
  box.replaceChildren(close, el("h4", {}, ent.match), dl);
  box.hidden = false;
  box.dataset.k = String(k);
}

function highlight(k, on) {
  for (const m of document.querySelectorAll(`mark.ent[data-k="${k}"]`)) m.classList.toggle("hl", on);
}

async function annotate(body) {
  const group = $("group").value;
  const url = group ? `/api/kazu/${encodeURIComponent(group)}` : "/api/kazu/ner_and_linking";
  const headers = { "Content-Type": "application/json" };
  const tok = $("token").value.trim();
  if (tok) headers.Authorization = `Bearer ${tok}`;
  setStatus("annotating…");
  $("annotate").disabled = true;
  try {
    const r = await fetch(url, { method: "POST", headers, body: JSON.stringify(body) });
    const js = await r.json().catch(() => null);
    if (!r.ok) {
      setStatus(`HTTP ${r.status}: ${(js && (js.detail || js.error)) || r.statusText}`, true);
      return;
    }
    renderDocs(Array.isArray(js) ? js : [js]);
  } catch (e) {
    setStatus(`request failed: ${e}`, true);
  } finally {
    $("annotate").disabled = false;
  }
}

function isKazuDoc(x) { return x && typeof x === "object" && Array.isArray(x.sections); }

async function loadFile(file) {
  const text = await file.text();
  const t = text.trimStart();
  if (/\.jsonl?$/i.test(file.name) || t.startsWith("{") || t.startsWith("[")) {
    let js;
    try {
      js = JSON.parse(text);
    } catch (e) {
      setStatus(`${file.name}: not valid JSON (${e.message})`, true);
      return;
    }
    const list = Array.isArray(js) ? js : [js];
    if (list.length && list.every(isKazuDoc)) {
      renderDocs(list);   // already annotated: show as is
      return;
    }
    if (!Array.isArray(js) && typeof js.text === "string") $("text").value = js.text;
    annotate(js);
    return;
  }
  $("text").value = text;
  annotate({ text });
}

function download() {
  if (!lastResult) return;
  const blob = new Blob([JSON.stringify(lastResult.length === 1 ? lastResult[0] : lastResult, null, 2)],
    { type: "application/json" });
  const a = el("a", { href: URL.createObjectURL(blob), download: `kazu-${(lastResult[0] && lastResult[0].idx) || "result"}.json` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

async function loadGroups() {
  try {
    const r = await fetch("/api/step_groups");
    const g = await r.json();
    for (const name of Object.keys(g || {})) $("group").append(el("option", { value: name }, name));
  } catch (e) { /* the page still works with all steps */ }
}

$("annotate").addEventListener("click", () => {
  const text = $("text").value;
  if (!text.trim()) { setStatus("paste some text first", true); return; }
  annotate({ text });
});
$("text").addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) $("annotate").click(); });
$("file").addEventListener("change", (e) => { if (e.target.files[0]) loadFile(e.target.files[0]); });
$("download").addEventListener("click", download);
$("result").addEventListener("click", (e) => {
  const m = e.target.closest("mark.ent");
  if (m) { e.stopPropagation(); showDetails(+m.dataset.k); }
});
$("result").addEventListener("mouseover", (e) => { const m = e.target.closest("mark.ent"); if (m) highlight(m.dataset.k, true); });
$("result").addEventListener("mouseout", (e) => { const m = e.target.closest("mark.ent"); if (m) highlight(m.dataset.k, false); });
window.kazuPage = { renderDocs, annotate, loadFile };   // for tests and the console
loadGroups();
