// "Browse rooms" on the rooms page: a <dialog> (a panel on the right on a desktop, the
// whole screen on a phone) over GET /api/directory. The button shows once the room list
// is longer than about a screenful (directory-format.js's OFFER_AFTER). The search field
// filters by part of the name as one types (debounced; Enter at once), "More rooms"
// follows the page's `next`, each result links to its room and says whether we are in
// it. A refusal or a lost connection says so, with "Try again". Escape closes and the
// focus goes back to the button. Text goes in with textContent only.

import {
  debounce, directoryErrorText, directoryUrl, membershipLabel, nameParts, normalizeQuery, PAGE_SIZE, roomHref,
  shouldOffer, statusText, topicLine,
} from "./directory-format.js";

const byId = (id) => document.getElementById(id);

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

// Sets the directory up; returns {update(count)}, to call with the room list's length
// whenever it changes. Without the page's elements, it does nothing.
export function setUpDirectory() {
  const toggle = byId("browse-open");
  const dialog = byId("browse");
  if (!toggle || !dialog || typeof dialog.showModal !== "function") return { update() {} };
  const form = byId("browse-form");
  const input = byId("browse-q");
  const status = byId("browse-status");
  const results = byId("browse-results");
  const more = byId("browse-more");
  const retry = byId("browse-retry");
  const close = byId("browse-close");
  const UI = window.ChatUI;

  const state = {
    q: null, // the query shown (normalised); null before the first load
    next: null, // where the next page starts
    count: 0,
    run: 0, // the load in progress; an answer to an earlier one is dropped
    failed: null, // what "Try again" repeats: "first" or "more"
    controller: null,
  };

  function setStatus(text, kind = "") {
    status.textContent = text;
    status.dataset.kind = kind;
  }

  function renderRoom(room, q) {
    const li = el("li", "browse-room");
    const link = el("a", "room-item browse-item");
    link.href = roomHref(room.name);
    link.dataset.room = room.name;
    const avatar = el("span", "avatar", "#");
    avatar.setAttribute("aria-hidden", "true");
    avatar.dataset.name = room.title || room.name;
    if (UI) UI.paintAvatar(avatar);
    const text = el("span", "room-text");
    const title = el("span", "room-title");
    title.append("#");
    for (const part of nameParts(room.title || room.name, q)) title.append(part.hit ? el("mark", null, part.text) : part.text);
    const topic = topicLine(room);
    text.append(title, el("span", topic.empty ? "room-preview muted browse-no-topic" : "room-preview", topic.text));
    link.append(avatar, text);
    const joined = membershipLabel(room.role);
    if (joined) {
      const badge = el("span", "role-badge browse-joined", joined);
      badge.dataset.role = room.role;
      if (joined !== "Joined") badge.title = `You are in this room, as its ${joined.toLowerCase()}`;
      link.append(badge);
    }
    li.append(link);
    return li;
  }

  // One page: {body} or {error}.
  async function fetchPage(q, after) {
    if (state.controller) state.controller.abort();
    const controller = new AbortController();
    state.controller = controller;
    let response;
    try {
      response = await fetch(directoryUrl(q, after, PAGE_SIZE), {
        headers: { Accept: "application/json" },
        signal: controller.signal,
      });
    } catch (e) {
      return e && e.name === "AbortError" ? { aborted: true } : { error: directoryErrorText(0) };
    }
    if (response.status === 401) {
      location.assign("/login");
      return { aborted: true };
    }
    if (!response.ok) {
      const body = await response.json().catch(() => null);
      return { error: directoryErrorText(response.status, body && body.error && body.error.message) };
    }
    try {
      return { body: await response.json() };
    } catch (_) {
      return { error: directoryErrorText(response.status) };
    }
  }

  function showError(text, what) {
    state.failed = what;
    setStatus(text, "error");
    retry.hidden = false;
    if (what === "first") more.hidden = true;
  }

  // The first page for a query: what was shown goes.
  async function load(raw) {
    const q = normalizeQuery(raw);
    const run = ++state.run;
    state.q = q;
    state.next = null;
    state.count = 0;
    state.failed = null;
    retry.hidden = true;
    more.hidden = true;
    more.disabled = false;
    more.textContent = "More rooms";
    results.setAttribute("aria-busy", "true");
    setStatus("Loading…", "busy");
    const page = await fetchPage(q, null);
    if (run !== state.run || page.aborted) return;
    results.removeAttribute("aria-busy");
    results.replaceChildren();
    if (page.error !== undefined) return showError(page.error, "first");
    show(page.body, false);
  }

  async function loadMore() {
    if (!state.next) return;
    const run = ++state.run;
    state.failed = null;
    retry.hidden = true;
    more.disabled = true;
    more.textContent = "Loading…";
    const page = await fetchPage(state.q, state.next);
    if (run !== state.run || page.aborted) return;
    more.disabled = false;
    more.textContent = "More rooms";
    if (page.error !== undefined) return showError(page.error, "more");
    show(page.body, true);
  }

  function show(body, appended) {
    const rooms = Array.isArray(body && body.rooms) ? body.rooms : [];
    const items = rooms.map((room) => renderRoom(room, state.q));
    results.append(...items);
    state.count += rooms.length;
    state.next = body && body.next ? body.next : null;
    more.hidden = !state.next;
    setStatus(statusText(state.count, !!state.next, state.q), state.count === 0 ? "empty" : "");
    // Who pressed "More rooms" goes on from the first of them.
    if (appended && items.length > 0) items[0].querySelector("a").focus();
  }

  const search = debounce((value) => {
    if (normalizeQuery(value) !== state.q || state.failed === "first") load(value);
  });

  function open() {
    if (dialog.open) return;
    dialog.showModal();
    toggle.setAttribute("aria-expanded", "true");
    input.focus();
    input.select();
    if (state.q === null || state.failed === "first") search.now(input.value);
  }

  function shut() {
    search.cancel();
    if (dialog.open) dialog.close();
  }

  toggle.addEventListener("click", open);
  close.addEventListener("click", shut);
  input.addEventListener("input", () => search(input.value));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    search.now(input.value);
  });
  more.addEventListener("click", loadMore);
  retry.addEventListener("click", () => {
    if (state.failed === "more") {
      // On from the last room shown; the first of the next page takes the focus.
      const last = results.querySelector("li:last-child a");
      (last || input).focus();
      loadMore();
    } else {
      input.focus();
      load(input.value);
    }
  });
  // Escape closes from anywhere in it, the search field included (which would
  // otherwise only empty itself).
  dialog.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      shut();
    }
  });
  dialog.addEventListener("close", () => {
    toggle.setAttribute("aria-expanded", "false");
    if (!toggle.hidden) toggle.focus();
  });
  // A click on the backdrop (the dialog itself, outside its panel) closes it.
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) shut();
  });

  function update(count) {
    toggle.hidden = !shouldOffer(count);
  }
  return { update };
}
