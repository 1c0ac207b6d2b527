// The search page: the form's query goes to GET /api/search (in one room with the
// page's `room`), the results show newest first with their room, author and time and
// the matched words marked, "Older results" pages back with `before`, and each result
// opens its room at that message. The address bar keeps the query (replaceState), so a
// reload or a shared link runs it again. Text goes in with textContent, never as HTML;
// what to mark is search-format.js's.

import {
  highlight, messageUrl, resultsText, roomLabel, scopeLabel, searchable, searchErrorText, searchUrl,
} from "./search-format.js";

const form = document.getElementById("search-form");
const input = document.getElementById("search-q");
const status = document.getElementById("search-status");
const results = document.getElementById("search-results");
const more = document.getElementById("search-more");
const roomField = form.querySelector("input[name=room]");
const everywhere = document.getElementById("search-everywhere");
const roomName = document.getElementById("search-room-name");
const UI = window.ChatUI;

// Results per page.
const PAGE = 20;

const state = {
  q: "",
  room: roomField ? roomField.value : "",
  where: roomField ? `#${roomField.value}` : "", // the room kept to, in words
  count: 0,
  oldest: null, // the id the next page goes back from
  run: 0, // the search in progress; an answer to an earlier one is dropped
};

// The rooms the reader is in, for the titles of direct rooms (fetched once).
let rooms = null;
function loadRooms() {
  if (!rooms) {
    rooms = fetch("/api/rooms", { headers: { Accept: "application/json" } })
      .then((r) => (r.ok ? r.json() : { rooms: [] }))
      .then((body) => new Map((body.rooms || []).map((room) => [room.name, room])))
      .catch(() => new Map())
      .then((known) => {
        // A direct room is kept to by the other person's name, not its own.
        if (state.room && known.has(state.room)) {
          state.where = scopeLabel(state.room, known.get(state.room));
          if (roomName) roomName.textContent = state.where;
        }
        return known;
      });
  }
  return rooms;
}

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function setStatus(text, kind = "") {
  status.textContent = text;
  status.dataset.kind = kind;
}

// The text with the words of the query marked.
function markedText(text, q) {
  const p = el("p", "search-text");
  for (const piece of highlight(text, q)) p.append(piece.hit ? el("mark", null, piece.text) : piece.text);
  return p;
}

function renderResult(message, q, known) {
  const li = el("li", "search-result");
  li.dataset.id = message.id;
  const link = el("a", "search-hit");
  link.href = messageUrl(message.room, message.id);
  const body = el("div", "search-body");
  const meta = el("p", "search-meta");
  const room = known.get(message.room);
  const where = el("span", "search-room", roomLabel(message.room, room));
  const when = el("time", "muted");
  when.setAttribute("datetime", message.sent_at);
  meta.append(where, " ", el("span", "author", message.user.nickname), " ", when);
  body.append(meta, markedText(message.text, q));
  link.append(UI.avatarFor(message.user, "avatar"), body);
  UI.localizeTimes(meta);
  li.append(link);
  return li;
}

async function fetchPage(q, before) {
  const params = new URLSearchParams({ q, limit: String(PAGE) });
  if (state.room) params.set("room", state.room);
  if (before) params.set("before", String(before));
  let response;
  try {
    response = await fetch(`/api/search?${params}`, { headers: { Accept: "application/json" } });
  } catch (_) {
    return { error: searchErrorText(0, "", state.room) };
  }
  if (response.status === 401) {
    location.assign("/login");
    return { error: "" };
  }
  if (!response.ok) {
    const body = await response.json().catch(() => null);
    return { error: searchErrorText(response.status, body && body.error && body.error.message, state.room) };
  }
  return { body: await response.json() };
}

// A new search: the results so far go, the first page comes.
async function search(q) {
  const run = ++state.run;
  state.q = q;
  state.count = 0;
  state.oldest = null;
  results.replaceChildren();
  more.hidden = true;
  setStatus("Searching…", "busy");
  const [page, known] = await Promise.all([fetchPage(q, null), loadRooms()]);
  if (run !== state.run) return;
  show(page, known, false);
}

async function older() {
  if (state.oldest === null) return;
  const run = state.run;
  more.disabled = true;
  more.textContent = "Loading…";
  const [page, known] = await Promise.all([fetchPage(state.q, state.oldest), loadRooms()]);
  more.disabled = false;
  more.textContent = "Older results";
  if (run !== state.run) return;
  show(page, known, true);
}

function show(page, known, appended) {
  if (page.error !== undefined) {
    setStatus(page.error, "error");
    if (!appended) more.hidden = true;
    return;
  }
  const { messages, has_more: hasMore } = page.body;
  const items = messages.map((m) => renderResult(m, state.q, known));
  results.append(...items);
  state.count += messages.length;
  if (messages.length > 0) state.oldest = messages[messages.length - 1].id;
  more.hidden = !hasMore || messages.length === 0;
  setStatus(resultsText(state.count, !more.hidden, state.q, state.where));
  // Who pressed "Older results" goes on from the first of them.
  if (appended && items.length > 0) items[0].querySelector("a").focus();
}

// The query in the address bar, and the search run.
function submit(q) {
  history.replaceState(null, "", searchUrl(q, state.room));
  if (everywhere) everywhere.href = searchUrl(q, "");
  if (!searchable(q)) {
    state.run++;
    results.replaceChildren();
    more.hidden = true;
    setStatus(q ? "Type a word: punctuation alone finds nothing." : "Type a word to search for.", "error");
    input.focus();
    return;
  }
  search(q);
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  submit(input.value.trim());
});
more.addEventListener("click", older);

if (state.room) loadRooms();
const initial = new URLSearchParams(location.search).get("q");
if (initial && initial.trim()) submit(initial.trim());
else input.focus();
