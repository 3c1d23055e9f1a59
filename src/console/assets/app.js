// lb console: one page over lb's /api (no libraries, works offline).
"use strict";

const $ = (sel, root = document) => root.querySelector(sel);
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
const ms = (s) => (s == null ? "" : (s * 1000).toFixed(s < 0.01 ? 2 : 1));
const api = async (path, opt) => {
  const r = await fetch(path, opt);
  return { status: r.status, body: await r.json() };
};

// --- views -----------------------------------------------------------------------------------

const views = ["requests", "rules", "target-groups", "functions", "charts", "explain"];
let current = "requests";
let chartTimer = null;

function show(view) {
  current = view;
  for (const v of views) $("#view-" + v).hidden = v !== view;
  for (const b of document.querySelectorAll("nav button")) {
    if (b.dataset.view === view) b.setAttribute("aria-current", "page");
    else b.removeAttribute("aria-current");
  }
  if (location.hash.slice(1).split("/")[0] !== view) history.replaceState(null, "", "#" + view);
  clearInterval(chartTimer);
  if (view === "rules") loadRules();
  if (view === "target-groups") loadTargetGroups();
  if (view === "functions") loadFunctions();
  if (view === "charts") { loadCharts(); chartTimer = setInterval(loadCharts, 2000); }
}

for (const b of document.querySelectorAll("nav button")) b.addEventListener("click", () => show(b.dataset.view));

// --- requests ----------------------------------------------------------------------------------

const rows = $("#requests tbody");
let selected = null;

function filters() {
  const f = new FormData($("#filters"));
  const q = new URLSearchParams();
  for (const [k, v] of f) if (v.trim()) q.set(k, v.trim());
  return q;
}

function statusClass(s) { return "s" + String(s)[0]; }

function row(s, fresh) {
  const tr = document.createElement("tr");
  tr.tabIndex = 0;
  tr.dataset.id = s.id;
  if (fresh) {
    tr.className = "fresh";
    tr.addEventListener("animationend", () => tr.classList.remove("fresh"), { once: true });
  }
  const target = s.function ? `λ ${s.function}${s.function_version ? ":" + s.function_version : ""}` :
    s.target_group ? `→ ${s.target_group} ${s.target_address || ""}` : "";
  tr.innerHTML = `<td>${s.id}</td><td>${esc(s.time.slice(11, 23))}</td><td>${esc(s.method)}</td>` +
    `<td class="url" title="${esc(s.target)}">${esc(s.target)}</td>` +
    `<td>${s.rule_priority == null ? "-" : s.rule_priority === 0 ? "default" : s.rule_priority}</td>` +
    `<td>${esc(s.action || "-")} ${esc(target)} ${s.cold ? '<span class="tag cold">cold</span>' : ""}</td>` +
    `<td class="${statusClass(s.status)}">${s.status}</td><td>${ms(s.duration)}</td><td>${esc(s.error_reason || "")}</td>`;
  tr.addEventListener("click", () => open(s.id));
  tr.addEventListener("keydown", (e) => { if (e.key === "Enter") open(s.id); });
  return tr;
}

async function loadRequests() {
  const q = filters();
  q.set("limit", "200");
  const { body } = await api("/api/requests?" + q);
  rows.replaceChildren(...body.requests.map((s) => row(s, false)));
  $("#empty").hidden = body.requests.length > 0;
  mark();
}

function matches(s) {
  const f = filters();
  if (f.get("function") && s.function !== f.get("function")) return false;
  if (f.get("status")) {
    const w = f.get("status");
    if (/^\dxx$/i.test(w) ? String(s.status)[0] !== w[0] : String(s.status) !== w) return false;
  }
  if (f.get("rule")) {
    const w = f.get("rule");
    if (/^\d+$/.test(w) ? s.rule_priority !== +w : s.rule !== w) return false;
  }
  return !f.get("header");   // header filters need the server: reload instead
}

function onEvent(s) {
  if (filters().get("header")) { loadRequests(); return; }
  if (!matches(s)) return;
  rows.prepend(row(s, true));
  while (rows.children.length > 200) rows.lastChild.remove();
  $("#empty").hidden = true;
  mark();
}

function mark() {
  for (const tr of rows.children) tr.classList.toggle("sel", +tr.dataset.id === selected);
}

$("#filters").addEventListener("submit", (e) => { e.preventDefault(); loadRequests(); });
$("#filters").addEventListener("reset", () => setTimeout(loadRequests));

// --- one request ----------------------------------------------------------------------------------

function block(title, f, json) {
  if (!f) return "";
  let text = f.text;
  if (json && f.json !== undefined) text = JSON.stringify(f.json, null, 2);
  return `<h3>${esc(title)}${f.truncated ? ' <span class="truncated">(truncated at the body limit)</span>' : ""}</h3><pre>${esc(text)}</pre>`;
}

function timingBar(t) {
  const parts = [["request", t.request_processing, "var(--muted)"], ["target", t.target_processing, "var(--accent)"],
                 ["response", t.response_processing, "var(--ok)"]].filter((p) => p[1] != null && p[1] >= 0);
  const total = parts.reduce((a, p) => a + p[1], 0) || 1;
  let x = 0, out = "";
  for (const [name, v, color] of parts) {
    const w = Math.max(0.5, (v / total) * 100);
    out += `<rect x="${x}%" y="4" width="${w}%" height="14" fill="${color}"><title>${name}: ${ms(v)} ms</title></rect>`;
    x += w;
  }
  return `<svg class="timing" role="img" aria-label="timing breakdown">${out}</svg>`;
}

async function open(id) {
  selected = id;
  mark();
  const { status, body: d } = await api("/api/requests/" + id);
  const el = $("#detail");
  el.hidden = false;
  if (status !== 200) { el.innerHTML = `<p>${esc(d.error)}</p>`; return; }
  const t = d.timing, l = d.lambda;
  el.innerHTML =
    `<div class="bar"><h2>#${d.id} ${esc(d.method)} ${esc(d.target)}</h2>` +
    `<button id="replay">Replay</button><button id="close" aria-label="Close detail">✕</button></div>` +
    `<dl class="kv"><dt>status</dt><dd class="${statusClass(d.status)}">${d.status}${d.target_status ? " (target " + d.target_status + ")" : ""}</dd>` +
    `<dt>time</dt><dd>${esc(d.time)}</dd><dt>client</dt><dd>${esc(d.client)} → ${esc(d.listener)}</dd>` +
    `<dt>rule</dt><dd>${d.rule_priority == null ? "-" : esc((d.rule_priority || "default") + " " + (d.rule || ""))}</dd>` +
    `<dt>action</dt><dd>${esc(d.action || "-")} ${esc(d.target_group || "")} ${esc(d.target_address || "")}</dd>` +
    (l ? `<dt>function</dt><dd>${esc(l.function)}${l.qualifier ? ":" + esc(l.qualifier) : ""} → version ${esc(l.version || "-")} ` +
         `${l.cold === null ? "" : l.cold ? '<span class="tag cold">cold start</span>' : '<span class="tag">warm</span>'}</dd>` +
         `<dt>request id</dt><dd>${esc(l.request_id || "-")} (${esc(l.status || "not invoked")})</dd>` : "") +
    `<dt>error</dt><dd>${esc(d.error_reason || "-")}</dd><dt>trace</dt><dd>${esc(d.trace_id || "-")}</dd>` +
    `<dt>timing</dt><dd>total ${ms(t.total)} ms · lb ${ms(t.request_processing)} · target ${ms(t.target_processing)} · ` +
    `response ${ms(t.response_processing)}${t.invocation != null ? " · invocation " + ms(t.invocation) + (t.queued ? " (queued " + ms(t.queued) + ")" : "") : ""}</dd></dl>` +
    timingBar(t) +
    `<p id="replayed" class="muted" role="status"></p>` +
    (d.rule_evaluation ? `<h3>Rule evaluation <span class="muted">(lb explain, current configuration)</span></h3><pre>${esc(d.rule_evaluation)}</pre>` : "") +
    block("Request as received", d.request.head) + (d.request.body && d.request.body.text ? block("Body", d.request.body) : "") +
    block("Headers toward the target", d.headers_to_target) +
    (l ? block("Event sent", l.event, true) + block("Result received", l.result, true) + block("Function log", l.log) : "") +
    (d.redirect_url ? `<h3>Redirect</h3><pre>${esc(d.redirect_url)}</pre>` : "");
  $("#close").addEventListener("click", close);
  $("#replay").addEventListener("click", async () => {
    const r = await api(`/api/requests/${d.id}/replay`, { method: "POST" });
    $("#replayed").textContent = r.status === 200 ? `replayed: answered ${r.body.status}` : `not replayed: ${r.body.error}`;
  });
  el.focus();
}

function close() {
  $("#detail").hidden = true;
  selected = null;
  mark();
  const tr = rows.firstElementChild;
  if (tr) tr.focus();
}

// --- live stream ----------------------------------------------------------------------------------

function connect() {
  const es = new EventSource("/api/stream");
  const live = $("#live");
  es.addEventListener("open", () => { live.className = "on"; live.textContent = "live"; });
  es.addEventListener("error", () => { live.className = "off"; live.textContent = "reconnecting…"; });
  es.addEventListener("message", (e) => onEvent(JSON.parse(e.data)));
}

// --- rules, target groups, functions -------------------------------------------------------------------

async function loadRules() {
  const { body } = await api("/api/rules");
  $("#view-rules").innerHTML = body.listeners.map((l) =>
    `<h2>Listener ${esc(l.address)}:${l.port}</h2><table><thead><tr><th>priority</th><th>conditions</th><th>action</th><th>source</th><th>hits</th></tr></thead><tbody>` +
    l.rules.map((r) => `<tr><td>${r.default ? "default" : r.priority}</td><td>${r.conditions.map(esc).join("<br>") || "-"}</td>` +
      `<td>${esc(r.action)}</td><td class="muted">${esc(r.source || "")}</td><td>${r.hits}</td></tr>`).join("") +
    `</tbody></table>`).join("");
}

async function loadTargetGroups() {
  const { body } = await api("/api/target-groups");
  $("#view-target-groups").innerHTML = `<div class="cards">` + body.target_groups.map((g) =>
    `<div class="card"><h2>${esc(g.name)} <span class="tag">${esc(g.target_type)}</span></h2>` +
    `<p class="muted">${esc(g.arn)}<br>health checks ${g.health_check ? "on" : "off"}</p>` +
    `<table><thead><tr><th>target</th><th>state</th><th>reason</th><th>in flight</th></tr></thead><tbody>` +
    g.targets.map((t) => `<tr><td>${esc(t.id)}</td><td><span class="tag ${esc(t.state)}">${esc(t.state)}</span></td>` +
      `<td>${esc(t.reason || "")}</td><td>${t.in_flight ?? "-"}</td></tr>`).join("") +
    `</tbody></table></div>`).join("") + `</div>`;
}

async function loadFunctions() {
  const { body } = await api("/api/functions");
  $("#view-functions").innerHTML = `<div class="cards">` + body.functions.map((f) =>
    `<div class="card"><h2>${esc(f.name)} <span class="tag">${esc(f.runtime || f.endpoint || "")}</span></h2>` +
    `<dl class="kv"><dt>sandboxes</dt><dd>${f.sandboxes.warm} warm · ${f.sandboxes.busy} busy · ${f.sandboxes.starting} starting · ${f.sandboxes.queued} queued</dd>` +
    `<dt>concurrency</dt><dd>${f.concurrent_executions} of ${f.reserved_concurrent_executions ?? "10 (default)"}</dd>` +
    `<dt>invocations</dt><dd>${f.invocations} (${f.cold_starts} cold) · ${f.errors} errors · ${f.throttles} throttles</dd>` +
    `<dt>timeout</dt><dd>${f.timeout} s · ${f.memory_size} MB</dd>` +
    `<dt>versions</dt><dd>$LATEST${f.versions.map((v) => ", " + esc(v.version)).join("")}</dd>` +
    `<dt>aliases</dt><dd>${f.aliases.map((a) => esc(a.name) + " → " + esc(a.function_version) +
      (a.additional_version ? ` (+${esc(a.additional_version)} ${Math.round(a.additional_weight * 100)}%)` : "")).join(", ") || "-"}</dd>` +
    `<dt>environment</dt><dd>${Object.entries(f.environment).map(([k, v]) => esc(k) + "=" + esc(v)).join("<br>") || "-"}</dd></dl></div>`
  ).join("") + `</div>`;
}

// --- charts ---------------------------------------------------------------------------------------------

function lineChart(title, series, now, span, unit) {
  const W = 600, H = 150, P = 24;
  const max = Math.max(1e-9, ...series.flatMap((s) => s.points.map((p) => p[1])));
  const x = (t) => P + ((t - (now - span)) / span) * (W - 2 * P);
  const y = (v) => H - P - (v / max) * (H - 2 * P);
  const lines = series.map((s) => `<polyline fill="none" stroke="${s.color}" stroke-width="1.5" points="${
    s.points.map((p) => x(p[0]).toFixed(1) + "," + y(p[1]).toFixed(1)).join(" ")}"><title>${esc(s.name)}</title></polyline>`).join("");
  const fmt = (v) => unit === "ms" ? v.toFixed(v < 10 ? 1 : 0) + " ms" : String(Math.round(v * 10) / 10);
  // Labels live outside the SVG, which stretches to the card's width.
  return `<div class="card"><h3>${esc(title)} <span class="muted">max ${fmt(max)}</span></h3>` +
    `<svg class="chart" viewBox="0 0 ${W} ${H}" preserveAspectRatio="none" role="img" aria-label="${esc(title)}">` +
    `<line x1="${P}" y1="${H - P}" x2="${W - P}" y2="${H - P}" stroke="var(--line)"/>${lines}</svg>` +
    `<div class="axis"><span>-${span / 60} min</span><span>now</span></div>` +
    `<div class="legend">${series.map((s) => `<span><i style="background:${s.color}"></i>${esc(s.name)}</span>`).join("")}</div></div>`;
}

function percentile(counts, bounds, q) {
  const total = counts.reduce((a, b) => a + b, 0);
  if (!total) return null;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i];
    if (seen >= q * total) return (i < bounds.length ? bounds[i] : bounds[bounds.length - 1] * 2) * 1000;
  }
  return null;
}

async function loadCharts() {
  const { body } = await api("/api/charts");
  const span = 300, now = body.now, step = 10;
  const windows = new Map();
  for (const t of body.ticks) {
    const w = t.time - (t.time % step);
    const acc = windows.get(w) || { requests: 0, invocations: 0, errors: 0, throttles: 0, elb5: 0, d: new Array(t.duration.length).fill(0) };
    acc.requests += t.requests; acc.invocations += t.invocations; acc.errors += t.errors;
    acc.throttles += t.throttles; acc.elb5 += t.elb_5xx;
    t.duration.forEach((c, i) => (acc.d[i] += c));
    windows.set(w, acc);
  }
  const pts = (f) => {
    const out = [];
    for (let w = now - span - (now % step); w <= now; w += step) {
      const a = windows.get(w);
      const v = a ? f(a) : 0;
      if (v != null) out.push([w + step / 2, v]);
    }
    return out;
  };
  const pct = (q) => pts((a) => percentile(a.d, body.duration_bounds, q) ?? 0);
  $("#view-charts").innerHTML = `<p class="muted">Last 5 minutes, per ${step} s.</p><div class="cards">` +
    lineChart("Requests", [{ name: "requests", color: "var(--accent)", points: pts((a) => a.requests) },
                           { name: "ELB 5XX", color: "var(--bad)", points: pts((a) => a.elb5) }], now, span) +
    lineChart("Lambda invocations", [{ name: "invocations", color: "var(--accent)", points: pts((a) => a.invocations) },
                                     { name: "errors", color: "var(--bad)", points: pts((a) => a.errors) },
                                     { name: "throttles", color: "var(--warn)", points: pts((a) => a.throttles) }], now, span) +
    lineChart("Duration percentiles (bucket upper bounds)", [{ name: "p50", color: "var(--ok)", points: pct(0.5) },
                                     { name: "p90", color: "var(--warn)", points: pct(0.9) },
                                     { name: "p99", color: "var(--bad)", points: pct(0.99) }], now, span, "ms") +
    `</div>`;
}

// --- explain -----------------------------------------------------------------------------------------------

$("#explain").addEventListener("submit", async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  const q = new URLSearchParams({ url: f.get("url") });
  if (f.get("method").trim()) q.set("method", f.get("method").trim());
  for (const h of f.get("headers").split("\n")) if (h.trim()) q.append("header", h.trim());
  const { body } = await api("/api/explain?" + q);
  $("#explain-out").textContent = body.text || body.error;
});

// --- keyboard -------------------------------------------------------------------------------------------------

document.addEventListener("keydown", (e) => {
  const typing = /^(INPUT|TEXTAREA)$/.test(e.target.tagName);
  if (e.key === "Escape") { if (typing) e.target.blur(); else if (!$("#detail").hidden) close(); return; }
  if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
  if (e.key >= "1" && e.key <= "6") { show(views[+e.key - 1]); return; }
  if (e.key === "/" && current === "requests") { e.preventDefault(); $("#filters input").focus(); return; }
  if ((e.key === "j" || e.key === "k") && current === "requests") {
    const list = [...rows.children];
    if (!list.length) return;
    let i = list.indexOf(document.activeElement.closest ? document.activeElement.closest("tr") : null);
    i = i < 0 ? 0 : Math.min(list.length - 1, Math.max(0, i + (e.key === "j" ? 1 : -1)));
    list[i].focus();
  }
});

// --- start --------------------------------------------------------------------------------------------------------

const start = location.hash.slice(1).split("/")[0];
show(views.includes(start) ? start : "requests");
loadRequests().then(connect);
