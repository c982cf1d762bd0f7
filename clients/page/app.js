// The client page: start a sample, follow an instance live, act on what its custom status says.
//
// Rendering is driven by the shape of the custom status, never by the orchestrator's name, so a
// new orchestrator that publishes the same shapes needs no change here:
//   a string                       a stage, shown as a stepper of the stages seen so far
//   {recommendedCities: [...]}     choices: one button per city, raising CitySelected
//   {discount, bookingUrl, discountTimeout}
//                                  instructions: a countdown, Confirm/Decline raising BookingConfirmed
//   {done, total, <rows>: [...]}   progress: a bar, and the rows as a paged table
//   {message} / other members      shown as a message and as details
// Only textContent writes untrusted text; no inline handlers (the page's CSP forbids them).

const config = JSON.parse(document.getElementById("page-config").textContent);
const API = config.apiBase;
const ENDED = new Set(["Completed", "Failed", "Terminated", "Canceled"]);
const EVENTS = { citySelected: "CitySelected", bookingConfirmed: "BookingConfirmed" };
const PAGE_ROWS = 50;
// Above this many rows the page stops downloading the table on every change while the instance
// runs (a 100,000-row table is ~32 MB): it polls the summary and loads the table at the end.
const LARGE_TABLE_ROWS = 5000;
const MIN_POLL_MS = 500;
const $ = (id) => document.getElementById(id);

// -- the function key ----------------------------------------------------------------------------
// Taken from ?code= once, then kept in this tab's sessionStorage and removed from the address, so
// it is not shared with a copied link or shown in a screenshot. Never written into the page.
const KEY_STORE = "functionKey";
const params = new URLSearchParams(window.location.search);
if (params.has("code")) {
  sessionStorage.setItem(KEY_STORE, params.get("code"));
  params.delete("code");
  const rest = params.toString();
  history.replaceState(null, "", window.location.pathname + (rest ? "?" + rest : ""));
}

function headers(extra) {
  const key = sessionStorage.getItem(KEY_STORE);
  return { Accept: "application/json", ...(key ? { "x-functions-key": key } : {}), ...extra };
}

// -- talking to the API ------------------------------------------------------------------------
class ApiFailure extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// One request to the API with the key; an unreachable app is an ApiFailure with status 0.
async function send(method, path, { body, extraHeaders } = {}) {
  const init = { method, cache: "no-store", headers: headers(extraHeaders) };
  if (body !== undefined) {
    init.body = body;
    init.headers["Content-Type"] = "application/json";
  }
  try {
    return await fetch(API + path, init);
  } catch (error) {
    throw new ApiFailure(0, "The app cannot be reached; check your connection.");
  }
}

// The answer's JSON (null if none); an error status is thrown as an ApiFailure in plain words.
async function dataOf(response) {
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (error) { data = null; }
  if (!response.ok) throw new ApiFailure(response.status, explain(response.status, data));
  return data;
}

async function api(method, path, body) {
  return dataOf(await send(method, path, { body }));
}

// API errors in plain words.
function explain(status, data) {
  const detail = data && data.message ? data.message : "";
  switch (status) {
    case 401: return "The app needs a function key (or the key given is wrong).";
    case 404: return detail || "Not found.";
    case 409: case 410: case 400: return detail || "The app refused the request.";
    case 502: return "The custom status cannot be shown: " + (detail || "its stored copy is damaged.");
    case 503: return "Storage is unreachable for now: " + (detail || "try again shortly.");
    default: return "The app answered " + status + (detail ? ": " + detail : ".");
  }
}

function notice(text, kind) {
  $("notice").textContent = text || "";
  $("notice").dataset.kind = kind || "info";
}

function failed(error) {
  if (error instanceof ApiFailure && error.status === 401) {
    $("key-panel").hidden = false;
    $("key-input").focus();
  }
  notice(error.message, "error");
}

// -- start form and recent instances -------------------------------------------------------------
let startables = [];

async function loadStartables() {
  startables = await api("GET", "/orchestrators");
  const select = $("start-name");
  select.replaceChildren(...startables.map((s) => new Option(s.name, s.name)));
  showInputHelp(true);
}

function showInputHelp(fillExample) {
  const chosen = startables.find((s) => s.name === $("start-name").value);
  if (!chosen) return;
  $("start-help").textContent = chosen.inputHelp;
  if (fillExample) {
    $("start-input").value = chosen.exampleInput === null ? "" : JSON.stringify(chosen.exampleInput);
  }
  $("start-error").textContent = "";
}

async function startInstance(event) {
  event.preventDefault();
  const name = $("start-name").value;
  const text = $("start-input").value.trim();
  if (text) {
    try { JSON.parse(text); } catch (error) {
      $("start-error").textContent = "The input is not valid JSON: " + error.message;
      $("start-input").focus();
      return;
    }
  }
  try {
    const started = await api("POST", "/orchestrators/" + encodeURIComponent(name), text || undefined);
    openInstance(started.id, true);
    loadRecent().catch(failed);
  } catch (error) {
    if (error instanceof ApiFailure && error.status === 400) {
      $("start-error").textContent = error.message;
      $("start-input").focus();
    } else {
      failed(error);
    }
  }
}

async function loadRecent() {
  const instances = await api("GET", "/instances?top=20");
  $("recent-empty").hidden = instances.length > 0;
  $("recent-list").replaceChildren(...instances.map((item) => {
    const li = document.createElement("li");
    const link = document.createElement("a");
    link.href = "?instance=" + encodeURIComponent(item.instanceId);
    link.textContent = item.name + " · " + item.instanceId;
    link.addEventListener("click", (event) => {
      event.preventDefault();
      openInstance(item.instanceId, true);
    });
    li.append(link, " — " + item.runtimeStatus + ", created " + item.createdTime);
    return li;
  }));
}

// -- one instance, followed live -----------------------------------------------------------------
// {id, etag, timer, busy, again, stages, deadline, rows, page, summaryOnly, ended}
let current = null;

function openInstance(id, push) {
  if (current && current.timer) clearTimeout(current.timer);
  current = { id, etag: null, timer: null, busy: false, again: false, stages: [], deadline: null,
    rows: null, page: 0, summaryOnly: false, ended: false };
  if (push) history.pushState(null, "", "?instance=" + encodeURIComponent(id));
  $("instance-panel").hidden = false;
  $("instance-id").textContent = id;
  $("share-link").href = "?instance=" + encodeURIComponent(id);
  for (const view of document.querySelectorAll(".view")) view.hidden = true;
  $("runtime-status").textContent = "loading…";
  $("output").textContent = "…";
  $("raw-status").textContent = "";
  notice("");
  poll(current);
  $("instance-title").scrollIntoView({ block: "start" });
}

// Ask again now (after an event or a command), without ever running two polls of one instance:
// a poll in flight is followed at once by another instead.
function pollSoon(followed) {
  if (followed.busy) {
    followed.again = true;
    return;
  }
  if (followed.timer) clearTimeout(followed.timer);
  poll(followed);
}

async function poll(followed) {
  if (followed !== current) return;
  followed.busy = true;
  let delay = null;
  try {
    delay = followed.summaryOnly ? await pollSummary(followed) : await pollStatus(followed);
  } catch (error) {
    failed(error);
    if (error instanceof ApiFailure && error.status === 502) {
      // The stored status cannot be shown, but the instance itself can.
      api("GET", statusPath(followed.id) + "?resolve=false")
        .then((body) => { if (followed === current) renderFacts(body); })
        .catch(() => {});
    }
    // Unreachable app or storage, or a status blob that cannot be read: keep trying, slowly.
    const retrying = error instanceof ApiFailure && [0, 502, 503].includes(error.status);
    delay = retrying ? 5000 : null;
    if (error instanceof ApiFailure && error.status === 404) {
      $("runtime-status").textContent = "not found";
      notice("No instance with id " + followed.id + " (it may not exist yet, or was purged).", "error");
      delay = 5000;
    }
  }
  followed.busy = false;
  if (followed.again && delay !== null) {
    followed.again = false;
    delay = 0;
  }
  if (followed === current && delay !== null) followed.timer = setTimeout(() => poll(followed), delay);
}

function retryAfterMs(response) {
  const seconds = Number(response.headers.get("Retry-After"));
  return Number.isFinite(seconds) && seconds > 0 ? Math.max(seconds * 1000, MIN_POLL_MS) : 1000;
}

// The resolved status, with If-None-Match: an unchanged status is a bodiless 304.
async function pollStatus(followed) {
  const extra = followed.etag ? { "If-None-Match": followed.etag } : {};
  const response = await send("GET", statusPath(followed.id), { extraHeaders: extra });
  if (response.status === 304) return retryAfterMs(response);
  const body = await dataOf(response);
  followed.etag = response.headers.get("ETag");
  if (followed !== current) return null;
  notice("");
  render(followed, body);
  if (ENDED.has(body.runtimeStatus)) return finish(followed, body);
  const rows = tableOf(body.customStatus);
  if (rows && rows.rows.length > LARGE_TABLE_ROWS) followed.summaryOnly = true;
  return retryAfterMs(response);
}

// For a large table: the unresolved status, whose reference carries the summary.
async function pollSummary(followed) {
  const body = await api("GET", statusPath(followed.id) + "?resolve=false");
  if (followed !== current) return null;
  const reference = body.customStatus && (body.customStatus.$customStatusLog || body.customStatus.$customStatusRef);
  const summary = reference && reference.summary;
  renderFacts(body);
  if (summary) renderProgress(followed, summary, null);
  $("rows-later").hidden = false;
  if (ENDED.has(body.runtimeStatus)) {
    followed.summaryOnly = false;
    followed.etag = null;
    return 0; // one last resolved read, then stop
  }
  return 2000;
}

function finish(followed, body) {
  followed.ended = true;
  loadRecent().catch(failed);
  notice("The instance has ended: " + body.runtimeStatus + ". Updates stopped.");
  return null; // renderFacts has already switched Terminate off and Purge on
}

function statusPath(id) {
  return "/status/" + encodeURIComponent(id);
}

function renderFacts(body) {
  $("instance-name").textContent = body.name || "";
  $("runtime-status").textContent = body.runtimeStatus || "";
  $("runtime-status").dataset.status = body.runtimeStatus || "";
  $("created-time").textContent = body.createdTime || "";
  $("last-updated-time").textContent = body.lastUpdatedTime || "";
  const ended = ENDED.has(body.runtimeStatus);
  $("terminate").disabled = ended;
  $("purge").disabled = !ended;
}

function render(followed, body) {
  renderFacts(body);
  const status = body.customStatus;
  $("raw-status").textContent = status === undefined ? "" : JSON.stringify(status, null, 2);
  $("output").textContent = body.output === null || body.output === undefined
    ? "(none yet)" : JSON.stringify(body.output, null, 2);
  const ended = ENDED.has(body.runtimeStatus);
  renderStages(followed, status);
  const isObject = status !== null && typeof status === "object" && !Array.isArray(status);
  renderChoices(isObject && Array.isArray(status.recommendedCities) && !ended ? status : null);
  renderOffer(followed, isObject && "discount" in status && "bookingUrl" in status && !ended ? status : null);
  const table = isObject ? tableOf(status) : null;
  if (isObject && Number.isInteger(status.done) && Number.isInteger(status.total)) {
    renderProgress(followed, status, table);
  } else {
    $("progress-view").hidden = true;
  }
  renderMessage(isObject ? status : null);
  renderDetails(isObject ? status : null, table);
}

function renderStages(followed, status) {
  if (typeof status === "string" && followed.stages[followed.stages.length - 1] !== status) {
    followed.stages.push(status);
  }
  $("stage-view").hidden = followed.stages.length === 0;
  $("stages").replaceChildren(...followed.stages.map((stage, index) => {
    const li = document.createElement("li");
    li.textContent = stage;
    if (index === followed.stages.length - 1) li.setAttribute("aria-current", "step");
    return li;
  }));
}

function renderChoices(status) {
  $("choice-view").hidden = !status;
  if (!status) return;
  $("choice-seasons").textContent = (status.recommendedSeasons || []).join(", ") || "you";
  $("choice-buttons").replaceChildren(...status.recommendedCities.map((city) => {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = String(city);
    button.addEventListener("click", () => raise(EVENTS.citySelected, city));
    return button;
  }));
}

function renderOffer(followed, status) {
  $("offer-view").hidden = !status;
  if (!status) return;
  $("offer-discount").textContent = String(status.discount);
  const url = String(status.bookingUrl);
  if (/^https:\/\//.test(url)) $("offer-link").href = url; else $("offer-link").removeAttribute("href");
  if (followed.deadline === null && Number.isFinite(Number(status.discountTimeout))) {
    const since = Date.parse($("last-updated-time").textContent) || Date.now();
    followed.deadline = since + Number(status.discountTimeout) * 1000;
    tick(followed);
  }
}

function tick(followed) {
  if (followed !== current || followed.ended || $("offer-view").hidden) return;
  const left = Math.max(0, Math.round((followed.deadline - Date.now()) / 1000));
  $("offer-countdown").textContent = left > 0
    ? "The offer expires in " + Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0") + "."
    : "The offer's time is up; waiting for the app to close it.";
  setTimeout(() => tick(followed), 1000);
}

// The first member holding a list of objects is the table ({done, total, items: [...]}).
function tableOf(status) {
  if (!status || typeof status !== "object") return null;
  for (const [key, value] of Object.entries(status)) {
    if (Array.isArray(value) && value.length && value.every((row) => row && typeof row === "object" && !Array.isArray(row))) {
      return { key, rows: value };
    }
  }
  return null;
}

function renderProgress(followed, summary, table) {
  $("progress-view").hidden = false;
  const total = Math.max(summary.total, 1);
  $("progress-bar").max = total;
  $("progress-bar").value = Math.min(summary.done, total);
  $("progress-text").textContent = summary.done + " of " + summary.total + " done";
  if (!table) {
    $("rows-view").hidden = true;
    return;
  }
  $("rows-later").hidden = true;
  followed.rows = table.rows;
  renderRows(followed);
}

function renderRows(followed) {
  const rows = followed.rows || [];
  $("rows-view").hidden = rows.length === 0;
  const pages = Math.max(1, Math.ceil(rows.length / PAGE_ROWS));
  followed.page = Math.min(followed.page, pages - 1);
  const first = followed.page * PAGE_ROWS;
  const shown = rows.slice(first, first + PAGE_ROWS);
  const columns = [...new Set(shown.flatMap((row) => Object.keys(row)))];
  $("rows-head").replaceChildren(...columns.map((column) => {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = column;
    return th;
  }));
  $("rows-body").replaceChildren(...shown.map((row) => {
    const tr = document.createElement("tr");
    tr.append(...columns.map((column) => {
      const td = document.createElement("td");
      const value = row[column];
      td.textContent = value === undefined ? "" : typeof value === "string" ? value : JSON.stringify(value);
      return td;
    }));
    return tr;
  }));
  $("rows-caption").textContent = "Rows " + (rows.length ? first + 1 : 0) + "–" + (first + shown.length) + " of " + rows.length;
  $("rows-page").textContent = "Page " + (followed.page + 1) + " of " + pages;
  $("rows-prev").disabled = followed.page === 0;
  $("rows-next").disabled = followed.page >= pages - 1;
}

function renderMessage(status) {
  const text = status && (status.message || status.suggestion);
  $("message-view").hidden = !text;
  $("status-message").textContent = text ? String(text) : "";
}

// Members no view above shows, as a small list (e.g. selectedCity and bestSeason).
const SHOWN_ELSEWHERE = new Set(["recommendedCities", "recommendedSeasons", "discount", "bookingUrl",
  "discountTimeout", "done", "total", "message", "suggestion"]);

function renderDetails(status, table) {
  const entries = status ? Object.entries(status).filter(([key]) =>
    !SHOWN_ELSEWHERE.has(key) && !(table && key === table.key)) : [];
  $("details-view").hidden = entries.length === 0;
  $("details").replaceChildren(...entries.flatMap(([key, value]) => {
    const dt = document.createElement("dt");
    dt.textContent = key;
    const dd = document.createElement("dd");
    dd.textContent = typeof value === "string" ? value : JSON.stringify(value);
    return [dt, dd];
  }));
}

async function raise(eventName, payload) {
  if (!current) return;
  const followed = current;
  try {
    await api("POST", "/instances/" + encodeURIComponent(followed.id) + "/events/" + eventName, JSON.stringify(payload));
    notice("Sent " + eventName + ": " + JSON.stringify(payload) + ".");
    pollSoon(followed);
  } catch (error) {
    failed(error);
  }
}

// -- terminate and purge, confirmed first --------------------------------------------------------
function confirmAction(text, label) {
  const dialog = $("confirm-dialog");
  $("confirm-text").textContent = text;
  $("confirm-ok").textContent = label;
  return new Promise((resolve) => {
    const listening = new AbortController(); // one answer: then every listener goes
    const answer = (value) => () => {
      listening.abort();
      if (dialog.open) dialog.close();
      resolve(value);
    };
    const options = { signal: listening.signal };
    $("confirm-ok").addEventListener("click", answer(true), options);
    $("confirm-cancel").addEventListener("click", answer(false), options);
    dialog.addEventListener("cancel", answer(false), options); // Escape
    dialog.showModal();
    $("confirm-cancel").focus();
  });
}

async function terminate() {
  const followed = current;
  if (!followed || !(await confirmAction("Terminate instance " + followed.id + "? It stops at once and cannot be resumed.", "Terminate"))) return;
  try {
    await api("POST", "/instances/" + encodeURIComponent(followed.id) + "/terminate");
    notice("Instance " + followed.id + " is being terminated.");
    followed.etag = null;
    pollSoon(followed);
  } catch (error) {
    failed(error);
  }
}

async function purge() {
  const followed = current;
  if (!followed || !(await confirmAction("Purge instance " + followed.id + "? Its history and stored statuses are deleted for good.", "Purge"))) return;
  try {
    await api("DELETE", "/instances/" + encodeURIComponent(followed.id));
    if (followed.timer) clearTimeout(followed.timer);
    current = null;
    $("instance-panel").hidden = true;
    history.pushState(null, "", window.location.pathname);
    notice("Instance " + followed.id + " was purged.");
    await loadRecent();
  } catch (error) {
    failed(error);
  }
}

async function loadWholeTable() {
  if (!current) return;
  current.summaryOnly = false;
  current.etag = null;
  pollSoon(current);
}

// -- wiring --------------------------------------------------------------------------------------
$("start-name").addEventListener("change", () => showInputHelp(true));
$("start-form").addEventListener("submit", startInstance);
$("recent-refresh").addEventListener("click", () => loadRecent().catch(failed));
$("other-city-form").addEventListener("submit", (event) => {
  event.preventDefault();
  raise(EVENTS.citySelected, $("other-city").value);
});
$("confirm-booking").addEventListener("click", () => raise(EVENTS.bookingConfirmed, true));
$("decline-booking").addEventListener("click", () => raise(EVENTS.bookingConfirmed, false));
$("rows-prev").addEventListener("click", () => { current.page -= 1; renderRows(current); });
$("rows-next").addEventListener("click", () => { current.page += 1; renderRows(current); });
$("rows-load").addEventListener("click", loadWholeTable);
$("terminate").addEventListener("click", terminate);
$("purge").addEventListener("click", purge);
$("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(KEY_STORE, $("key-input").value.trim());
  $("key-input").value = "";
  $("key-panel").hidden = true;
  notice("");
  boot();
});
window.addEventListener("popstate", () => {
  const id = new URLSearchParams(window.location.search).get("instance");
  if (id) openInstance(id, false);
});

async function boot() {
  try {
    await loadStartables();
    await loadRecent();
  } catch (error) {
    failed(error);
    return;
  }
  const id = new URLSearchParams(window.location.search).get("instance");
  if (id) openInstance(id, false);
}

boot();
