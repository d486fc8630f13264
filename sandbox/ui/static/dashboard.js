// The domainsandbox dashboard: told of every change by the server (GET /_sandbox/events), it
// reads the control API and calls it for every action. Plain JS, no build step, no dependency:
// the page must work offline from the package. Every text from the API is set as text.
"use strict";

// --- tunables ------------------------------------------------------------------------------
const API = "/_sandbox"; // the control API, served by the same process
const RECENT_REQUESTS = 12; // provider API calls shown, newest first
const RECONNECT_MS = 1000; // after the event stream broke (the sandbox restarted)
// A sandbox served with --control-token wants it on every control call: open the page once as
// /_sandbox/ui?token=...; the token is kept for this tab only and taken out of the address bar.
const TOKEN = controlToken();

// Each state as a symbol plus words: colour is never the only signal.
const OUTCOMES = {
  valid: ["✓", "valid"],
  invalid: ["✗", "invalid"],
  not_found: ["∅", "not found"],
  temporary_failure: ["⚠", "temporary failure"],
};
const NOT_CHECKED = ["…", "not checked yet"];
const TONES = { ok: ["✓", "verified"], bad: ["✗", "failed"], pending: ["◔", "pending"] };
const LEVEL_MARKS = { required: "●", recommended: "○", optional: "◌" };
const LEVELS_LEGEND = "● required (its check decides a status: the domain's, or SES's MAIL FROM), ○ recommended, ◌ optional";

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

function headers() {
  return TOKEN ? { Authorization: "Bearer " + TOKEN } : {};
}

// Invisible characters that change what is shown around them: bidirectional overrides and
// isolates (U+202E shows "lla~ moc.nuglam" for "malgun.com ~all"), zero-width characters, line
// and paragraph separators, the byte order mark. Shown as their escapes, as the CLI shows them.
const INVISIBLE = /[\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

/** Text as it is: an invisible formatting character written as its escape (`\u202e`). */
function visible(text) {
  return text.replace(INVISIBLE, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
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
    el.append(child instanceof Node ? child : document.createTextNode(visible(String(child))));
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
  const init = { method, headers: headers() };
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
  if (!response.ok) throw new Error(refusal(response, data, text));
  return data;
}

/** Why the control API refused a call; a token missing or wrong is told how to give one. */
function refusal(response, data, text) {
  const said = (data && data.error && data.error.message) || `${response.status} ${text}`;
  if (response.status !== 401) return said;
  return `${said}; open this page once as ${location.pathname}?token=TOKEN`;
}

function say(text, isError = false) {
  const message = document.getElementById("message");
  message.textContent = text;
  message.classList.toggle("error", isError);
  state.saidAgainst = null; // what it is said about: set once the action's own changes are read
}

/** The world as the page shows it, the running time aside: what a message is said about. */
function worldShown() {
  const { domains, zone, faults, clock } = state.seen;
  return JSON.stringify([domains, zone, faults, clock && modeOf(JSON.parse(clock))]);
}

/** What the page said is about what it just did: once the world it shows differs from the one
 *  the action left, changed from elsewhere or by the clock, it is out of date, and goes. */
function forgetSaid() {
  if (state.saidAgainst !== null && worldShown() !== state.saidAgainst) say("");
}

/** Swap a container's content, keeping keyboard focus on the same control if it still exists. */
function replace(container, ...children) {
  const active = document.activeElement;
  const focusedId = active && container.contains(active) ? active.id : null;
  container.replaceChildren(...children.filter((child) => child !== null));
  if (focusedId) document.getElementById(focusedId)?.focus();
}

/** Provider status words differ; each domain's tone is its provider's judgement (ok, bad or
 *  pending), always shown with its word. */
function tone(domain) {
  return TONES[domain.tone] ? domain.tone : "pending";
}

/** A status word as the filter compares it: `failed` and SES's `FAILED` are one choice. */
function wordKey(status) {
  return String(status).toLowerCase();
}

/** Text that may break after its dots, dashes and underscores (names, status words), not
 *  in the middle of a word. */
function breakable(text) {
  return String(text)
    .split(/(?<=[._-])/)
    .flatMap((part, i) => (i ? [h("wbr"), part] : [part]));
}

function columns(names) {
  return h("colgroup", {}, names.map((name) => h("col", { class: `c-${name}` })));
}

function head(titles) {
  return h("thead", {}, h("tr", {}, titles.map((title) => h("th", { scope: "col" }, title))));
}

/** An instant that breaks between its date and its time, never inside either (`2026-01-`). */
function instant(at) {
  const [date, time] = String(at).split(/(?<=T)/);
  const parts = time ? [h("span", {}, date), h("wbr"), h("span", {}, time)] : [at];
  return h("time", { datetime: at }, ...parts);
}

function actionButton(action, label) {
  return h("button", { type: "button", id: action, dataAction: action }, label);
}

/** The button that removes one fault (`layer`: "dns" or "http") and leaves the others. */
function removeFault(layer, fault) {
  const said = `Remove ${layer.toUpperCase()} fault ${fault.id}`;
  return h("button", { type: "button", id: `remove-fault-${fault.id}`, dataAction: "remove-fault", dataLayer: layer, dataId: fault.id, "aria-label": said }, "Remove");
}

function setOptions(select, options, keep = true) {
  const before = select.value;
  select.replaceChildren(...options.map(([value, label]) => h("option", { value }, label)));
  if (keep && options.some(([value]) => value === before)) select.value = before;
}

// --- state -----------------------------------------------------------------------------------

const state = {
  clock: null, // the last snapshot, and when (performance.now()) it was read
  clockReadAt: 0,
  domains: [],
  operations: {}, // each provider's operationIds, for the HTTP fault form
  apis: {}, // each provider's APIs' base URLs (Mailgun's two regions), for the create form
  open: new Set(), // domains whose details are open: "provider/id"
  seen: {},
  saidAgainst: null, // the world shown (worldShown) when the message under the toolbar was said
};

// --- the clock: shown ticking between changes, at the sandbox's speed -------------------------

// The clock's mode; a sandbox that predates modes says only whether it is frozen.
function modeOf(clock) {
  return clock.mode || (clock.frozen ? "frozen" : "real");
}

/** How the page says a clock's mode: "(frozen)", "(running, fast ×60)"... */
function clockWords(clock) {
  const mode = modeOf(clock);
  const speed = clock.speed && clock.speed !== 1 ? ` ×${clock.speed}` : "";
  const running = `(running${mode === "real" ? "" : ", " + mode}${speed})`;
  // on-poll stands still between polls, yet it is not frozen: Freeze freezes it, Unfreeze would
  // have switched it to real time
  const shown = { frozen: "(frozen)", "on-poll": "(on-poll: moves when a client polls)" }[mode];
  return shown || running;
}

function renderClock(clock) {
  state.clock = clock;
  state.clockReadAt = performance.now();
  const mode = modeOf(clock);
  document.getElementById("clock-mode").textContent = clockWords(clock);
  document.getElementById("freeze").textContent = mode === "frozen" ? "Unfreeze" : "Freeze";
  if (clock.mode) document.getElementById("clock-mode-choice").value = clock.mode;
  speedFor();
  showClock();
}

/** The speed field counts for fast alone: off otherwise, so that no speed in it (0.5, -5) can
 * stop the browser from sending another mode. */
function speedFor() {
  const speed = document.getElementById("clock-speed");
  speed.disabled = document.getElementById("clock-mode-choice").value !== "fast";
}

/** The delay field counts for a delay fault alone, which needs it: a delay left in it was sent
 * with a servfail (and refused), and a delay fault without one was refused by the API. */
function delayFor() {
  const delay = document.getElementById("fault-delay");
  delay.disabled = delay.form.kind.value !== "delay";
  delay.required = !delay.disabled;
}

function showClock() {
  const clock = state.clock;
  if (!clock) return;
  let now = clock.now;
  const ticking = !clock.frozen && (clock.mode === undefined || ["real", "fast"].includes(clock.mode));
  if (ticking) {
    const elapsed = ((performance.now() - state.clockReadAt) / 1000) * (clock.speed || 1);
    now = new Date(Date.parse(clock.now) + elapsed * 1000).toISOString().replace(/\.\d+Z$/, "Z");
  }
  const shown = document.getElementById("clock-now");
  shown.textContent = now;
  shown.setAttribute("datetime", now);
}

// --- the overview: one row per domain, details open in place ---------------------------------

function domainKey(domain) {
  return `${domain.provider}/${domain.id}`;
}

function statusBadge(domain) {
  const status = domain.status;
  const t = tone(domain);
  return h(
    "span",
    { class: `status tone-${t}`, "data-status": status },
    h("span", { class: "icon", "aria-hidden": "true" }, TONES[t][0], " "),
    h("strong", { class: "status-word" }, breakable(status)),
  );
}

function tally(domain) {
  const records = domain.records || [];
  const valid = records.filter((r) => r.result && r.result.outcome === "valid").length;
  const required = records.filter((r) => r.level === "required");
  const requiredValid = required.filter((r) => r.result && r.result.outcome === "valid").length;
  const unread = records.filter((r) => r.result && r.result.outcome === "temporary_failure").length;
  return { valid, total: records.length, requiredValid, required: required.length, unread };
}

function overviewRow(domain) {
  const k = key(domainKey(domain));
  const open = state.open.has(domainKey(domain));
  const count = tally(domain);
  const complete = count.required > 0 && count.requiredValid === count.required;
  return h(
    "tr",
    {
      class: "domain-row" + (open ? " open" : ""),
      "data-provider": domain.provider,
      "data-id": domain.id,
      "data-name": domain.name,
    },
    h("td", {}, h("span", { class: "provider" }, domain.provider)),
    h("th", { scope: "row", class: "name" }, breakable(domain.name)),
    h("td", {}, statusBadge(domain)),
    h(
      "td",
      { class: "count" },
      h("span", { class: "records-valid" }, `${count.valid}/${count.total}`),
      h(
        "span",
        { class: "required-valid" + (complete ? " complete" : "") },
        `${complete ? "✓" : "●"} required ${count.requiredValid}/${count.required}`,
      ),
      // a status beside records DNS could not answer for is the provider's verdict from before
      count.unread
        ? h(
            "span",
            { class: "unread", title: "DNS failed (SERVFAIL, timeout): the status is the provider's own" },
            `⚠ ${count.unread} not read: DNS failed`,
          )
        : null,
    ),
    h("td", { class: "checked" }, domain.last_checked_at ? instant(domain.last_checked_at) : "never"),
    h(
      "td",
      {},
      h(
        "button",
        {
          type: "button",
          id: `toggle-${k}`,
          class: "toggle",
          dataAction: "toggle",
          dataKey: domainKey(domain),
          "aria-expanded": open ? "true" : "false",
          "aria-controls": `details-${k}`,
          "aria-label": `${open ? "Hide" : "Show"} details of ${domain.name} (${domain.provider})`,
        },
        open ? "▾ Hide" : "▸ Details",
      ),
    ),
  );
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
  const button = (action, label, words) =>
    h(
      "button",
      { type: "button", id: `${action}-${k}`, dataAction: action, ...where, "aria-label": `${label} ${record.kind}: ${words}` },
      label,
    );
  return h(
    "tr",
    { "data-kind": record.kind, "data-level": record.level },
    h(
      "th",
      { scope: "row" },
      breakable(record.kind), // "domain_validation" ran into the next column
      h("div", { class: `level level-${record.level}` }, LEVEL_MARKS[record.level] || "", " ", record.level),
    ),
    h("td", {}, record.type),
    h("td", {}, h("code", { class: "copyable" }, breakable(record.name))),
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
      button("omit", "Omit", "publish every record but this one"),
      button("corrupt", "Corrupt", "publish every record, this one with a wrong value"),
    ),
  );
}

/** Where the domain stands in its provider's own fields, where they say more than the status
 *  (Vortex's tokenVerificationStatus and dkimStatus, SES's DKIM and MAIL FROM statuses). */
function ownWords(domain) {
  const words = domain.states || [];
  if (!words.length || (words.length === 1 && words[0] === domain.status)) return null;
  return h("p", { class: "facts own-words" }, `${domain.provider} says: ${words.join(" · ")}`);
}

function detailsRow(domain) {
  const k = key(domainKey(domain));
  const where = { dataProvider: domain.provider, dataId: domain.id, dataName: domain.name };
  const facts = [
    `id ${domain.id}`,
    (state.apis[domain.provider] || []).length > 1 ? `API ${domain.api}` : null,
    `created ${domain.created_at}`,
    `checks ${domain.checks}`,
    domain.last_checked_at ? `last checked ${domain.last_checked_at}` : "never checked",
    domain.next_step_at ? `next scheduled step ${domain.next_step_at}` : null,
  ].filter(Boolean);
  const vocabulary = (domain.statuses || []).map((word) =>
    h(
      "li",
      { class: word === domain.status ? "current" : null, "aria-current": word === domain.status ? "true" : null },
      word === domain.status ? "▶ " : null,
      word,
    ),
  );
  const article = h(
    "article",
    {
      class: "domain",
      id: `details-${k}`,
      "aria-label": `${domain.name} (${domain.provider})`,
      "data-provider": domain.provider,
      "data-id": domain.id,
      "data-name": domain.name,
    },
    h("p", { class: "facts" }, facts.join(" · ")),
    vocabulary.length
      ? h("ol", { class: "vocabulary", "aria-label": `${domain.provider} status words` }, vocabulary)
      : null,
    ownWords(domain),
    h(
      "div",
      { class: "buttons", role: "group", "aria-label": `Actions for ${domain.name}` },
      h("button", { type: "button", id: `publish-${k}`, dataAction: "publish", ...where }, "Publish all records"),
      h("button", { type: "button", id: `verify-${k}`, dataAction: "verify", ...where }, "Verify now"),
    ),
    h(
      "table",
      { class: "records" },
      h("caption", {}, `Records to publish for ${domain.name}: ${LEVELS_LEGEND}`),
      columns(["kind", "type", "name", "value", "state", "actions"]),
      head(["Record", "Type", "Name", "Value", "State", "Publish with"]),
      h("tbody", {}, domain.records.map((r) => recordRow(domain, r))),
    ),
    h("h3", {}, "Timeline"),
    h(
      "ol",
      { class: "timeline" },
      (domain.timeline || []).map((step) =>
        h("li", {}, h("time", { datetime: step.at }, step.at), " ", h("strong", {}, step.status)),
      ),
    ),
  );
  return h("tr", { class: "details-row" }, h("td", { colspan: "6" }, article));
}

function matches(domain) {
  const provider = document.getElementById("filter-provider").value;
  const status = document.getElementById("filter-status").value;
  const name = document.getElementById("filter-name").value.trim().toLowerCase();
  if (provider && domain.provider !== provider) return false;
  if (status.startsWith("tone:") && tone(domain) !== status.slice(5)) return false;
  if (status.startsWith("word:") && wordKey(domain.status) !== status.slice(5)) return false;
  return !name || domain.name.toLowerCase().includes(name);
}

function renderStatusFilter(domains) {
  // the word chosen stays one to choose while no domain has it (the clock moved them all on):
  // the filter then shows none, rather than falling back to all without a word
  const chosen = document.getElementById("filter-status").value;
  const kept = chosen.startsWith("word:") ? [chosen.slice(5)] : [];
  const byLetters = (a, b) => a.localeCompare(b, "en", { sensitivity: "base" });
  const tones = new Map(); // a word's symbol: its domains' tone, none where they differ
  const spelt = new Map(); // a word as its providers write it: "verified / VERIFIED"
  for (const d of domains) {
    const word = wordKey(d.status);
    tones.set(word, tones.has(word) && tones.get(word) !== tone(d) ? "mixed" : tone(d));
    spelt.set(word, new Set([...(spelt.get(word) || []), d.status]));
  }
  const words = [...new Set([...domains.map((d) => wordKey(d.status)), ...kept])].sort(byLetters);
  const options = [["", "all"]];
  for (const [t, [icon, label]] of Object.entries(TONES)) options.push([`tone:${t}`, `${icon} every ${label}`]);
  for (const word of words) {
    const symbol = TONES[tones.get(word)]?.[0]; // Vortex's not_verified: waiting or failed
    const label = [...(spelt.get(word) || [word])].join(" / ");
    options.push([`word:${word}`, symbol ? `${symbol} ${label}` : label]);
  }
  setOptions(document.getElementById("filter-status"), options);
}

function renderDomains() {
  const domains = state.domains;
  const container = document.getElementById("domains");
  renderStatusFilter(domains);
  if (!domains.length) {
    document.getElementById("tally").textContent = "";
    replace(
      container,
      h(
        "p",
        { class: "empty" },
        "No domains yet. Create one (+ New domain), load a scenario, or call any provider's API;",
        " it appears here by itself.",
      ),
    );
    return;
  }
  const shown = domains.filter(matches);
  const byTone = { ok: 0, pending: 0, bad: 0 };
  for (const d of shown) byTone[tone(d)] += 1;
  const tones = `✓ ${byTone.ok} verified · ◔ ${byTone.pending} pending · ✗ ${byTone.bad} failed`;
  document.getElementById("tally").textContent = `${shown.length} of ${domains.length} shown · ${tones}`;
  const rows = [];
  for (const domain of shown) {
    rows.push(overviewRow(domain));
    if (state.open.has(domainKey(domain))) rows.push(detailsRow(domain));
  }
  replace(
    container,
    h(
      "table",
      { class: "overview" },
      h("caption", { class: "visually-hidden" }, "Every domain: provider, name, status, records valid, last check"),
      columns(["provider", "domain", "status", "records", "checked", "open"]),
      head(["Provider", "Domain", "Status", "Records valid", "Last check", ""]),
      h("tbody", {}, rows),
    ),
    shown.length ? null : h("p", { class: "empty" }, "No domain matches the filters."),
  );
}

// --- the side panels ---------------------------------------------------------------------------

/** A TXT value of several strings as a zone file writes them: `"one" "two"`. */
function zoneText(value) {
  if (!Array.isArray(value)) return value;
  return value.map((text) => `"${text.replace(/["\\]/g, "\\$&")}"`).join(" ");
}

/** A value as the control API reads it back: it reads a TXT value wholly in quotes as zone-file
 *  strings, so such a value (`"x"`, quotes its own) goes quoted again. */
function givenValue(record) {
  const literal = typeof record.value === "string" && /^\s*".*"\s*$/s.test(record.value);
  return record.type === "TXT" && literal ? zoneText([record.value]) : zoneText(record.value);
}

function renderZone(records) {
  const container = document.getElementById("zone");
  if (!records.length) {
    replace(container, h("p", { class: "empty" }, "The zone is empty: nothing is published."));
    return;
  }
  const rows = records.map((r) => {
    const value = zoneText(r.value);
    return h(
      "tr",
      {},
      h(
        "td",
        {},
        h("code", { class: "name" }, breakable(r.name)),
        h("div", { class: "level" }, `${r.type} · TTL ${r.ttl}${r.visible_after ? " · from " + r.visible_after : ""}`),
      ),
      h("td", {}, h("code", { class: "value" }, value)),
      h(
        "td",
        {},
        h(
          "button",
          {
            type: "button",
            id: `remove-${key(r.name, r.type, value)}`,
            dataAction: "remove-record",
            dataName: r.name,
            dataType: r.type,
            dataValue: givenValue(r),
            "aria-label": `Remove ${r.type} record ${value} at ${r.name}`,
          },
          "Remove",
        ),
      ),
    );
  });
  replace(
    container,
    h(
      "table",
      { class: "zone" },
      h("caption", { class: "visually-hidden" }, "Records in the fake DNS zone"),
      head(["Name", "Value", ""]),
      h("tbody", {}, rows),
    ),
  );
}

function renderFaults({ dns, http }) {
  const container = document.getElementById("faults");
  // said in the top bar too: the list sits below the domains, off screen in a big world
  const on = document.getElementById("faults-on");
  on.hidden = !dns.length && !http.length;
  on.textContent = `⚠ ${dns.length + http.length} fault${dns.length + http.length === 1 ? "" : "s"} on`;
  if (!dns.length && !http.length) {
    replace(container, h("p", { class: "empty" }, "No faults: DNS and the APIs answer normally."));
    return;
  }
  const left = (count) => (count === null || count === undefined ? "until cleared" : `${count} left`);
  const dnsItems = dns.map((f) => {
    const parts = [`${f.kind} for ${f.match}`];
    if (f.qtype) parts.push(`type ${f.qtype}`);
    parts.push(left(f.count));
    if (f.delay_ms) parts.push(`${f.delay_ms} ms`);
    return h("li", {}, h("span", { "aria-hidden": "true" }, "⚠ "), "DNS: ", parts.join(", "), " ", removeFault("dns", f));
  });
  const httpItems = http.map((f) => {
    const parts = [`${f.provider} ${f.operation || "every operation"}`];
    if (f.status) parts.push(`answers ${f.status}`);
    if (f.latency_ms) parts.push(`${f.latency_ms} ms late`);
    if (f.abort) parts.push("drops the connection");
    if (f.abort_after) parts.push("carries the call out, then drops the connection");
    if (f.reset) parts.push("resets the connection");
    if (f.reset_after) parts.push("carries the call out, then resets the connection");
    parts.push(left(f.count));
    return h("li", {}, h("span", { "aria-hidden": "true" }, "⚡ "), "HTTP: ", parts.join(", "), " ", removeFault("http", f));
  });
  replace(
    container,
    h("ul", { class: "faults", id: "dns-faults" }, dnsItems),
    dns.length ? actionButton("clear-faults", "Clear DNS faults") : null,
    h("ul", { class: "faults", id: "http-faults" }, httpItems),
    http.length ? actionButton("clear-http-faults", "Clear HTTP faults") : null,
  );
}

// A path shown cut to this many characters: a client's 60,000-character one would make its
// entry thousands of pixels tall.
const SHOWN_PATH_CHARACTERS = 200;

function cut(path) {
  if (path.length <= SHOWN_PATH_CHARACTERS) return path;
  return `${path.slice(0, SHOWN_PATH_CHARACTERS)}… (${path.length} characters)`;
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
    // a call whose connection a fault dropped got no status: "aborted", as the CLI says it
    .map((r) => h("li", {}, h("time", {}, r.at), " ", h("code", {}, `${r.method} ${cut(r.path)}`), ` → ${r.aborted ? "aborted" : r.status}`));
  replace(container, h("ol", { class: "requests" }, items));
}

// --- reading the control API when the server says something changed --------------------------

const SECTIONS = {
  clock: [["/clock"], ([c]) => c, renderClock],
  domains: [["/domains"], ([d]) => d.domains, (domains) => { state.domains = domains; renderDomains(); }],
  zone: [["/dns/records"], ([d]) => d.records, renderZone],
  faults: [["/dns/faults", "/http/faults"], ([d, t]) => ({ dns: d.faults, http: t.faults }), renderFaults],
  requests: [[`/requests?limit=${RECENT_REQUESTS}`], ([d]) => d.requests, renderRequests],
};

let loading = null;
let again = false;

/** Read every section; re-render only those whose data changed (keeps focus and scroll).
 *  A change told while a read is under way is read after it, never lost nor read twice at once. */
function refresh() {
  if (loading) {
    again = true;
    return loading;
  }
  loading = (async () => {
    try {
      do {
        again = false;
        await load();
      } while (again);
    } finally {
      loading = null;
    }
  })();
  return loading;
}

async function load() {
  const names = Object.keys(SECTIONS);
  const bodies = await Promise.all(names.map((n) => Promise.all(SECTIONS[n][0].map((path) => api("GET", path)))));
  names.forEach((name, i) => {
    const data = SECTIONS[name][1](bodies[i]);
    const text = JSON.stringify(data);
    if (state.seen[name] !== text) {
      state.seen[name] = text;
      SECTIONS[name][2](data);
    }
  });
}

function live(text, ok) {
  const shown = document.getElementById("live");
  shown.textContent = text;
  shown.className = "live " + (ok ? "ok" : "bad");
}

/** Read the server's event stream (fetch, so the control token goes as a header); on each
 *  `change` event read the control API. Reconnects after RECONNECT_MS when it breaks, and
 *  reads everything again then: nothing told while it was away is missed. */
async function listen() {
  for (;;) {
    let reader = null;
    try {
      const response = await fetch(API + "/events", { headers: headers(), cache: "no-store" });
      if (!response.ok) {
        const body = await response.json().catch(() => null);
        throw new Error(refusal(response, body, ""));
      }
      reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (/^event: change$/m.test(event)) {
            await update();
            forgetSaid();
          }
        }
      }
      throw new Error("the event stream ended");
    } catch (error) {
      live(`✗ Disconnected (${error.message}); reconnecting`, false);
    } finally {
      reader?.cancel().catch(() => {});
    }
    await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS));
  }
}

async function update() {
  try {
    await refresh();
    // the settings shown follow changes made elsewhere (unless being edited: loadSettings)
    if (document.getElementById("panel-settings").open) await loadSettings();
    live("● Live: the server pushes every change", true);
  } catch (error) {
    live(`✗ Could not read the sandbox (${error.message})`, false);
  }
}

// --- actions: every one is a control API call ------------------------------------------------

const DURATIONS = { 60: "1 minute", 3600: "1 hour", 259200: "72 hours" };

const ACTIONS = {
  async advance(d) {
    const clock = await api("POST", "/clock", { advance_seconds: Number(d.seconds) });
    return `Clock advanced ${DURATIONS[d.seconds] || d.seconds + " s"}: now ${clock.now}.`;
  },
  async freeze() {
    const frozen = !(state.clock && modeOf(state.clock) === "frozen");
    const clock = await api("POST", "/clock", { freeze: frozen });
    // Unfreeze of a clock Freeze stopped while on-poll: on-poll again, which stands still too
    const words = modeOf(clock) === "on-poll" ? "on-poll again" : clock.frozen ? "frozen" : "running";
    return `Clock ${words} at ${clock.now}.`;
  },
  async reset() {
    const result = await api("POST", "/reset", {});
    // the clock goes back to the mode the sandbox started with: a frozen clock may run again
    const clock = `${result.clock.now} ${clockWords(result.clock)}`;
    return `Sandbox reset (seed ${result.seed}): no domains, records or faults; clock ${clock}.`;
  },
  async publish(d) {
    const result = await api("POST", `/domains/${d.provider}/${encodeURIComponent(d.id)}/publish`, {});
    const warned = (result.warnings || []).map((said) => ` Warning: ${said}.`).join("");
    return `Published ${result.published.length} records for ${d.name}.${warned}`;
  },
  async omit(d) {
    await api("POST", `/domains/${d.provider}/${encodeURIComponent(d.id)}/publish`, { omit: [d.kind] });
    return `Published every record but ${d.kind}.`;
  },
  async corrupt(d) {
    await api("POST", `/domains/${d.provider}/${encodeURIComponent(d.id)}/publish`, { corrupt: [d.kind] });
    return `Published every record, ${d.kind} with a wrong value.`;
  },
  async verify(d) {
    const before = state.domains.find((x) => x.provider === d.provider && x.id === d.id);
    const domain = await api("POST", `/domains/${d.provider}/${encodeURIComponent(d.id)}/verify`);
    if (!before || domain.checks > before.checks) {
      return `Checked ${domain.name} now: status ${domain.status}.`;
    }
    // a provider with a verify delay checks later: saying "checked" now would be wrong
    const at = domain.next_step_at;
    if (at && at !== before.next_step_at) {
      return `Verification of ${domain.name} started: status ${domain.status}; its check runs at ${at} on the sandbox clock.`;
    }
    if (domain.status !== before.status) return `Verification of ${domain.name} started: status ${domain.status}.`;
    // a verified Vortex domain, a ready Scaleway one: their providers check them no more
    return `Verify now changed nothing for ${domain.name}: ${domain.provider} does not check a domain that is ${domain.status} again.`;
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
  async "clear-http-faults"() {
    const result = await api("DELETE", "/http/faults");
    return `Cleared ${result.removed} HTTP fault(s).`;
  },
  // one fault, by its id: on a shared sandbox, a teammate's faults stay in force
  async "remove-fault"(d) {
    await api("DELETE", `/${d.layer}/faults/${encodeURIComponent(d.id)}`);
    return `Removed ${d.layer.toUpperCase()} fault ${d.id}.`;
  },
};

/** Opening or closing a domain's details is the page's own business: no call. */
function toggle(domainId) {
  if (state.open.has(domainId)) state.open.delete(domainId);
  else state.open.add(domainId);
  renderDomains();
}

const FORMS = {
  async "create-form"(form) {
    const body = { provider: form.provider.value, name: form.name.value.trim() };
    if (!form.api.disabled) body.api = form.api.value;
    const domain = await api("POST", "/domains", body);
    state.open.add(domainKey(domain));
    form.name.value = "";
    const at = body.api ? ` at ${domain.api}` : "";
    return `Created ${domain.name} through ${domain.provider}'s API${at}: status ${domain.status}.`;
  },
  async "scenario-form"(form) {
    const result = await api("POST", `/scenarios/${encodeURIComponent(form.name.value)}/load`);
    return `Loaded scenario ${form.name.value}: ${result.domains} domains, ${result.dns_records} DNS records.`;
  },
  async "demo-form"(form) {
    const body = { domains: Number(form.domains.value || 40) };
    if (form.seed.value) body.seed = Number(form.seed.value);
    const result = await api("POST", "/demo", body);
    return `Loaded the demo world: ${result.count} domains.`;
  },
  async "mode-form"(form) {
    const body = { mode: form.mode.value };
    if (form.mode.value === "fast") body.speed = Number(form.speed.value || 60);
    const clock = await api("POST", "/clock", body);
    const speed = clock.speed && clock.speed !== 1 ? ` ×${clock.speed}` : "";
    // a running clock leaves "now" behind at once: say where it ran from
    const at = clock.frozen ? `now ${clock.now}` : `running from ${clock.now}`;
    return `Clock mode ${clock.mode || form.mode.value}${speed}: ${at}.`;
  },
  async "fault-form"(form) {
    const body = { match: form.match.value.trim(), kind: form.kind.value };
    if (form.qtype.value) body.qtype = form.qtype.value;
    if (form.count.value) body.count = Number(form.count.value);
    if (!form.delay_ms.disabled) body.delay_ms = Number(form.delay_ms.value);
    const fault = await api("POST", "/dns/faults", body);
    return `Added DNS fault: ${fault.kind} for ${fault.match}.`;
  },
  async "http-fault-form"(form) {
    const body = { provider: form.provider.value };
    if (form.operation.value.trim()) body.operation = form.operation.value.trim();
    if (form.status.value) body.status = Number(form.status.value);
    if (form.latency_ms.value) body.latency_ms = Number(form.latency_ms.value);
    if (form.count.value) body.count = Number(form.count.value);
    if (form.drop.value) body[form.drop.value] = true; // abort, abort_after, reset or reset_after
    const fault = await api("POST", "/http/faults", body);
    return `Added HTTP fault on ${fault.provider} ${fault.operation || "every operation"}.`;
  },
  async "settings-form"(form) {
    const provider = form.provider.value;
    const changes = {};
    for (const input of form.querySelectorAll("#settings-fields input")) {
      if (input.value === input.defaultValue) continue;
      // an emptied field is no 0 (Number("") is): a setting where 0 means "never" would take it
      if (!input.value.trim()) throw new Error(`${input.name}: give a number (it was left empty)`);
      changes[input.name] = Number(input.value);
    }
    if (!Object.keys(changes).length) return `Nothing to save: ${provider}'s settings are as shown.`;
    const settings = await api("PATCH", `/providers/${provider}/settings`, changes);
    renderSettings(provider, settings);
    return `Saved ${provider}'s settings: ${Object.entries(changes).map(([k, v]) => `${k} = ${v}`).join(", ")}.`;
  },
};

async function run(action, data) {
  say("Working…");
  try {
    say(await action(data));
  } catch (error) {
    say(`Failed: ${error.message}`, true);
  }
  await refresh().catch(() => {});
  state.saidAgainst = worldShown(); // the action's own changes are in it: any later one counts
}

// --- what the panels offer: providers, bundled scenarios, a provider's settings ----------------

function renderSettings(provider, settings) {
  const fields = Object.entries(settings).map(([name, value]) =>
    h(
      "label",
      {},
      name,
      h("input", { id: `setting-${name}`, name, type: "number", min: "0", step: "any", value: String(value) }),
    ),
  );
  const shown = document.getElementById("settings-fields");
  shown.dataset.provider = provider;
  replace(shown, ...fields);
}

/** True while a field of the settings shown has the focus or differs from what the sandbox said. */
function settingsEdited() {
  if (document.activeElement?.closest("#settings-fields")) return true;
  const fields = document.querySelectorAll("#settings-fields input");
  return [...fields].some((field) => field.value !== field.defaultValue);
}

let settingsLoads = 0; // only the latest load shows: an older answer may be another provider's

/** Show the chosen provider's settings, unless those shown are its own and being edited. */
async function loadSettings() {
  const load = ++settingsLoads;
  const provider = document.getElementById("settings-provider").value;
  try {
    const settings = await api("GET", `/providers/${provider}/settings`);
    if (load !== settingsLoads) return;
    const shown = document.getElementById("settings-fields").dataset.provider;
    if (shown !== provider || !settingsEdited()) renderSettings(provider, settings);
  } catch (error) {
    say(`Failed: ${error.message}`, true);
  }
}

async function loadScenarios() {
  const { scenarios } = await api("GET", "/scenarios");
  const options = scenarios.map((s) => [s.name, s.description ? `${s.name}: ${s.description}` : s.name]);
  setOptions(document.getElementById("scenario-name"), options);
}

function renderProviders(providers) {
  const names = providers.map((p) => p.name);
  for (const select of document.querySelectorAll(".provider-choice")) setOptions(select, names.map((n) => [n, n]));
  setOptions(document.getElementById("filter-provider"), [["", "all"], ...names.map((n) => [n, n])]);
  state.operations = Object.fromEntries(providers.map((p) => [p.name, p.operations || []]));
  state.apis = Object.fromEntries(providers.map((p) => [p.name, p.apis || []]));
  suggestOperations();
  apisFor();
}

/** The create form asks which API only of a provider that serves several (Mailgun's regions). */
function apisFor() {
  const apis = state.apis[document.getElementById("create-provider").value] || [];
  const select = document.getElementById("create-api");
  setOptions(select, apis.map((a) => [a, a]));
  select.disabled = apis.length < 2;
  document.getElementById("create-api-choice").hidden = apis.length < 2;
}

/** The HTTP fault form suggests the operationIds of the provider chosen: what it may name. */
function suggestOperations() {
  const operations = state.operations[document.getElementById("http-provider").value] || [];
  setOptions(document.getElementById("http-operations"), operations.map((o) => [o, o]), false);
}

// --- wiring ----------------------------------------------------------------------------------

const underWay = new Set(); // actions running: a second click on one is not a second call

document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-action]");
  if (!button) return;
  if (button.dataset.action === "toggle") return toggle(button.dataset.key);
  const action = ACTIONS[button.dataset.action];
  const key = JSON.stringify(button.dataset); // "+72 hours" twice moved the clock 144 hours
  if (!action || underWay.has(key)) return;
  underWay.add(key);
  button.setAttribute("aria-busy", "true"); // not disabled: the focus stays where it was
  run(action, { ...button.dataset }).finally(() => {
    underWay.delete(key);
    button.removeAttribute("aria-busy");
  });
});

// A form the browser refuses is never sent: say why in place of the last action's result,
// once for the form (the browser points at its first refused field).
document.addEventListener(
  "invalid",
  (event) => {
    const field = event.target;
    if (field.form && field.form.querySelector(":invalid") !== field) return;
    const name = ownText(field.labels && field.labels[0]) || field.name;
    say(`Not sent: ${name}: ${field.validationMessage}`, true);
  },
  true,
);

/** A label's own words, without those of the controls inside it (a select's options). */
function ownText(label) {
  if (!label) return "";
  const words = [...label.childNodes].filter((node) => node.nodeType === Node.TEXT_NODE);
  return words.map((node) => node.textContent).join(" ").trim();
}

document.addEventListener("submit", (event) => {
  const action = FORMS[event.target.id];
  if (!action) return;
  event.preventDefault();
  run(() => action(event.target));
});

document.addEventListener("DOMContentLoaded", async () => {
  for (const id of ["filter-provider", "filter-status", "filter-name"]) {
    document.getElementById(id).addEventListener("input", renderDomains);
  }
  document.getElementById("settings-provider").addEventListener("change", loadSettings);
  document.getElementById("clock-mode-choice").addEventListener("change", speedFor);
  document.getElementById("fault-kind").addEventListener("change", delayFor);
  document.getElementById("http-provider").addEventListener("change", suggestOperations);
  document.getElementById("create-provider").addEventListener("change", apisFor);
  speedFor();
  delayFor();
  setInterval(showClock, 1000);
  listen();
  try {
    const [{ providers }] = await Promise.all([api("GET", "/providers"), loadScenarios()]);
    renderProviders(providers);
    await loadSettings();
  } catch (error) {
    say(`Failed: ${error.message}`, true);
  }
});
