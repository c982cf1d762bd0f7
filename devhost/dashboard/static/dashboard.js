// devhost's dashboard: the instances devhost holds, one instance's history and the way its custom
// status changed, and the durable API's operations on it.
//
// One page serves both views: /devhost/ lists instances (filters in the query string, so a
// filtered list can be shared) and /devhost/instances/{id} shows one, live. Data comes from
// devhost's JSON API (config.apiBase); every action goes through the Durable extension's own
// webhooks (config.webhookBase), the same operations as any other client's, never a second path.
// With --require-keys the master key is asked for, kept in this tab's sessionStorage and sent in
// the x-functions-key header: never in a URL, which would end up in logs.
//
// Untrusted text (ids, names, statuses, inputs) is only ever written with textContent; there are
// no inline handlers and no eval (the page runs under a strict Content-Security-Policy).
"use strict";

const config = JSON.parse(document.getElementById("devhost-config").textContent);
const API = config.apiBase || "/devhost/api";
const HOOKS = config.webhookBase || "/runtime/webhooks/durabletask";
const DASH = API.replace(/\/api\/?$/, "") || "/devhost";
const KEY_STORE = "devhost.masterKey";
const KEY_HEADER = "x-functions-key";
const STATUSES = ["Pending", "Running", "Completed", "Failed", "Terminated", "Suspended", "ContinuedAsNew"];
const ENDED = new Set(["Completed", "Failed", "Terminated", "Canceled"]);
const LIST_PAGE = 50;
const HISTORY_PAGE = 50;
const WAIT_SECONDS = 25;
// A value longer than this (as pretty JSON) is folded into a <details>.
const FOLD_CHARS = 1500;
const FOLD_LINES = 30;
// A value in a table cell longer than this (as compact JSON) is folded behind a preview.
const CELL_CHARS = 100;
const FILTER_NAMES = ["runtimeStatus", "name", "createdFrom", "createdTo", "prefix", "text"];
const $ = (id) => document.getElementById(id);

// -- talking to devhost ----------------------------------------------------------------------

/** An answer that is not a success, in words (from its body when it has one). */
class HttpFailure extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** devhost wants the master key (none given, or the one given was refused): the form is shown. */
class KeyNeeded extends Error {}

function storedKey() {
  return sessionStorage.getItem(KEY_STORE) || "";
}

// One request with the master key in its header. Throws KeyNeeded on a 401 (after showing the
// key form), HttpFailure(0) when devhost cannot be reached; other answers are returned as they are.
async function request(method, url, { body, headers, signal } = {}) {
  if (config.requireKeys && !storedKey()) {
    askForKey("devhost needs its master key to show anything.");
    throw new KeyNeeded("no key");
  }
  const init = { method, cache: "no-store", signal, headers: { Accept: "application/json", ...headers } };
  if (storedKey()) init.headers[KEY_HEADER] = storedKey();
  if (body !== undefined) {
    init.body = body;
    init.headers["Content-Type"] = "application/json";
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new HttpFailure(0, "devhost cannot be reached: is it still running?");
  }
  if (response.status === 401) {
    const hadKey = Boolean(storedKey());
    sessionStorage.removeItem(KEY_STORE);
    askForKey(hadKey
      ? "devhost did not accept that master key (401). Enter the master key again."
      : "devhost needs its master key (401).");
    throw new KeyNeeded("401");
  }
  return response;
}

// The answer's JSON; anything but a 2xx is thrown as an HttpFailure in words.
async function jsonOf(response, context) {
  if (!response.ok) throw await failureOf(response, context);
  return response.json();
}

// What went wrong, from the answer's body: devhost's {"error"}, the extension's {"Message",
// "ExceptionMessage"}, a JSON string or plain text; words of our own only for a bodiless answer
// (the webhooks answer 404 and 410 without one).
async function failureOf(response, context) {
  let text = "";
  try { text = (await response.text()).trim(); } catch (error) { text = ""; }
  return new HttpFailure(response.status, bodyWords(text) || bareWords(response, context || {}));
}

function bodyWords(text) {
  if (!text) return "";
  let data;
  try { data = JSON.parse(text); } catch (error) { return text.slice(0, 600); }
  if (typeof data === "string") return data;
  if (data && typeof data === "object") {
    if (typeof data.error === "string") return data.error;
    const message = data.Message || data.message;
    const detail = data.ExceptionMessage || data.details;
    if (message && detail && detail !== message) return message + ": " + detail;
    if (message) return String(message);
  }
  return text.slice(0, 600);
}

function bareWords(response, { id, verb }) {
  const status = response.status;
  switch (status) {
    case 404: return "devhost has no " + (id ? "instance with id " + id : "such thing") + " (404 Not Found).";
    case 410: return (id ? "Instance " + id : "The instance") + " has already ended (410 Gone), so it cannot be " + (verb || "changed") + ".";
    case 400: return "devhost refused the request as malformed (400).";
    case 409: return "devhost refused: the request conflicts with the instance's state (409).";
    default: return "devhost answered " + status + (response.statusText ? " " + response.statusText : "") + ".";
  }
}

function notice(text, kind) {
  $("notice").textContent = text || "";
  $("notice").dataset.kind = kind || "info";
}

// An error for the page-wide notice (a KeyNeeded has already shown the key form).
function failed(error) {
  if (error instanceof KeyNeeded || error.name === "AbortError") return;
  notice(error.message, "error");
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Save an answer as a file, with the key sent in a header (a plain link could not carry it).
async function download(url, filename, context) {
  const response = await request("GET", url, { headers: { Accept: "*/*" } });
  if (!response.ok) throw await failureOf(response, context);
  const blob = await response.blob();
  const href = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = href;
  link.download = filename;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(href), 60_000);
}

// -- small renderers -------------------------------------------------------------------------

function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "className") node.className = value;
    else if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

function instanceHref(id) {
  return DASH + "/instances/" + encodeURIComponent(id);
}

function instanceLink(id) {
  return el("a", { href: instanceHref(id), text: id });
}

// "2026-12-03 10:00:00.123" (UTC: the headings say so); without the milliseconds for the list.
function timeText(iso, { seconds = false } = {}) {
  if (!iso) return "";
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return String(iso);
  const text = new Date(ms).toISOString().replace("T", " ").replace("Z", "");
  return seconds ? text.slice(0, 19) : text;
}

// A <time> element (the exact value in its datetime attribute and tooltip). In a column of
// times, a row whose date is the previous row's shows the time of day only.
function timeNode(iso, { seconds = false, previous = null } = {}) {
  if (!iso) return el("span", { className: "none", text: "—" });
  let text = timeText(iso, { seconds });
  if (previous && timeText(previous).slice(0, 10) === text.slice(0, 10)) text = text.slice(11);
  return el("time", { datetime: iso, title: timeText(iso) + " UTC", text });
}

function durationText(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(Number(ms))) return "";
  const value = Number(ms);
  if (value < 1000) return Math.round(value) + " ms";
  if (value < 60_000) return (value / 1000).toFixed(2) + " s";
  const minutes = Math.floor(value / 60_000);
  if (minutes < 60) return minutes + " min " + Math.round((value % 60_000) / 1000) + " s";
  return (value / 3_600_000).toFixed(1) + " h";
}

function pretty(value) {
  return JSON.stringify(value, null, 2) ?? String(value);
}

function compact(value) {
  return JSON.stringify(value) ?? String(value);
}

function countText(n, one, many) {
  return n.toLocaleString("en") + " " + (n === 1 ? one : many);
}

// A value in its own block: pretty JSON, folded with <details> when large. A block tall enough to
// scroll can take the focus, so that it scrolls from the keyboard too.
function valueBlock(value, what) {
  if (value === null || value === undefined) return el("p", { className: "none", text: "none" });
  const text = pretty(value);
  const lines = text.split("\n").length;
  const pre = el("pre", { tabindex: text.length > 600 || lines > 18 ? 0 : null, text });
  if (text.length <= FOLD_CHARS && lines <= FOLD_LINES) return pre;
  pre.setAttribute("tabindex", "0");
  const size = countText(text.length, "character", "characters") + ", " + countText(lines, "line", "lines");
  return el("details", {}, el("summary", { text: "Show the " + what + " (" + size + ")" }), pre);
}

// A value in a table cell: compact JSON when short, else a preview that unfolds to pretty JSON.
function valueCell(value, label) {
  const text = compact(value);
  const prefix = label ? label + ": " : "";
  if (text.length <= CELL_CHARS) return el("div", {}, prefix, el("code", { text }));
  return el("details", {},
    el("summary", { text: prefix + text.slice(0, 60) + "… (" + countText(text.length, "character", "characters") + ")" }),
    el("pre", { tabindex: 0, text: pretty(value) }));
}

function cell(content, className) {
  const td = el("td", { className });
  if (content === null || content === undefined || content === "") return td;
  td.append(content);
  return td;
}

// -- the master key --------------------------------------------------------------------------

// Hide every view (and wipe the data they held) and ask for the key, saying why.
function askForKey(message) {
  stopFollowing();
  for (const id of ["list-view", "instance-view", "clock-panel"]) $(id).hidden = true;
  for (const id of ["list-body", "timeline-body", "history-body", "timers", "input-value",
    "output-value", "status-value"]) $(id).replaceChildren();
  $("key-panel").hidden = false;
  $("forget-key").hidden = true;
  notice(message, "error");
  $("key-input").focus();
}

$("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const key = $("key-input").value.trim();
  if (!key) {
    notice("Enter the master key first.", "error");
    $("key-input").focus();
    return;
  }
  sessionStorage.setItem(KEY_STORE, key);
  $("key-input").value = "";
  $("key-panel").hidden = true;
  notice("");
  boot();
  $("main").focus();
});

$("forget-key").addEventListener("click", () => {
  sessionStorage.removeItem(KEY_STORE);
  askForKey("The master key was forgotten in this tab. Enter it to see devhost's instances again.");
  $("notice").dataset.kind = "info";
});

// -- the instances view ----------------------------------------------------------------------

const list = { tokens: [null], page: 0, next: null, total: 0, sequence: 0 };

function filtersFromUrl() {
  const query = new URLSearchParams(window.location.search);
  return Object.fromEntries(FILTER_NAMES.map((name) => [name, (query.get(name) || "").trim()]));
}

function filtersToForm(filters) {
  const chosen = new Set(filters.runtimeStatus.split(",").filter(Boolean));
  for (const status of STATUSES) $("status-" + status).checked = chosen.has(status);
  const select = $("filter-name");
  if (filters.name && ![...select.options].some((option) => option.value === filters.name)) {
    select.append(new Option(filters.name, filters.name));
  }
  select.value = filters.name;
  $("filter-prefix").value = filters.prefix;
  $("filter-text").value = filters.text;
  $("filter-from").value = localInputValue(filters.createdFrom);
  $("filter-to").value = localInputValue(filters.createdTo);
}

// A datetime-local value (no zone: the label says UTC) as ISO 8601 UTC, and back.
function isoFromInput(value) {
  if (!value) return "";
  return (value.length === 16 ? value + ":00" : value) + "Z";
}

function localInputValue(iso) {
  if (!iso) return "";
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? "" : new Date(ms).toISOString().slice(0, 19);
}

function filtersFromForm() {
  return {
    runtimeStatus: STATUSES.filter((status) => $("status-" + status).checked).join(","),
    name: $("filter-name").value,
    createdFrom: isoFromInput($("filter-from").value),
    createdTo: isoFromInput($("filter-to").value),
    prefix: $("filter-prefix").value.trim(),
    text: $("filter-text").value.trim(),
  };
}

function filterQuery(filters) {
  const query = new URLSearchParams();
  for (const name of FILTER_NAMES) if (filters[name]) query.set(name, filters[name]);
  return query;
}

function filtered(filters) {
  return FILTER_NAMES.some((name) => filters[name]);
}

function buildFilterForm() {
  $("status-boxes").replaceChildren(...STATUSES.map((status) => el("label", {},
    el("input", { type: "checkbox", id: "status-" + status, value: status }), status)));
  const select = $("filter-name");
  for (const name of config.orchestrators || []) select.append(new Option(name, name));
}

function openList() {
  document.title = "Instances · devhost dashboard";
  $("list-view").hidden = false;
  filtersToForm(filtersFromUrl());
  list.tokens = [null];
  list.page = 0;
  loadList().catch(failed);
}

async function loadList() {
  const filters = filtersFromUrl();
  const query = filterQuery(filters);
  query.set("top", String(LIST_PAGE));
  const token = list.tokens[list.page];
  if (token) query.set("continuation", token);
  const sequence = ++list.sequence;
  $("list-view").setAttribute("aria-busy", "true");
  try {
    const data = await jsonOf(await request("GET", API + "/instances?" + query));
    if (sequence !== list.sequence) return;
    renderList(data, filters);
  } finally {
    if (sequence === list.sequence) $("list-view").removeAttribute("aria-busy");
  }
  if (config.manualClock) loadClock().catch(failed);
}

function renderList(data, filters) {
  const instances = data.instances || [];
  list.next = data.continuation || null;
  list.total = Number(data.total) || 0;
  const count = countText(list.total, "instance", "instances");
  $("list-total").textContent = filtered(filters)
    ? count + (list.total === 1 ? " matches" : " match") + " these filters"
    : count + " in task hub " + (config.taskHub || "");
  $("list-body").replaceChildren(...instances.map((item) => el("tr", {},
    cell(instanceLink(item.instanceId), "id"),
    cell(item.name, "name"),
    cell(el("span", { "data-status": item.runtimeStatus, text: item.runtimeStatus }), "kind"),
    cell(timeNode(item.createdTime, { seconds: true }), "time"),
    cell(timeNode(item.lastUpdatedTime, { seconds: true }), "time"),
    cell(item.customStatusPreview === null || item.customStatusPreview === undefined
      ? null : item.customStatusPreview, "preview"))));
  $("list-empty").hidden = instances.length > 0;
  const pages = Math.max(1, Math.ceil(list.total / LIST_PAGE));
  $("list-page").textContent = "Page " + (list.page + 1) + " of " + pages;
  $("list-prev").disabled = list.page === 0;
  $("list-next").disabled = !list.next;
}

$("filters").addEventListener("submit", (event) => {
  event.preventDefault();
  const filters = filtersFromForm();
  if (filters.createdFrom && filters.createdTo && filters.createdFrom > filters.createdTo) {
    $("filter-error").textContent = "“Created from” is later than “Created up to”: no instance could match.";
    $("filter-from").focus();
    return;
  }
  $("filter-error").textContent = "";
  const query = filterQuery(filters).toString();
  history.pushState(null, "", DASH + "/" + (query ? "?" + query : ""));
  list.tokens = [null];
  list.page = 0;
  loadList().catch(failed);
});

$("filter-clear").addEventListener("click", () => {
  history.pushState(null, "", DASH + "/");
  $("filter-error").textContent = "";
  openList();
});

$("list-refresh").addEventListener("click", () => loadList().catch(failed));

$("list-next").addEventListener("click", () => {
  if (!list.next) return;
  list.tokens = list.tokens.slice(0, list.page + 1);
  list.tokens.push(list.next);
  list.page += 1;
  loadList().catch(failed);
});

$("list-prev").addEventListener("click", () => {
  if (list.page === 0) return;
  list.page -= 1;
  loadList().catch(failed);
});

$("list-export").addEventListener("click", () => {
  const query = filterQuery(filtersFromUrl()).toString();
  download(API + "/instances.csv" + (query ? "?" + query : ""), "instances.csv")
    .then(() => notice("The list was saved as instances.csv."))
    .catch(failed);
});

// -- one instance, followed live -------------------------------------------------------------

// {id, etag, abort, data, historyOffset, historyTotal, historySequence, rerunFilled, gone}
let current = null;

function stopFollowing() {
  if (current) {
    current.abort.abort();
    current.stopped = true;
  }
}

function instanceApi(id) {
  return API + "/instances/" + encodeURIComponent(id);
}

function instanceHook(id) {
  return HOOKS + "/instances/" + encodeURIComponent(id);
}

function openInstance(id) {
  stopFollowing();
  current = { id, etag: null, abort: new AbortController(), data: null, historyOffset: 0,
    historyTotal: 0, historySequence: 0, rerunFilled: false, gone: false, stopped: false };
  document.title = id + " · devhost dashboard";
  $("instance-view").hidden = false;
  $("instance-body").hidden = false;
  $("instance-id").textContent = id;
  $("live-state").textContent = "Loading…";
  follow(current);
}

// Long-poll the instance: the API answers at its next committed change (a new ETag) or with a 304
// once WAIT_SECONDS pass; each change reloads the timeline and the history page in view.
async function follow(state) {
  let first = true;
  while (state === current && !state.stopped) {
    const started = Date.now();
    try {
      const url = instanceApi(state.id) + (first ? "" : "?waitSeconds=" + WAIT_SECONDS);
      const headers = state.etag ? { "If-None-Match": state.etag } : {};
      const response = await request("GET", url, { headers, signal: state.abort.signal });
      if (state !== current || state.stopped) return;
      if (response.status === 404) {
        renderGone(state, await failureOf(response, { id: state.id }));
        return;
      }
      if (response.status !== 304) {
        const data = await jsonOf(response, { id: state.id });
        state.etag = response.headers.get("ETag");
        await refresh(state, data);
      }
      if (!first) await pace(state, response.status, Date.now() - started);
      first = false;
    } catch (error) {
      if (error instanceof KeyNeeded || error.name === "AbortError") return;
      failed(error);
      $("live-state").textContent = "Updates paused: " + error.message + " Trying again in a few seconds.";
      await pause(5000);
    }
  }
}

// Between two polls: nothing when the API long-polls as it should. Without an ETag to wait on,
// or with a 304 at once (no long polling), poll every 2 s; an instance that changes all the time
// is refreshed at most twice a second.
async function pace(state, status, elapsed) {
  if (!state.etag || (status === 304 && elapsed < 1000)) await pause(2000);
  else if (elapsed < 500) await pause(500 - elapsed);
}

async function refresh(state, data) {
  state.data = data;
  renderInstance(state, data);
  await Promise.all([loadTimeline(state), loadHistory(state)]);
  if (config.manualClock) loadClock().catch(failed);
}

function renderGone(state, failure) {
  state.gone = true;
  $("instance-body").hidden = true;
  $("live-state").textContent = "";
  notice(failure.status === 404
    ? "devhost has no instance with id " + state.id + ": it was purged, or never existed."
    : failure.message, "error");
}

function renderInstance(state, data) {
  const status = data.runtimeStatus || "";
  const ended = ENDED.has(status);
  $("instance-name").textContent = data.name || "";
  $("runtime-status").textContent = status + (data.suspended && status !== "Suspended" ? " (suspended)" : "");
  $("runtime-status").dataset.status = status;
  $("created-time").replaceChildren(timeNode(data.createdTime));
  $("last-updated-time").replaceChildren(timeNode(data.lastUpdatedTime));
  $("execution-id").textContent = data.executionId || "—";
  $("parent-instance").replaceChildren(data.parentInstanceId ? instanceLink(data.parentInstanceId) : "none");
  $("history-length").textContent = data.historyLength === undefined ? "" : String(data.historyLength);
  $("status-changes").textContent = data.statusChanges === undefined ? "" : String(data.statusChanges);
  $("live-state").textContent = ended
    ? "Ended (" + status + "). Still watched: a rewind or a purge shows here."
    : "Live: this view updates as devhost commits each change.";
  document.title = (data.name ? data.name + " " : "") + state.id + " · devhost dashboard";

  const problems = Array.isArray(data.devhostProblems) ? data.devhostProblems : [];
  $("problems").hidden = problems.length === 0;
  $("problems-list").replaceChildren(...problems.map((problem) => el("li", { text: String(problem) })));

  $("input-value").replaceChildren(valueBlock(data.input, "input"));
  $("output-value").replaceChildren(valueBlock(data.output, "output"));
  $("status-value").replaceChildren(valueBlock(data.customStatus, "custom status"));
  $("status-reference").hidden = !isReference(data.customStatus);

  const suspended = status === "Suspended" || Boolean(data.suspended);
  $("act-terminate").disabled = ended;
  $("act-suspend").disabled = ended || suspended;
  $("act-resume").disabled = !suspended;
  $("act-rewind").disabled = status !== "Failed";
  $("event-form").querySelector("button[type=submit]").disabled = ended;
  $("rerun-name").textContent = data.name || "the same orchestrator";
  if (!state.rerunFilled) {
    $("rerun-input").value = data.input === null || data.input === undefined ? "" : pretty(data.input);
    state.rerunFilled = true;
  }
}

// An app-level reference: an object whose only member's name starts with "$" (such as this
// repository's {"$customStatusLog": {...}}); shown as the host holds it, never resolved here.
function isReference(value) {
  if (!value || typeof value !== "object" || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && keys[0].startsWith("$");
}

async function loadTimeline(state) {
  const data = await jsonOf(await request("GET", instanceApi(state.id) + "/status-timeline",
    { signal: state.abort.signal }), { id: state.id });
  if (state !== current) return;
  const changes = data.changes || [];
  const dropped = Number(data.dropped) || 0;
  $("timeline-dropped").hidden = dropped === 0;
  $("timeline-dropped").textContent = countText(dropped, "older change", "older changes") + " not kept (devhost keeps the last "
    + Number(data.kept).toLocaleString("en") + " per instance: --status-changes-kept).";
  $("timeline-empty").hidden = changes.length > 0 || dropped > 0;
  $("timeline-wrap").hidden = changes.length === 0;
  $("timeline-body").replaceChildren(...changes.map((change, i) => el("tr", {},
    cell(String(change.sequence), "num"),
    cell(timeNode(change.time, { previous: i ? changes[i - 1].time : null }), "time"),
    cell(el("code", { className: "execution", text: change.executionId || "" })),
    cell(String(change.episode), "num"),
    cell(valueCell(change.customStatus), "value"))));
}

async function loadHistory(state) {
  const sequence = ++state.historySequence;
  const url = instanceApi(state.id) + "/history?offset=" + state.historyOffset + "&top=" + HISTORY_PAGE;
  const data = await jsonOf(await request("GET", url, { signal: state.abort.signal }), { id: state.id });
  if (state !== current || sequence !== state.historySequence) return;
  state.historyTotal = Number(data.total) || 0;
  if (state.historyOffset >= state.historyTotal && state.historyTotal > 0) {
    state.historyOffset = lastOffset(state.historyTotal); // the history shrank (a rewind)
    await loadHistory(state);
    return;
  }
  const events = data.events || [];
  $("history-body").replaceChildren(...events.map((event, i) => historyRow(event, i ? events[i - 1] : null)));
  const first = events.length ? state.historyOffset + 1 : 0;
  $("history-range").textContent = "Events " + first + "–" + (state.historyOffset + events.length)
    + " of " + state.historyTotal.toLocaleString("en");
  const pages = Math.max(1, Math.ceil(state.historyTotal / HISTORY_PAGE));
  const page = Math.floor(state.historyOffset / HISTORY_PAGE) + 1;
  $("history-page").textContent = "Page " + page + " of " + pages;
  $("history-first").disabled = $("history-prev").disabled = state.historyOffset === 0;
  $("history-next").disabled = $("history-last").disabled =
    state.historyOffset + HISTORY_PAGE >= state.historyTotal;
}

function lastOffset(total) {
  return Math.max(0, Math.floor((total - 1) / HISTORY_PAGE) * HISTORY_PAGE);
}

// One history event. The value column comes last: it is the widest, and the short columns
// before it stay in view when the table scrolls sideways.
function historyRow(event, previous) {
  const values = el("td", { className: "value" });
  if (event.input !== null && event.input !== undefined) values.append(valueCell(event.input, "input"));
  if (event.result !== null && event.result !== undefined) values.append(valueCell(event.result, "result"));
  if (event.reason || event.details) {
    const reason = "reason: " + (event.reason || "(none)");
    values.append(event.details
      ? el("details", {}, el("summary", { text: reason }), el("pre", { tabindex: 0, text: event.details }))
      : el("div", { text: reason }));
  }
  let name = event.name || "";
  if (event.taskScheduledId !== null && event.taskScheduledId !== undefined) {
    const of = /^Timer/.test(event.eventType || "") ? "timer " : "task ";
    name = (name ? name + " " : "") + "(" + of + event.taskScheduledId + ")";
  }
  return el("tr", {},
    cell(String(event.index), "num"),
    cell(timeNode(event.timestamp, { previous: previous && previous.timestamp }), "time"),
    cell(kindNode(event.eventType || ""), "event"),
    cell(name, "name"),
    cell(durationText(event.durationMs), "num"),
    cell(event.attempt === null || event.attempt === undefined ? "" : String(event.attempt), "num"),
    cell(event.fireAt ? timeNode(event.fireAt, { previous: event.timestamp }) : null, "time"),
    cell(event.subInstanceId ? instanceLink(event.subInstanceId) : null, "id"),
    values);
}

// An event kind that may wrap between its words ("SubOrchestration", "Instance", "Completed").
function kindNode(kind) {
  const node = el("span");
  kind.split(/(?=[A-Z][a-z])/).forEach((part, index) => {
    if (index) node.append(el("wbr"));
    node.append(part);
  });
  return node;
}

function historyPage(offset) {
  if (!current) return;
  current.historyOffset = offset;
  loadHistory(current).catch(failed);
}

$("history-first").addEventListener("click", () => historyPage(0));
$("history-prev").addEventListener("click", () => historyPage(Math.max(0, current.historyOffset - HISTORY_PAGE)));
$("history-next").addEventListener("click", () => historyPage(current.historyOffset + HISTORY_PAGE));
$("history-last").addEventListener("click", () => historyPage(lastOffset(current.historyTotal)));

$("history-export").addEventListener("click", () => {
  if (!current) return;
  const filename = current.id.replace(/[^A-Za-z0-9._-]+/g, "_") + ".history.jsonl";
  download(instanceApi(current.id) + "/history.jsonl", filename, { id: current.id })
    .then(() => notice("The history was saved as " + filename + "."))
    .catch(failed);
});

// -- steering: the durable webhooks ----------------------------------------------------------

// Ask first, in a modal <dialog>: resolves to {ok, reason}.
function confirmAction(text, label, withReason) {
  const dialog = $("confirm-dialog");
  $("confirm-text").textContent = text;
  $("confirm-ok").textContent = label;
  $("confirm-reason-row").hidden = !withReason;
  $("confirm-reason").value = "";
  return new Promise((resolve) => {
    const listening = new AbortController();
    const answer = (ok) => (event) => {
      if (event) event.preventDefault();
      listening.abort();
      if (dialog.open) dialog.close();
      resolve({ ok, reason: $("confirm-reason").value.trim() });
    };
    const options = { signal: listening.signal };
    $("confirm-form").addEventListener("submit", answer(true), options);
    $("confirm-cancel").addEventListener("click", answer(false), options);
    dialog.addEventListener("cancel", answer(false), options); // Escape
    dialog.showModal();
    $("confirm-cancel").focus();
  });
}

// One webhook call for the open instance; the answer's body (or words for a bare one) on failure.
async function operate(button, method, path, { verb, body } = {}) {
  const state = current;
  $("action-error").textContent = "";
  button.disabled = true;
  try {
    const response = await request(method, instanceHook(state.id) + path, { body });
    if (!response.ok) throw await failureOf(response, { id: state.id, verb });
    return true;
  } catch (error) {
    if (!(error instanceof KeyNeeded)) {
      $("action-error").textContent = error.message;
      button.focus();
    }
    return false;
  } finally {
    if (state.data) renderInstance(state, state.data); // the buttons as the state allows
  }
}

function reasonQuery(reason, fallback) {
  return "?reason=" + encodeURIComponent(reason || fallback);
}

async function steer(button, { text, label, withReason, path, verb, done }) {
  if (!current) return;
  const id = current.id;
  const answer = await confirmAction(text.replace("{id}", id), label, withReason);
  if (!answer.ok) {
    button.focus();
    return;
  }
  const suffix = withReason ? reasonQuery(answer.reason, label + "d from the devhost dashboard") : "";
  if (await operate(button, "POST", path + suffix, { verb })) notice(done.replace("{id}", id));
  button.focus();
}

$("act-terminate").addEventListener("click", (event) => steer(event.currentTarget, {
  text: "Terminate instance {id}? It stops at once and cannot be resumed.",
  label: "Terminate", withReason: true, path: "/terminate", verb: "terminated",
  done: "Instance {id} is being terminated.",
}));

$("act-suspend").addEventListener("click", (event) => steer(event.currentTarget, {
  text: "Suspend instance {id}? It stops running episodes until it is resumed; events raised meanwhile wait.",
  label: "Suspend", withReason: true, path: "/suspend", verb: "suspended",
  done: "Instance {id} is being suspended.",
}));

$("act-rewind").addEventListener("click", (event) => steer(event.currentTarget, {
  text: "Rewind instance {id}? Its failed tasks run again from where they failed.",
  label: "Rewind", withReason: true, path: "/rewind", verb: "rewound",
  done: "Instance {id} is being rewound.",
}));

$("act-resume").addEventListener("click", async (event) => {
  const button = event.currentTarget;
  if (!current) return;
  const id = current.id;
  const path = "/resume" + reasonQuery("", "Resumed from the devhost dashboard");
  if (await operate(button, "POST", path, { verb: "resumed" })) notice("Instance " + id + " is being resumed.");
});

$("act-purge").addEventListener("click", async (event) => {
  const button = event.currentTarget;
  if (!current) return;
  const state = current;
  const running = state.data && !ENDED.has(state.data.runtimeStatus);
  const answer = await confirmAction("Purge instance " + state.id + "? Its history, status and "
    + "timeline are deleted for good" + (running ? ", although it has not ended." : "."), "Purge", false);
  if (!answer.ok) {
    button.focus();
    return;
  }
  $("action-error").textContent = "";
  try {
    const response = await request("DELETE", instanceHook(state.id));
    if (!response.ok) throw await failureOf(response, { id: state.id, verb: "purged" });
    stopFollowing();
    state.gone = true;
    $("instance-body").hidden = true;
    $("live-state").textContent = "";
    notice("Instance " + state.id + " was purged.");
    $("back-link").focus();
  } catch (error) {
    if (!(error instanceof KeyNeeded)) $("action-error").textContent = error.message;
  }
});

function fieldError(input, errorId, message) {
  $(errorId).textContent = message;
  input.setAttribute("aria-invalid", message ? "true" : "false");
  if (message) input.focus();
}

// The JSON a field holds, checked with JSON.parse before anything is sent; null when invalid
// (the error is shown next to the field, in words).
function checkedJson(input, errorId, what, { optional } = {}) {
  const text = input.value.trim();
  if (!text) {
    if (optional) return { text: undefined };
    fieldError(input, errorId, "Enter the " + what + " as JSON (null for none).");
    return null;
  }
  try {
    JSON.parse(text);
  } catch (error) {
    fieldError(input, errorId, "The " + what + " is not valid JSON: " + error.message
      + ". Strings need double quotes, e.g. \"London\".");
    return null;
  }
  fieldError(input, errorId, "");
  return { text };
}

$("event-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!current) return;
  const state = current;
  const name = $("event-name").value.trim();
  if (!name) {
    fieldError($("event-name"), "event-error", "Enter the event's name (e.g. BookingConfirmed).");
    return;
  }
  $("event-name").setAttribute("aria-invalid", "false");
  const data = checkedJson($("event-data"), "event-error", "event data");
  if (!data) return;
  const button = event.submitter || $("event-form").querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const path = "/raiseEvent/" + encodeURIComponent(name);
    const response = await request("POST", instanceHook(state.id) + path, { body: data.text });
    if (!response.ok) throw await failureOf(response, { id: state.id, verb: "sent an event" });
    $("event-error").textContent = "";
    notice("Event " + name + " was raised with " + compact(JSON.parse(data.text)) + ".");
  } catch (error) {
    if (!(error instanceof KeyNeeded)) $("event-error").textContent = error.message;
  } finally {
    if (state.data) renderInstance(state, state.data);
  }
});

$("rerun-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!current || !current.data) return;
  const name = current.data.name;
  const input = checkedJson($("rerun-input"), "rerun-error", "input", { optional: true });
  if (!input) return;
  try {
    const response = await request("POST", HOOKS + "/orchestrators/" + encodeURIComponent(name), { body: input.text });
    const started = await jsonOf(response, { verb: "started" });
    if (!started || !started.id) throw new HttpFailure(response.status, "devhost started an instance but did not say its id.");
    window.location.assign(instanceHref(started.id));
  } catch (error) {
    if (!(error instanceof KeyNeeded)) $("rerun-error").textContent = error.message;
  }
});

// -- devhost's clock -------------------------------------------------------------------------

async function loadClock() {
  const data = await jsonOf(await request("GET", API + "/clock"));
  $("clock-panel").hidden = false;
  $("clock-now").textContent = timeText(data.now);
  $("clock-now").setAttribute("datetime", data.now || "");
  const timers = data.timers || [];
  $("timers-empty").hidden = timers.length > 0;
  $("timers").replaceChildren(...timers.map((timer) => el("li", {},
    timeNode(timer.fireAt), " ", timer.name || "", " ", instanceLink(timer.instanceId))));
  $("clock-next").disabled = timers.length === 0;
}

async function advance(body) {
  $("clock-error").textContent = "";
  try {
    const data = await jsonOf(await request("POST", API + "/clock/advance", { body: JSON.stringify(body) }));
    notice("devhost's clock now reads " + timeText(data.now) + " UTC.");
    await loadClock();
  } catch (error) {
    if (!(error instanceof KeyNeeded)) $("clock-error").textContent = error.message;
  }
}

$("clock-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("clock-seconds").value.trim();
  const seconds = Number(text);
  if (!text || !Number.isFinite(seconds) || seconds < 0) {
    $("clock-error").textContent = "Enter a number of seconds, 0 or more.";
    $("clock-seconds").focus();
    return;
  }
  advance({ seconds });
});

$("clock-next").addEventListener("click", () => advance({ toNextTimer: true }));
$("clock-refresh").addEventListener("click", () => loadClock().catch(failed));

// -- start -----------------------------------------------------------------------------------

function route() {
  const prefix = DASH + "/instances/";
  const path = window.location.pathname;
  if (path.startsWith(prefix) && path.length > prefix.length) {
    try {
      return { view: "instance", id: decodeURIComponent(path.slice(prefix.length)) };
    } catch (error) {
      return { view: "instance", id: path.slice(prefix.length) };
    }
  }
  return { view: "list" };
}

function boot() {
  $("task-hub").textContent = config.taskHub || "";
  $("forget-key").hidden = !(config.requireKeys && storedKey());
  if (config.requireKeys && !storedKey()) {
    askForKey("");
    $("notice").textContent = "";
    return;
  }
  $("key-panel").hidden = true;
  const where = route();
  if (where.view === "instance") openInstance(where.id);
  else openList();
}

window.addEventListener("popstate", () => {
  if (route().view === "list" && !$("list-view").hidden) openList();
});

buildFilterForm();
boot();
