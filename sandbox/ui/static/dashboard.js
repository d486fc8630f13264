// The domainsandbox dashboard: polls the control API and calls it for every action.
// Plain JS, no build step, no dependency: the page must work offline from the package.
"use strict";

// --- tunables ------------------------------------------------------------------------------
// How often the page asks for news made elsewhere (clients, the CLI), in ms; `?poll=250` in the
// page's address changes it (100 to 60000), for a snappier demo or a quieter one.
const POLL_MS = pollMs(new URLSearchParams(location.search).get("poll"), 1000);
const API = "/_sandbox"; // the control API, served by the same process
const RECENT_REQUESTS = 10; // provider API calls shown, newest first
// A sandbox served with --control-token wants it on every control call: open the page once as
// /_sandbox/ui?token=...; the token is kept for this tab only and taken out of the address bar.
const TOKEN = controlToken();

// Each record state as a symbol plus words: colour is never the only signal.
const OUTCOMES = {
  valid: ["✓", "valid"],
  invalid: ["✗", "invalid"],
  not_found: ["∅", "not found"],
  temporary_failure: ["⚠", "temporary failure"],
};
const NOT_CHECKED = ["…", "not checked yet"];
const TONE_ICONS = { ok: "✓", bad: "✗", pending: "◔" };

// --- small helpers ---------------------------------------------------------------------------

function controlToken() {
  const params = new URLSearchParams(location.search);
  if (params.has("token")) {
    sessionStorage.setItem("domainsandbox-token", params.get("token"));
    params.delete("token");
    const query = params.toString();
    history.replaceState(null, "", location.pathname + (query ? "?" + query : "") + location.hash);
  }
  return sessionStorage.getItem("domainsandbox-token");
}

function pollMs(asked, fallback) {
  const ms = Number(asked);
  return asked && Number.isFinite(ms) ? Math.min(Math.max(ms, 100), 60000) : fallback;
}

/** Build an element; text children are set as text, never parsed as HTML. */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = value;
    else if (/^data[A-Z]/.test(key)) el.dataset[key[4].toLowerCase() + key.slice(5)] = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** A stable, id-safe key for a thing, so focus can follow it across re-renders. */
function key(...parts) {
  let hash = 0;
  for (const ch of parts.join("\u0000")) hash = (Math.imul(hash, 31) + ch.codePointAt(0)) | 0;
  return (hash >>> 0).toString(36);
}

async function api(method, path, body) {
  const init = { method, headers: {} };
  if (TOKEN) init.headers["Authorization"] = "Bearer " + TOKEN;
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(API + path, init);
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    throw new Error((data && data.error && data.error.message) || `${response.status} ${text}`);
  }
  return data;
}

function say(text, isError = false) {
  const message = document.getElementById("message");
  message.textContent = text;
  message.classList.toggle("error", isError);
}

/** Swap a section's content, keeping keyboard focus on the same control if it still exists. */
function replace(container, ...children) {
  const active = document.activeElement;
  const focusedId = active && container.contains(active) ? active.id : null;
  container.replaceChildren(...children);
  if (focusedId) document.getElementById(focusedId)?.focus();
}

/** Provider status words differ; the tone is a guess from the word, always shown with it. */
function tone(status) {
  const word = String(status).toLowerCase();
  if (word.includes("fail") || word.includes("error") || word.includes("invalid")) return "bad";
  if (["verified", "ready", "active", "valid", "success"].includes(word)) return "ok";
  return "pending";
}

// --- rendering -------------------------------------------------------------------------------

const state = { clock: null, seen: {} };

function renderClock(clock) {
  state.clock = clock;
  document.getElementById("clock-now").textContent = clock.now;
  document.getElementById("clock-now").setAttribute("datetime", clock.now);
  document.getElementById("clock-mode").textContent = clock.frozen ? "(frozen)" : "(running)";
  document.getElementById("freeze").textContent = clock.frozen ? "Unfreeze" : "Freeze";
}

function outcomeCell(result) {
  const [icon, words] = result ? OUTCOMES[result.outcome] || ["?", result.outcome] : NOT_CHECKED;
  const outcome = result ? result.outcome : "unchecked";
  return h(
    "td",
    { class: `state state-${outcome}` },
    h("span", { class: "icon", "aria-hidden": "true" }, icon, " "),
    h("strong", {}, words),
    result && result.reason ? h("div", { class: "reason" }, result.reason) : null,
    result && result.found && result.found.length && result.outcome !== "valid"
      ? h("div", { class: "found" }, "found: ", h("code", {}, result.found.join(" | ")))
      : null,
  );
}

function recordRow(domain, record) {
  const where = { dataProvider: domain.provider, dataId: domain.id, dataKind: record.kind };
  const k = key(domain.provider, domain.id, record.kind);
  return h(
    "tr",
    { "data-kind": record.kind },
    h("th", { scope: "row" }, record.kind, h("div", { class: "level" }, record.level)),
    h("td", {}, record.type),
    h("td", {}, h("code", { class: "copyable" }, record.name)),
    h(
      "td",
      {},
      h("code", { class: "copyable value" }, record.value),
      record.priority !== null && record.priority !== undefined
        ? h("div", { class: "level" }, `priority ${record.priority}`)
        : null,
    ),
    outcomeCell(record.result),
    h(
      "td",
      { class: "row-actions" },
      h(
        "button",
        {
          type: "button",
          id: `omit-${k}`,
          dataAction: "omit",
          ...where,
          "aria-label": `Omit ${record.kind}: publish every record but this one`,
        },
        "Omit",
      ),
      h(
        "button",
        {
          type: "button",
          id: `corrupt-${k}`,
          dataAction: "corrupt",
          ...where,
          "aria-label": `Corrupt ${record.kind}: publish every record, this one with a wrong value`,
        },
        "Corrupt",
      ),
    ),
  );
}

function statusBlock(domain) {
  const t = tone(domain.status);
  const vocabulary = (domain.statuses || []).map((word) =>
    h(
      "li",
      { class: word === domain.status ? "current" : null, "aria-current": word === domain.status ? "true" : null },
      word === domain.status ? "▶ " : null,
      word,
    ),
  );
  return h(
    "div",
    { class: "status-block" },
    h(
      "p",
      { class: `status tone-${t}`, "data-status": domain.status },
      "Status: ",
      h("span", { class: "icon", "aria-hidden": "true" }, TONE_ICONS[t], " "),
      h("strong", { class: "status-word" }, domain.status),
    ),
    vocabulary.length
      ? h("ol", { class: "vocabulary", "aria-label": `${domain.provider} status words` }, vocabulary)
      : null,
  );
}

function domainCard(domain) {
  const k = key(domain.provider, domain.id);
  const where = { dataProvider: domain.provider, dataId: domain.id, dataName: domain.name };
  const headingId = `domain-${k}`;
  const facts = [
    `id ${domain.id}`,
    `created ${domain.created_at}`,
    `checks ${domain.checks}`,
    domain.last_checked_at ? `last checked ${domain.last_checked_at}` : "never checked",
    domain.next_step_at ? `next scheduled step ${domain.next_step_at}` : null,
  ].filter(Boolean);
  return h(
    "article",
    {
      class: "domain",
      "aria-labelledby": headingId,
      "data-provider": domain.provider,
      "data-id": domain.id,
      "data-name": domain.name,
    },
    h(
      "header",
      {},
      h("h3", { id: headingId }, domain.name, " ", h("span", { class: "provider" }, domain.provider)),
      statusBlock(domain),
    ),
    h("p", { class: "facts" }, facts.join(" · ")),
    h(
      "div",
      { class: "buttons", role: "group", "aria-label": `Actions for ${domain.name}` },
      h("button", { type: "button", id: `publish-${k}`, dataAction: "publish", ...where }, "Publish all records"),
      h("button", { type: "button", id: `verify-${k}`, dataAction: "verify", ...where }, "Verify now"),
    ),
    h(
      "table",
      { class: "records" },
      h("caption", {}, `Records to publish for ${domain.name}`),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          ["Record", "Type", "Name", "Value", "State", "Publish with"].map((c) => h("th", { scope: "col" }, c)),
        ),
      ),
      h("tbody", {}, domain.records.map((r) => recordRow(domain, r))),
    ),
    h("h4", {}, "Timeline"),
    h(
      "ol",
      { class: "timeline" },
      (domain.timeline || []).map((step) =>
        h("li", {}, h("time", { datetime: step.at }, step.at), " ", h("strong", {}, step.status)),
      ),
    ),
  );
}

function renderDomains(domains) {
  const container = document.getElementById("domains");
  if (!domains.length) {
    replace(
      container,
      h(
        "p",
        { class: "empty" },
        "No domains yet. Create one through any provider's API; it appears here by itself.",
      ),
    );
    return;
  }
  replace(container, ...domains.map(domainCard));
}

function renderZone(records) {
  const container = document.getElementById("zone");
  if (!records.length) {
    replace(container, h("p", { class: "empty" }, "The zone is empty: nothing is published."));
    return;
  }
  const rows = records.map((r) =>
    h(
      "tr",
      {},
      h("td", {}, h("code", {}, r.name)),
      h("td", {}, r.type),
      h("td", {}, h("code", { class: "value" }, r.value)),
      h("td", {}, String(r.ttl)),
      h("td", {}, r.visible_after ? `from ${r.visible_after}` : "now"),
      h(
        "td",
        {},
        h(
          "button",
          {
            type: "button",
            id: `remove-${key(r.name, r.type, r.value)}`,
            dataAction: "remove-record",
            dataName: r.name,
            dataType: r.type,
            dataValue: r.value,
            "aria-label": `Remove ${r.type} record ${r.value} at ${r.name}`,
          },
          "Remove",
        ),
      ),
    ),
  );
  replace(
    container,
    h(
      "table",
      { class: "zone" },
      h("caption", { class: "visually-hidden" }, "Records in the fake DNS zone"),
      h(
        "thead",
        {},
        h("tr", {}, ["Name", "Type", "Value", "TTL", "Visible", ""].map((c) => h("th", { scope: "col" }, c))),
      ),
      h("tbody", {}, rows),
    ),
  );
}

function renderFaults(faults) {
  const container = document.getElementById("faults");
  if (!faults.length) {
    replace(container, h("p", { class: "empty" }, "No faults: DNS answers normally."));
    return;
  }
  const items = faults.map((f) => {
    const parts = [`${f.kind} for ${f.match}`];
    if (f.qtype) parts.push(`type ${f.qtype}`);
    parts.push(f.count === null || f.count === undefined ? "until cleared" : `${f.count} left`);
    if (f.delay_ms) parts.push(`${f.delay_ms} ms`);
    return h("li", {}, h("span", { "aria-hidden": "true" }, "⚠ "), parts.join(", "));
  });
  replace(
    container,
    h("ul", { class: "faults" }, items),
    h("button", { type: "button", id: "clear-faults", dataAction: "clear-faults" }, "Clear all faults"),
  );
}

function renderRequests(requests) {
  const container = document.getElementById("requests");
  if (!requests.length) {
    replace(container, h("p", { class: "empty" }, "No provider API calls yet."));
    return;
  }
  const items = requests
    .slice()
    .reverse()
    .map((r) =>
      h("li", {}, h("time", {}, r.at), " ", h("code", {}, `${r.method} ${r.path}`), ` → ${r.status}`),
    );
  replace(container, h("ol", { class: "requests" }, items));
}

// --- polling -------------------------------------------------------------------------------

const SECTIONS = {
  clock: ["/clock", (d) => d, renderClock],
  domains: ["/domains", (d) => d.domains, renderDomains],
  zone: ["/dns/records", (d) => d.records, renderZone],
  faults: ["/dns/faults", (d) => d.faults, renderFaults],
  requests: [`/requests?limit=${RECENT_REQUESTS}`, (d) => d.requests, renderRequests],
};

let queue = Promise.resolve();

/** Fetch every section; re-render only those whose data changed (keeps focus and scroll).
 *  Loads run one after another, so an action's refresh never returns data older than it. */
function refresh() {
  queue = queue.then(load, load);
  return queue;
}

async function load() {
  const live = document.getElementById("live");
  try {
    const names = Object.keys(SECTIONS);
    const bodies = await Promise.all(names.map((n) => api("GET", SECTIONS[n][0])));
    names.forEach((name, i) => {
      const data = SECTIONS[name][1](bodies[i]);
      const text = JSON.stringify(data);
      if (state.seen[name] !== text) {
        state.seen[name] = text;
        SECTIONS[name][2](data);
      }
    });
    live.textContent = `● Live: updates every ${POLL_MS / 1000} s`;
    live.className = "live ok";
  } catch (error) {
    live.textContent = `✗ Disconnected (${error.message}); retrying`;
    live.className = "live bad";
  }
}

async function poll() {
  await refresh();
  setTimeout(poll, POLL_MS);
}

// --- actions: every one is a control API call ------------------------------------------------

const DURATIONS = { 60: "1 minute", 3600: "1 hour", 259200: "72 hours" };

const ACTIONS = {
  async advance(d) {
    const clock = await api("POST", "/clock", { advance_seconds: Number(d.seconds) });
    return `Clock advanced ${DURATIONS[d.seconds] || d.seconds + " s"}: now ${clock.now}.`;
  },
  async freeze() {
    const frozen = !(state.clock && state.clock.frozen);
    const clock = await api("POST", "/clock", { freeze: frozen });
    return `Clock ${clock.frozen ? "frozen" : "running"} at ${clock.now}.`;
  },
  async reset() {
    const result = await api("POST", "/reset", {});
    return `Sandbox reset (seed ${result.seed}): no domains, records or faults.`;
  },
  async publish(d) {
    const result = await api("POST", `/domains/${d.provider}/${d.id}/publish`, {});
    return `Published ${result.published.length} records for ${d.name}.`;
  },
  async omit(d) {
    await api("POST", `/domains/${d.provider}/${d.id}/publish`, { omit: [d.kind] });
    return `Published every record but ${d.kind}.`;
  },
  async corrupt(d) {
    await api("POST", `/domains/${d.provider}/${d.id}/publish`, { corrupt: [d.kind] });
    return `Published every record, ${d.kind} with a wrong value.`;
  },
  async verify(d) {
    const domain = await api("POST", `/domains/${d.provider}/${d.id}/verify`);
    return `Verified ${domain.name}: status ${domain.status}.`;
  },
  async "remove-record"(d) {
    const query = new URLSearchParams({ name: d.name, type: d.type, value: d.value });
    const result = await api("DELETE", `/dns/records?${query}`);
    return `Removed ${result.removed} ${d.type} record(s) at ${d.name}.`;
  },
  async "clear-faults"() {
    const result = await api("DELETE", "/dns/faults");
    return `Cleared ${result.removed} DNS fault(s).`;
  },
};

async function run(action, data) {
  say("Working…");
  try {
    say(await action(data));
  } catch (error) {
    say(`Failed: ${error.message}`, true);
  }
  await refresh();
}

async function addFault(form) {
  const body = { match: form.match.value.trim(), kind: form.kind.value };
  if (form.qtype.value) body.qtype = form.qtype.value;
  if (form.count.value) body.count = Number(form.count.value);
  if (form.delay_ms.value) body.delay_ms = Number(form.delay_ms.value);
  const fault = await api("POST", "/dns/faults", body);
  return `Added DNS fault: ${fault.kind} for ${fault.match}.`;
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-action]");
  if (!button) return;
  const action = ACTIONS[button.dataset.action];
  if (action) run(action, { ...button.dataset });
});

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("fault-form").addEventListener("submit", (event) => {
    event.preventDefault();
    run(() => addFault(event.target));
  });
  poll();
});
