// The room directory's words and rules (the rooms page's "Browse rooms", in
// rooms-directory.js), as plain functions with no DOM, so that they can be tested on
// their own (tests/js/directory-format.test.mjs).
//
// GET /api/directory?q=&after=&limit= answers public rooms whose name contains `q`,
// by name, a page at a time, with `next` to pass as `after` (null on the last page).

// Rooms per page the view asks for (the server allows up to 100).
export const PAGE_SIZE = 20;

// The room list offers "Browse rooms" once it is longer than this: about a screenful.
export const OFFER_AFTER = 12;

// How long typing must pause before the query goes to the server (ms).
export const DEBOUNCE_MS = 250;

export function shouldOffer(count) {
  return count > OFFER_AFTER;
}

// What the server is asked for: room names are lowercase, and people write them with
// the "#" the pages show before them.
export function normalizeQuery(q) {
  return String(q || "").trim().replace(/^#+/, "").trim().toLowerCase();
}

export function directoryUrl(q, after, limit = PAGE_SIZE) {
  const params = new URLSearchParams();
  if (q) params.set("q", q);
  if (after) params.set("after", after);
  params.set("limit", String(limit));
  return `/api/directory?${params}`;
}

export function roomHref(name) {
  return `/rooms/${encodeURIComponent(name)}`;
}

// The name in pieces, each {text, hit}: hit where the query is found in it (every
// occurrence, without case). Joined, the pieces give back the name.
export function nameParts(name, q) {
  const needle = normalizeQuery(q);
  if (!needle) return [{ text: name, hit: false }];
  const parts = [];
  const lower = name.toLowerCase();
  let from = 0;
  for (let at = lower.indexOf(needle); at !== -1; at = lower.indexOf(needle, at + needle.length)) {
    if (at > from) parts.push({ text: name.slice(from, at), hit: false });
    parts.push({ text: name.slice(at, at + needle.length), hit: true });
    from = at + needle.length;
  }
  if (from < name.length || parts.length === 0) parts.push({ text: name.slice(from), hit: false });
  return parts;
}

// Whether, and how, the reader is in the room: null when not a member.
export function membershipLabel(role) {
  if (role === "owner") return "Owner";
  if (role === "moderator") return "Moderator";
  if (role === "member") return "Joined";
  return null;
}

// The line under the room's name.
export function topicLine(room) {
  const topic = (room && room.topic ? String(room.topic) : "").trim();
  return topic ? { text: topic, empty: false } : { text: "No topic yet", empty: true };
}

// What the status line says once rooms are shown: `count` so far, `more` pages left.
export function statusText(count, more, q) {
  if (!q) {
    if (count === 0) return "There are no public rooms yet.";
    if (more) return `Showing the first ${count} public rooms, by name.`;
    return count === 1 ? "1 public room." : `${count} public rooms, by name.`;
  }
  if (count === 0) return `No public rooms have “${q}” in their name.`;
  if (more) return `Showing the first ${count} rooms with “${q}” in their name.`;
  return count === 1 ? `1 room has “${q}” in its name.` : `${count} rooms have “${q}” in their name.`;
}

// A page the server refused, or that could not be fetched (status 0), in plain words.
export function directoryErrorText(status, serverMessage) {
  if (status === 0) return "Could not load the rooms: check the connection and try again.";
  if (status === 429) return "Too many requests just now: wait a moment and try again.";
  if (status === 400 || status === 422) {
    const why = String(serverMessage || "this search cannot be run").trim();
    return `${why.charAt(0).toUpperCase()}${why.slice(1)}${/[.!?]$/.test(why) ? "" : "."}`;
  }
  if (status === 503) return "The rooms are unavailable for a moment; try again shortly.";
  return "Could not load the rooms just now; try again in a moment.";
}

// `fn` called once calls stop for `ms`, with the last arguments; `.now(...)` calls it
// at once (and drops what was waiting), `.cancel()` drops what is waiting.
// `timers` is for tests ({setTimeout, clearTimeout}).
export function debounce(fn, ms = DEBOUNCE_MS, timers = globalThis) {
  let timer = null;
  const cancel = () => {
    if (timer !== null) timers.clearTimeout(timer);
    timer = null;
  };
  const debounced = (...args) => {
    cancel();
    timer = timers.setTimeout(() => {
      timer = null;
      fn(...args);
    }, ms);
  };
  debounced.now = (...args) => {
    cancel();
    fn(...args);
  };
  debounced.cancel = cancel;
  return debounced;
}
