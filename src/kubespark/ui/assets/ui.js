// kubespark ui: renders the server's JSON; live through server-sent events; no libraries.
// Every text from the cluster goes in through textContent, never as HTML.
"use strict";

const state = { session: null, view: null, filters: { q: "", group: "", kind: "", namespace: "", page: 1 },
  log: null, pendingKey: "" };
window.kubesparkPageLoads = (window.kubesparkPageLoads || 0) + 1;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

async function getJSON(url) {
  const r = await fetch(url, { headers: { Accept: "application/json" } });
  const body = await r.json();
  if (!r.ok) throw new Error(body.error || r.statusText);
  return body;
}

function since(seconds) {
  if (seconds === null || seconds === undefined) return "";
  for (const [unit, size] of [["d", 86400], ["h", 3600], ["m", 60]]) {
    if (seconds >= size) return Math.floor(seconds / size) + unit + (unit === "m" && seconds < 3600 && seconds % 60 ? " " + (seconds % 60) + "s" : "");
  }
  return seconds + "s";
}

function appHash(row) {
  return "#/app/" + [row.kind, row.namespace, row.name].map(encodeURIComponent).join("/");
}

function stateCell(row) {
  const label = row.suspended && !row.state.includes("SUSPEND") ? row.state + " (suspended)" : row.state;
  return el("span", { class: "state g-" + row.group, "data-group": row.group }, label);
}

// -- the list -------------------------------------------------------------------------------

function query() {
  const f = state.filters;
  const p = new URLSearchParams();
  for (const k of ["q", "group", "kind", "namespace"]) if (f[k]) p.set(k, f[k]);
  p.set("page", f.page);
  return p.toString();
}

async function renderList(main) {
  const data = await getJSON("/api/apps?" + query());
  const f = state.filters;
  const focused = document.activeElement && document.activeElement.id;
  const search = el("input", { type: "search", id: "search", placeholder: "search name, state, reason, Spark version (/)",
    "aria-label": "search applications", value: f.q });
  search.addEventListener("input", () => { f.q = search.value; f.page = 1; scheduleRender(150); });
  const groups = [["", "all", data.all], ["failed", "failed"], ["waiting", "waiting"], ["running", "running"],
    ["completed", "completed"], ["other", "other"]];
  const filters = el("div", { class: "filters", role: "group", "aria-label": "state" },
    groups.map(([g, label, n]) => el("button", { type: "button", "aria-pressed": String(f.group === g), "data-group": g,
      onclick: () => { f.group = g; f.page = 1; render(); } },
      `${label} (${n !== undefined ? n : (data.counts[g] || 0)})`)));
  const kind = el("select", { "aria-label": "kind", id: "kind", onchange: (e) => { f.kind = e.target.value; f.page = 1; render(); } },
    [["", "every kind"], ["SparkApplication", "SparkApplication"], ["ScheduledSparkApplication", "ScheduledSparkApplication"],
      ["SparkConnect", "SparkConnect"], ["Submission", "kubespark submit"]].map(([v, t]) => el("option", { value: v, selected: f.kind === v }, t)));
  const ns = el("select", { "aria-label": "namespace", id: "namespace", onchange: (e) => { f.namespace = e.target.value; f.page = 1; render(); } },
    el("option", { value: "" }, "every namespace"),
    data.namespaces.map((n) => el("option", { value: n, selected: f.namespace === n }, n)));
  const head = ["Namespace", "Name", "Kind", "State", "Why", "Attempts", "Executors", "Spark", "Age", "Duration"];
  const table = el("table", { id: "apps" },
    el("caption", { class: "muted" }, `${data.total} of ${data.all} applications`),
    el("thead", {}, el("tr", {}, head.map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, data.rows.map((r) => el("tr", { "data-name": r.name, "data-kind": r.kind, "data-state": r.state },
      el("td", {}, r.namespace),
      el("td", {}, el("a", { href: appHash(r) }, r.name)),
      el("td", {}, r.kind === "Submission" ? "submit" : r.kind.replace("SparkApplication", "") || "SparkApplication"),
      el("td", {}, stateCell(r)),
      el("td", { class: "reason" }, r.reason),
      el("td", { class: "num" }, r.attempts),
      el("td", { class: "num" }, r.executors),
      el("td", {}, r.spark_version),
      el("td", { class: "num" }, since(r.ageSeconds)),
      el("td", { class: "num" }, since(r.durationSeconds))))));
  const pager = el("div", { class: "pager" },
    el("button", { type: "button", id: "prev", disabled: data.page <= 1, onclick: () => { f.page = data.page - 1; render(); } }, "‹ newer"),
    el("span", {}, `page ${data.page} of ${data.pages}`),
    el("button", { type: "button", id: "next", disabled: data.page >= data.pages, onclick: () => { f.page = data.page + 1; render(); } }, "older ›"));
  main.replaceChildren(el("h1", {}, "Spark applications"),
    el("div", { class: "toolbar" }, search, filters, kind, ns), table, pager);
  state.pages = data.pages;
  showProblems(data.problems);
  if (focused === "search") { search.focus(); search.setSelectionRange(search.value.length, search.value.length); }
  return data.version;
}

// -- one application ---------------------------------------------------------------------------

function facts(pairs) {
  return el("dl", { class: "facts" }, pairs.filter(([, v]) => v !== "" && v !== null && v !== undefined)
    .map(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
}

function actionBar(row) {
  const s = state.session;
  if (!s || !s.actions) return null;
  const allowed = s.allowed[row.kind] || [];
  const result = el("span", { class: "result", role: "status", id: "action-result" });
  const buttons = allowed.filter((a) => !(a === "suspend" && row.suspended) && !(a === "resume" && !row.suspended))
    .map((a) => el("button", { type: "button", "data-action": a, onclick: () => act(a, row, result) }, a));
  return el("div", { class: "actions", id: "actions" }, buttons, result);
}

async function act(action, row, result) {
  if (action === "delete" && !window.confirm(`Delete ${row.kind} ${row.namespace}/${row.name}?`)) return;
  result.className = "result";
  result.textContent = action + "…";
  const r = await fetch("/api/action", { method: "POST", headers: { "Content-Type": "application/json",
    "X-CSRF-Token": state.session.csrf }, body: JSON.stringify({ action, kind: row.kind, namespace: row.namespace, name: row.name }) });
  const body = await r.json();
  result.className = r.ok ? "result" : "result bad";
  result.textContent = r.ok ? body.message : `refused (HTTP ${r.status}): ${body.error}`;
}

function diagnosisBox(report) {
  if (!report) return el("p", { class: "muted" }, "the doctor found nothing to say");
  const parts = [];
  const errors = (report.failure && report.failure.errors) || [];
  // The driver's own words first: an error its log shows, else the first the doctor read.
  const first = errors.find((c) => String(c.line.source).includes("log of pod")) || (report.failure && report.failure.first_error);
  if (first) {
    parts.push(el("p", {}, el("strong", {}, "The driver's error: "), el("code", { id: "first-error", "data-source": first.line.source }, first.line.text),
      el("span", { class: "muted" }, ` (${first.line.source}, line ${first.line.line})`)));
    if (first.root_cause && first.root_cause.text !== first.line.text) {
      parts.push(el("p", {}, "root cause: ", el("code", {}, first.root_cause.text)));
    }
  }
  for (const d of report.diagnoses) {
    parts.push(el("div", { class: "diagnosis", "data-issue": d.issue },
      el("h3", {}, `${d.title} (${d.confidence})`),
      el("p", {}, d.root_cause),
      el("ol", { class: "remedies" }, d.remedies.map((m) => el("li", {}, `[${m.cost}] ${m.action}`, m.detail ? " — " + m.detail : "")))));
  }
  if (report.generic) parts.push(el("p", {}, "API answer: " + (report.generic.summary || JSON.stringify(report.generic))));
  if (!parts.length) parts.push(el("p", { class: "muted" }, "no known issue matched; see the log and events"));
  return el("div", { id: "diagnosis" }, parts);
}

function runsTimeline(runs) {
  if (!runs.length) return el("p", { class: "muted" }, "no runs yet");
  const longest = Math.max(1, ...runs.map((r) => r.durationSeconds || 0));
  return el("div", {},
    el("div", { class: "timeline", role: "list", "aria-label": "runs, oldest first" }, runs.map((r) => {
      const bar = el("a", { href: appHash(r), role: "listitem", class: "g-" + r.group,
        title: `${r.name}: ${r.state}, ${since(r.durationSeconds)}`, "aria-label": `${r.name}: ${r.state}` });
      bar.style.height = Math.max(4, Math.round(80 * (r.durationSeconds || 0) / longest)) + "px";  // CSSOM: allowed by the CSP
      return bar;
    })),
    el("table", { id: "runs" }, el("thead", {}, el("tr", {}, ["Run", "State", "Started", "Duration"].map((h) => el("th", {}, h)))),
      el("tbody", {}, runs.slice().reverse().map((r) => el("tr", {}, el("td", {}, el("a", { href: appHash(r) }, r.name)),
        el("td", {}, stateCell(r)), el("td", {}, r.started || r.created), el("td", { class: "num" }, since(r.durationSeconds)))))));
}

async function renderApp(main, kind, namespace, name) {
  const key = `kind=${encodeURIComponent(kind)}&namespace=${encodeURIComponent(namespace)}&name=${encodeURIComponent(name)}`;
  let page;
  try { page = await getJSON("/api/app?" + key); } catch (e) {
    main.replaceChildren(el("h1", {}, name), el("p", { id: "gone" }, `${kind} ${namespace}/${name}: ${e.message}`),
      el("a", { href: "#/" }, "back to the list"));
    stopLog();
    return null;
  }
  const row = page.row;
  const connect = page.connect;  // a SparkConnect: a Spark Connect server, not a batch driver
  const blocks = [el("p", {}, el("a", { href: "#/" }, "‹ applications")),
    el("h1", {}, `${row.name} `, stateCell(row)), actionBar(row)];
  blocks.push(el("div", { class: "box" }, facts([["kind", row.kind], ["namespace", row.namespace],
    ["Spark", row.spark_version], ["attempts", row.attempts], ["schedule", row.schedule],
    ["created", row.created], ["age", since(row.ageSeconds)], [connect ? "up for" : "duration", since(row.durationSeconds)],
    [connect ? "server pod" : "driver pod", page.driver.pod + (connect && page.driver.phase ? ` (${page.driver.phase})` : "")],
    ["executors", row.executors]])));
  if (connect) {
    blocks.push(el("div", { class: "box", id: "connect" }, facts([
      ["clients dial", connect.address ? el("code", { id: "connect-address" }, connect.address) : ""],
      ["service", connect.service], ["server pod IP", connect.podIp]])));
  }
  if (page.waiting) {
    blocks.push(el("div", { class: "box warn", id: "waiting" }, el("strong", {}, connect ? "Why it is not ready: " : "Why it waits: "),
      `${page.waiting.reason}`, page.waiting.message ? ": " + page.waiting.message : ""));
  }
  if (page.error) blocks.push(el("div", { class: "box bad", id: "error" }, el("strong", {}, "Error: "), page.error));
  if (page.diagnosable) {
    const holder = el("div", { class: "box bad", id: "diagnosis-box" }, el("h2", {}, "Diagnosis"), el("p", { class: "muted" }, "the doctor is reading the driver's log…"));
    blocks.push(holder);
    getJSON("/api/diagnosis?" + key).then((d) => holder.replaceChildren(el("h2", {}, "Diagnosis"), diagnosisBox(d.report)))
      .catch((e) => holder.replaceChildren(el("h2", {}, "Diagnosis"), el("p", {}, e.message)));
  }
  if (page.sparkUI) blocks.push(el("p", {}, el("a", { href: page.sparkUI, id: "spark-ui", target: "_blank", rel: "noopener" }, "Spark UI (through the API server's service proxy)")));
  if (page.notes.length) blocks.push(el("h2", {}, "Compat notes"), el("ul", { id: "notes" }, page.notes.map((n) => el("li", {}, n))));
  if (page.runs) blocks.push(el("h2", {}, "Runs"), runsTimeline(page.runs));
  blocks.push(el("h2", {}, "State history"), el("table", { id: "history" }, el("tbody", {},
    page.history.map((h) => el("tr", {}, el("td", { class: "num" }, h.time), el("td", {}, h.state), el("td", { class: "reason" }, h.detail))))));
  if (page.executors.length) {
    blocks.push(el("h2", {}, "Executors"), el("table", { id: "executors" },
      el("thead", {}, el("tr", {}, ["Pod", "Phase", "State", "Node", "Started"].map((h) => el("th", {}, h)))),
      el("tbody", {}, page.executors.map((x) => el("tr", {}, el("td", {}, x.name), el("td", {}, x.phase), el("td", {}, x.state || ""), el("td", {}, x.node), el("td", {}, x.started))))));
  }
  blocks.push(el("h2", {}, "Events"), page.events.length ? el("table", { id: "events" }, el("tbody", {},
    page.events.map((e) => el("tr", {}, el("td", { class: "num" }, e.time), el("td", {}, e.type), el("td", {}, `${e.kind}/${e.name}`),
      el("td", {}, e.reason + (e.count > 1 ? ` (x${e.count})` : "")), el("td", { class: "reason" }, e.message))))) : el("p", { class: "muted" }, "none"));
  const logBox = el("pre", { class: "log", id: "log", tabindex: "0", "aria-label": connect ? "server log" : "driver log" });
  if (page.driver.pod) blocks.push(el("h2", {}, connect ? "Server log " : "Driver log ", el("span", { class: "muted", id: "log-state" }, "")), logBox);
  if (page.spec) blocks.push(el("details", {}, el("summary", {}, "Spec (credentials redacted)"), el("pre", { class: "spec", id: "spec" }, JSON.stringify(page.spec, null, 2))));
  const old = document.getElementById("log");
  main.replaceChildren(...blocks.filter(Boolean));
  if (page.driver.pod) followLog(namespace, page.driver.pod, logBox, old);
  return null;
}

function stopLog() {
  if (state.log) { state.log.source.close(); state.log = null; }
}

function followLog(namespace, pod, box, old) {
  const id = namespace + "/" + pod;
  if (state.log && state.log.id === id && old) {
    box.replaceWith(old);  // the same driver: keep the lines already streamed
    return;
  }
  stopLog();
  const source = new EventSource(`/api/log?namespace=${encodeURIComponent(namespace)}&pod=${encodeURIComponent(pod)}`);
  state.log = { id, source };
  const note = () => document.getElementById("log-state");
  source.addEventListener("line", (e) => {
    const target = document.getElementById("log");
    if (!target) return;
    const stick = target.scrollTop + target.clientHeight >= target.scrollHeight - 4;
    target.append(JSON.parse(e.data) + "\n");
    while (target.childNodes.length > 2000) target.removeChild(target.firstChild);
    if (stick) target.scrollTop = target.scrollHeight;
    if (note()) note().textContent = "(live)";
  });
  source.addEventListener("end", (e) => {
    if (note()) note().textContent = "(" + JSON.parse(e.data) + ")";
    source.close();
  });
}

// -- the cluster -------------------------------------------------------------------------------

async function renderCluster(main) {
  const data = await getJSON("/api/cluster");
  const rows = data.rows.map((r) => el("tr", { "data-spark": r.spark },
    el("td", {}, r.spark), el("td", { class: "num" }, r.applications),
    r.paths.map((p) => el("td", {}, el("span", { class: "verdict-" + p.verdict }, p.verdict),
      p.issues.map((i) => el("div", { class: "muted" }, `${i.id}: ${i.title}`, i.remedy ? ` — ${i.remedy}` : ""))))));
  main.replaceChildren(el("h1", {}, "Cluster"),
    el("div", { class: "box" }, facts([["Kubernetes", data.version || "unknown"], ["platform", data.platform], ["watching", data.watching]])),
    el("h2", {}, "Compatibility of the Spark versions in use on this cluster"),
    data.rows.length ? el("table", { id: "compat" },
      el("thead", {}, el("tr", {}, ["Spark", "Apps", ...(data.rows[0].paths.map((p) => p.path))].map((h) => el("th", {}, h)))),
      el("tbody", {}, rows)) : el("p", { class: "muted" }, "no applications with a Spark version yet"));
  showProblems(data.problems);
  return null;
}

// -- routing, live updates, keys ---------------------------------------------------------------

function showProblems(problems) {
  const box = document.getElementById("notice");
  box.hidden = !problems || !problems.length;
  box.textContent = (problems || []).join(" · ");
}

let timer = null;
function scheduleRender(delay) {
  clearTimeout(timer);
  timer = setTimeout(render, delay);
}

let rendering = Promise.resolve();
function render() {
  rendering = rendering.then(renderNow, renderNow);
  return rendering;
}

async function renderNow() {
  const main = document.getElementById("main");
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  for (const a of document.querySelectorAll("nav a")) a.removeAttribute("aria-current");
  try {
    if (parts[0] === "app" && parts.length >= 4) {
      await renderApp(main, parts[1], parts[2], parts.slice(3).join("/"));
    } else if (parts[0] === "cluster") {
      stopLog();
      document.getElementById("nav-cluster").setAttribute("aria-current", "page");
      await renderCluster(main);
    } else {
      stopLog();
      document.getElementById("nav-apps").setAttribute("aria-current", "page");
      await renderList(main);
    }
    document.body.dataset.rendered = String(Number(document.body.dataset.rendered || 0) + 1);
  } catch (e) {
    main.replaceChildren(el("p", { class: "box bad" }, "could not load: " + e.message));
  }
}

function connect() {
  const live = document.getElementById("live");
  const source = new EventSource("/api/stream");
  source.addEventListener("hello", () => { live.textContent = "live"; live.className = "live on"; });
  source.addEventListener("change", (e) => {
    document.body.dataset.cacheVersion = JSON.parse(e.data).version;
    scheduleRender(100);
  });
  source.onerror = () => { live.textContent = "reconnecting…"; live.className = "live"; };
}

let pendingG = false;
function onKey(e) {
  const typing = ["INPUT", "SELECT", "TEXTAREA"].includes(document.activeElement.tagName);
  if (e.key === "Escape") {
    if (typing) document.activeElement.blur();
    else if (location.hash.startsWith("#/app/")) location.hash = "#/";
    return;
  }
  if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
  if (e.key === "/") { const s = document.getElementById("search"); if (s) { e.preventDefault(); s.focus(); } }
  else if (pendingG && e.key === "a") { location.hash = "#/"; }
  else if (pendingG && e.key === "c") { location.hash = "#/cluster"; }
  else if (e.key === "]" && document.getElementById("next") && !document.getElementById("next").disabled) document.getElementById("next").click();
  else if (e.key === "[" && document.getElementById("prev") && !document.getElementById("prev").disabled) document.getElementById("prev").click();
  pendingG = e.key === "g";
}

async function start() {
  state.session = await getJSON("/api/session");
  document.getElementById("server").textContent =
    `${state.session.server} · Kubernetes ${state.session.version || "?"} · ${state.session.watching}` +
    (state.session.actions ? " · actions on" : " · read-only");
  window.addEventListener("hashchange", () => { render().then(() => document.getElementById("main").focus({ preventScroll: true })); });
  document.addEventListener("keydown", onKey);
  await render();
  connect();
}

document.addEventListener("DOMContentLoaded", start);
