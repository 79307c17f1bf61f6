// The live dashboard page. It signs in either through Element's widget API (an
// OpenID token the service has the user's homeserver confirm) or with a one-time
// link from !dashboard, then reads server-sent events with fetch (EventSource
// cannot send the session token, and a cookie would not reach a page framed by
// another site) and redraws on each snapshot. Text only ever goes in through
// textContent: names and room IDs come from other people.
"use strict";
(() => {
  const params = new URLSearchParams(location.search);
  const tenant = params.get("tenant") || "";
  const inFrame = window.parent !== window;
  const $ = (id) => document.getElementById(id);

  // ---- theme -------------------------------------------------------------------
  function applyTheme(name) {
    if (/dark/i.test(name || "")) document.documentElement.dataset.theme = "dark";
    else if (/light/i.test(name || "")) document.documentElement.dataset.theme = "light";
  }
  applyTheme(params.get("theme"));

  // ---- small helpers -------------------------------------------------------------
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v !== undefined && v !== null) node.setAttribute(k, v);
    }
    for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return node;
  }
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  function duration(seconds) {
    if (seconds === null || seconds === undefined || !isFinite(seconds)) return "–";
    const s = Math.max(0, Math.round(seconds));
    if (s < 60) return `${s} s`;
    const m = Math.floor(s / 60);
    if (m < 60) return `${m} min ${String(s % 60).padStart(2, "0")} s`;
    return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
  }
  const percent = (x) => (x === null || x === undefined ? "–" : `${Math.round(x * 100)} %`);
  const statusNames = {
    ready: "Ready", busy: "Busy", on_call: "On a call", wrap_up: "Wrap-up", away: "Away", offline: "Offline",
  };
  const statusOrder = ["ready", "busy", "on_call", "wrap_up", "away", "offline"];

  // ---- page state ----------------------------------------------------------------
  let session = null; // {token, expires_at, role, user_id, tenant}
  let mode = null; // "widget" or "link"
  let snapshot = null;
  let clockOffset = 0; // server clock minus this browser's
  let lastAt = 0;
  let receivedAt = 0;
  let streamAbort = null;

  function setConnection(state, text) {
    const c = $("connection");
    c.dataset.state = state;
    c.textContent = text;
  }
  function showMessage(text) {
    const m = $("message");
    m.textContent = text;
    m.hidden = !text;
  }
  class UserError extends Error {}

  // ---- the widget API (postMessage with Element) ---------------------------------
  const widget = {
    id: params.get("widgetId"),
    origin: (() => {
      try { return new URL(params.get("parentUrl")).origin; } catch { return null; }
    })(),
    pending: new Map(), // requestId -> resolve(response)
    credentials: new Map(), // get_openid requestId -> resolve(data of openid_credentials)
    idWaiters: [],
    seq: 0,
  };
  function postToClient(message) {
    window.parent.postMessage(message, widget.origin || "*");
  }
  window.addEventListener("message", (ev) => {
    if (!inFrame || ev.source !== window.parent) return;
    if (widget.origin && ev.origin !== widget.origin) return;
    const m = ev.data;
    if (!m || typeof m !== "object" || typeof m.action !== "string" || !m.requestId) return;
    if (m.api === "fromWidget" && m.response !== undefined) {
      const resolve = widget.pending.get(m.requestId);
      if (resolve) {
        widget.pending.delete(m.requestId);
        resolve(m.response);
      }
      return;
    }
    if (m.api !== "toWidget" || m.response !== undefined) return;
    if (!widget.id && m.widgetId) {
      widget.id = m.widgetId;
      widget.idWaiters.splice(0).forEach((f) => f());
    }
    if (m.widgetId !== widget.id) return;
    let response = {};
    switch (m.action) {
      case "capabilities":
        response = { capabilities: [] }; // it needs none: OpenID is asked for separately
        break;
      case "supported_api_versions":
        response = { supported_versions: ["0.0.1", "0.0.2"] };
        break;
      case "openid_credentials": {
        const resolve = widget.credentials.get(m.data && m.data.original_request_id);
        if (resolve) {
          widget.credentials.delete(m.data.original_request_id);
          resolve(m.data);
        }
        break;
      }
      case "theme_change":
        applyTheme(m.data && m.data.name);
        break;
    }
    postToClient({ ...m, response });
  });
  function widgetRequest(action, data) {
    const requestId = `dashboard-${++widget.seq}-${Date.now()}`;
    const answered = new Promise((resolve) => widget.pending.set(requestId, resolve));
    postToClient({ api: "fromWidget", widgetId: widget.id, requestId, action, data });
    return { requestId, answered };
  }
  async function widgetID() {
    if (widget.id) return;
    // Element names the widget in the URL; another client may only in its first request.
    await Promise.race([
      new Promise((resolve) => widget.idWaiters.push(resolve)),
      sleep(15000).then(() => { throw new UserError("Element did not start the widget. Reload the room."); }),
    ]);
  }
  async function openIDCredentials() {
    await widgetID();
    const { requestId, answered } = widgetRequest("get_openid", {});
    // Set up before the answer: the credentials may follow right after it.
    const later = new Promise((resolve) => widget.credentials.set(requestId, resolve));
    let creds = await answered;
    if (creds && creds.error) throw new UserError(`Element refused: ${creds.error.message || "error"}`);
    if (creds && creds.state === "request") {
      showMessage("Allow the dashboard to confirm your identity in the dialog Element shows.");
      creds = await later;
      showMessage("");
    } else {
      widget.credentials.delete(requestId);
    }
    if (!creds || creds.state !== "allowed" || !creds.access_token) {
      throw new UserError("The dashboard needs to confirm who you are. Reload the widget and allow it.");
    }
    return creds;
  }

  // ---- sessions --------------------------------------------------------------------
  async function post(path, body, token) {
    const headers = { "Content-Type": "application/json" };
    if (token) headers.Authorization = `Bearer ${token}`;
    const resp = await fetch(path, { method: "POST", headers, body: JSON.stringify(body || {}), cache: "no-store" });
    const data = await resp.json().catch(() => ({}));
    if (!resp.ok) {
      const err = new UserError(data.error || `HTTP ${resp.status}`);
      err.status = resp.status;
      throw err;
    }
    return data;
  }
  function remember(s) {
    session = s;
    if (mode === "link") sessionStorage.setItem("dashboard-session", JSON.stringify(s));
    scheduleRenewal();
  }
  async function signIn() {
    const fragment = new URLSearchParams(location.hash.slice(1));
    const linkToken = fragment.get("link");
    if (linkToken) {
      mode = "link";
      // Out of the address bar at once: the link works once, and a reload must not retry it.
      history.replaceState(null, "", location.pathname + location.search);
      remember(await post("session/link", { token: linkToken }));
      return;
    }
    const kept = !inFrame && sessionStorage.getItem("dashboard-session");
    if (kept) {
      mode = "link";
      const s = JSON.parse(kept);
      if (Date.parse(s.expires_at) > Date.now() + 5000) {
        remember(s);
        return;
      }
      sessionStorage.removeItem("dashboard-session");
    }
    if (!inFrame) {
      throw new UserError("Open the dashboard from its widget in Element, or send !dashboard in your control room for a link.");
    }
    mode = "widget";
    if (!tenant) throw new UserError("The widget's address names no tenant.");
    setConnection("connecting", "Signing in…");
    const creds = await openIDCredentials();
    remember(await post("session", {
      tenant, access_token: creds.access_token, matrix_server_name: creds.matrix_server_name,
    }));
  }
  let renewTimer = null;
  function scheduleRenewal() {
    clearTimeout(renewTimer);
    const left = Date.parse(session.expires_at) - Date.now();
    const lead = Math.min(60000, left / 4);
    renewTimer = setTimeout(renew, Math.max(1000, left - lead));
  }
  async function renew() {
    try {
      remember(await post("session/renew", {}, session.token));
      restartStream();
      return;
    } catch {
      // Renewal refused (expired, or no longer staff): sign in from scratch.
    }
    try {
      await signInAgain();
    } catch (err) {
      session = null;
      fail(err);
      restartStream();
    }
  }
  async function signInAgain() {
    sessionStorage.removeItem("dashboard-session");
    if (mode === "widget") {
      await signIn();
      restartStream();
      return;
    }
    session = null;
    throw new UserError("Your session has ended. Send !dashboard in your control room for a new link.");
  }

  // ---- the event stream --------------------------------------------------------------
  function restartStream() {
    if (streamAbort) streamAbort.abort();
  }
  async function readEvents(body, onEvent) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let type = "message";
        const data = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) type = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        }
        if (data.length) onEvent(type, data.join("\n"));
      }
    }
  }
  async function streamLoop() {
    let backoff = 1000;
    for (;;) {
      if (!session) return;
      streamAbort = new AbortController();
      let expired = false;
      try {
        const resp = await fetch("events", {
          headers: { Authorization: `Bearer ${session.token}`, Accept: "text/event-stream" },
          signal: streamAbort.signal, cache: "no-store",
        });
        if (resp.status === 401) {
          await signInAgain();
          continue;
        }
        if (resp.status === 403) throw new UserError("You are not on this tenant's staff.");
        if (!resp.ok || !resp.body) throw new Error(`HTTP ${resp.status}`);
        setConnection("live", "Live");
        backoff = 1000;
        await readEvents(resp.body, (type, data) => {
          if (type === "snapshot") render(JSON.parse(data));
          else if (type === "expired") expired = true;
        });
      } catch (err) {
        if (err instanceof UserError) throw err;
        if (err.name === "AbortError") continue; // renewed: reconnect with the new token
      }
      if (expired) {
        await signInAgain();
        continue;
      }
      setConnection("reconnecting", "Reconnecting…");
      await sleep(backoff);
      backoff = Math.min(backoff * 2, 30000);
    }
  }

  // ---- drawing ---------------------------------------------------------------------
  const serverNow = () => Date.now() + clockOffset;
  function render(s) {
    const at = Date.parse(s.at);
    if (at < lastAt) return; // an older snapshot that crossed a newer one
    lastAt = at;
    snapshot = s;
    receivedAt = Date.now();
    clockOffset = at - receivedAt;
    $("main").hidden = false; // first, so the chart can measure its card
    const agentView = session && session.role === "agent";
    document.body.classList.toggle("agent-view", agentView);
    for (const n of document.querySelectorAll(".team-only")) n.hidden = agentView;
    $("title").textContent = `${s.tenant_name || s.tenant} · live`;
    $("h-today").textContent = agentView ? "Your day" : "Today";
    $("h-agents").textContent = agentView ? "You" : "Agents";
    $("h-conversations").textContent = agentView ? "Your open conversations" : "Open conversations";
    $("queue-waiting").textContent = String(s.queue.waiting);
    $("queue-offers").textContent = String(s.queue.offers_open);
    const t = s.today || {};
    $("today-handled").textContent = String(t.handled ?? 0);
    $("today-abandoned").textContent = String(t.abandoned ?? 0);
    $("today-missed").textContent = String(t.missed ?? 0);
    $("today-asa").textContent = duration(t.asa_seconds);
    const sl = $("today-sl");
    sl.textContent = percent(t.service_level);
    if (t.service_level !== undefined && t.service_level_seconds) {
      sl.title = `Accepted within ${t.service_level_seconds} s; target ${percent(t.service_level_target)}`;
      sl.className = t.service_level_target && t.service_level < t.service_level_target ? "bad" : "good";
    }
    renderAgents(s.agents || []);
    renderChart(s.history || []);
    renderConversations(s.conversations || []);
    tick();
  }
  function renderAgents(agents) {
    const counts = {};
    for (const a of agents) counts[a.status] = (counts[a.status] || 0) + 1;
    $("agent-counts").replaceChildren(...statusOrder.map((st) =>
      el("li", { "data-status": st }, el("span", { class: `dot ${st}` }), `${statusNames[st]} `,
        el("strong", { id: `count-${st}` }, String(counts[st] || 0)))));
    const sorted = [...agents].sort((a, b) =>
      statusOrder.indexOf(a.status) - statusOrder.indexOf(b.status) || (a.name || a.user_id).localeCompare(b.name || b.user_id));
    $("agents").replaceChildren(...sorted.map((a) => el("li", { "data-user": a.user_id },
      el("span", { class: "name", title: a.user_id }, el("span", { class: `dot ${a.status}` }), a.name || a.user_id,
        " ", el("span", { class: "muted" }, `· ${statusNames[a.status] || a.status}`)),
      el("span", { class: "load" }, `${a.load} / ${a.capacity}`),
      el("meter", { min: 0, max: Math.max(1, a.capacity), value: a.load, high: Math.max(1, a.capacity) - 0.5,
        "aria-label": `Load of ${a.name || a.user_id}` }))));
  }
  const svgNS = "http://www.w3.org/2000/svg";
  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(svgNS, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return node;
  }
  function renderChart(history) {
    const box = $("chart");
    if (!history.length) {
      box.replaceChildren(el("p", { class: "muted" }, "No history yet."));
      return;
    }
    // Drawn at the card's own width, so that text keeps its size on a phone.
    const width = Math.max(280, Math.min(1200, box.clientWidth || 640)), height = 160, top = 10, bottom = 20, left = 28;
    const slot = (width - left) / history.length;
    const max = Math.max(1, ...history.map((b) => Math.max(b.queued, b.handled + b.abandoned)));
    const y = (v) => top + (height - top - bottom) * (1 - v / max);
    const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img",
      "aria-label": `Contacts per hour over the last ${history.length} hours` });
    for (const v of [0, Math.ceil(max / 2), max]) {
      chart.append(svg("line", { class: "grid", x1: left, x2: width, y1: y(v), y2: y(v) }));
      chart.append(svg("text", { class: "axis", x: left - 4, y: y(v) + 3, "text-anchor": "end" }, v));
    }
    const points = [];
    history.forEach((b, i) => {
      const w = Math.max(2, slot * 0.6), x = left + i * slot + (slot - w) / 2;
      const hTop = y(b.handled), aTop = y(b.handled + b.abandoned);
      chart.append(svg("rect", { class: "handled", x, y: hTop, width: w, height: y(0) - hTop },
        svg("title", {}, `${b.handled} handled`)));
      chart.append(svg("rect", { class: "abandoned", x, y: aTop, width: w, height: hTop - aTop },
        svg("title", {}, `${b.abandoned} abandoned`)));
      const hour = String(new Date(b.start).getHours()).padStart(2, "0");
      chart.append(svg("text", { class: "axis", x: x + w / 2, y: height - 5, "text-anchor": "middle" }, hour));
      points.push([x + w / 2, y(b.queued), b.queued]);
    });
    chart.append(svg("polyline", { class: "queued", points: points.map((p) => `${p[0]},${p[1]}`).join(" ") }));
    for (const [px, py, q] of points) {
      chart.append(svg("circle", { class: "queued-dot", cx: px, cy: py, r: 2.5 }, svg("title", {}, `${q} queued`)));
    }
    box.replaceChildren(chart);
  }
  function renderConversations(list) {
    const body = $("conversations").tBodies[0];
    body.replaceChildren(...list.map((c) => el("tr", { "data-id": c.id },
      el("td", {}, c.customer),
      el("td", {}, el("span", { class: "state" }, c.state.replace("_", "-"))),
      el("td", {}, c.agent || c.agent_id || "–"),
      el("td", { class: "since", "data-since": c.since }, "–"),
      el("td", {}, c.link ? el("a", { href: c.link, target: "_blank", rel: "noopener noreferrer" }, "Open") : "–"))));
    $("conversations").hidden = list.length === 0;
    $("no-conversations").hidden = list.length > 0;
  }
  // Ages move with the clock between snapshots.
  function tick() {
    if (!snapshot) return;
    const now = serverNow();
    const oldest = snapshot.queue.oldest_since;
    $("queue-oldest").textContent = oldest ? duration((now - Date.parse(oldest)) / 1000) : "–";
    for (const td of document.querySelectorAll("td.since")) {
      td.textContent = duration((now - Date.parse(td.dataset.since)) / 1000);
    }
    const ago = Math.round((Date.now() - receivedAt) / 1000);
    $("updated").textContent = ago < 2 ? "just now" : `${duration(ago)} ago`;
  }
  setInterval(tick, 1000);
  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => snapshot && renderChart(snapshot.history || []), 150);
  });

  // ---- start -------------------------------------------------------------------------
  async function main() {
    try {
      await signIn();
      $("who").textContent = `${session.user_id} · ${session.role}`;
      await streamLoop();
    } catch (err) {
      fail(err);
    }
  }
  function fail(err) {
    setConnection("failed", "Not connected");
    showMessage(err instanceof UserError ? err.message : `Something went wrong: ${err.message || err}`);
  }
  main();
})();
