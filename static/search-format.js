// The search page's words and what to highlight in a result, as plain functions with
// no DOM, so that they can be tested on their own (tests/js/search-format.test.mjs).
//
// A result matched because it has every word of the query, whole, in any order, and
// each run of Chinese, Japanese or Korean characters of the query as a substring: the
// server's tokenizer (src/models/search_terms.rs) reads a text as words (runs of
// letters and digits outside those scripts, lowercased) and single CJK characters.
// The highlight reads the text the same way, so what is marked is what matched.

// Chinese (Han), Japanese (kana) and Korean (Hangul): the server's `is_cjk`.
const CJK_RANGES = [
  [0x1100, 0x11ff], [0x2e80, 0x2fdf], [0x3040, 0x30ff], [0x3130, 0x318f], [0x31f0, 0x31ff],
  [0x3400, 0x4dbf], [0x4e00, 0x9fff], [0xac00, 0xd7af], [0xf900, 0xfaff], [0xff66, 0xff9f],
  [0x20000, 0x3ffff],
];

export function isCjk(ch) {
  const code = ch.codePointAt(0);
  return CJK_RANGES.some(([low, high]) => code >= low && code <= high);
}

// Rust's `char::is_alphanumeric`: Alphabetic or Numeric.
const ALPHANUMERIC = /^[\p{Alphabetic}\p{N}]$/u;

// How two words compare: without case, and without accents (SQLite's tokenizer drops
// them; a word that matched without them is still the one to mark).
export function fold(word) {
  return word.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase().replace(/ς/g, "σ");
}

// The text as the index reads it: words and single CJK characters, with where each
// is in the string (UTF-16 offsets, for slicing).
export function tokens(text) {
  const found = [];
  let word = null;
  let offset = 0;
  for (const ch of text) {
    const end = offset + ch.length;
    if (!isCjk(ch) && ALPHANUMERIC.test(ch)) {
      if (word) word.end = end;
      else word = { kind: "word", start: offset, end };
    } else {
      if (word) found.push(word);
      word = null;
      if (isCjk(ch)) found.push({ kind: "cjk", start: offset, end });
    }
    offset = end;
  }
  if (word) found.push(word);
  for (const token of found) token.text = text.slice(token.start, token.end);
  return found;
}

// What a query asks for, each once: {kind: "word", text} (folded) or {kind: "phrase",
// chars} (CJK characters that must follow one another).
export function queryTerms(q) {
  const terms = [];
  let run = [];
  const flush = () => {
    if (run.length > 0) terms.push({ kind: "phrase", chars: run });
    run = [];
  };
  for (const token of tokens(q || "")) {
    if (token.kind === "cjk") {
      run.push(token.text);
      continue;
    }
    flush();
    terms.push({ kind: "word", text: fold(token.text) });
  }
  flush();
  const seen = new Set();
  return terms.filter((term) => {
    const key = term.kind === "word" ? `w${term.text}` : `p${term.chars.join("")}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

// Whether a query has anything that can match (a letter, a digit or a CJK character).
export function searchable(q) {
  return queryTerms(q).length > 0;
}

// The text in pieces, each {text, hit}: hit where a word of the query is, whole, and
// where a CJK run of it is. Joined, the pieces give back the text.
export function highlight(text, q) {
  const terms = queryTerms(q);
  const toks = tokens(text);
  const ranges = [];
  for (const term of terms) {
    if (term.kind === "word") {
      for (const token of toks) {
        if (token.kind === "word" && fold(token.text) === term.text) ranges.push([token.start, token.end]);
      }
      continue;
    }
    // A phrase: its characters as consecutive tokens of the text (what lies between
    // them, a space say, is no token, as in the index).
    const n = term.chars.length;
    for (let i = 0; i + n <= toks.length; i++) {
      let all = true;
      for (let j = 0; j < n && all; j++) all = toks[i + j].kind === "cjk" && toks[i + j].text === term.chars[j];
      if (all) ranges.push([toks[i].start, toks[i + n - 1].end]);
    }
  }
  return pieces(text, merge(ranges));
}

function merge(ranges) {
  ranges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const merged = [];
  for (const [start, end] of ranges) {
    const last = merged[merged.length - 1];
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else merged.push([start, end]);
  }
  return merged;
}

function pieces(text, ranges) {
  const out = [];
  let at = 0;
  for (const [start, end] of ranges) {
    if (start > at) out.push({ text: text.slice(at, start), hit: false });
    out.push({ text: text.slice(start, end), hit: true });
    at = end;
  }
  if (at < text.length || out.length === 0) out.push({ text: text.slice(at), hit: false });
  return out;
}

// Where a result opens: its room, at that message.
export function messageUrl(room, id) {
  return `/rooms/${encodeURIComponent(room)}?at=${id}`;
}

// The page's own address for a query (kept in the address bar, so a reload or a
// shared link runs it again).
export function searchUrl(q, room) {
  const params = new URLSearchParams();
  if (q) params.set("q", q);
  if (room) params.set("room", room);
  const query = params.toString();
  return query ? `/search?${query}` : "/search";
}

// Where a result was said: "#design", or the other person's name for a direct room.
export function roomLabel(name, room) {
  if (room && room.kind === "direct") return room.title;
  return `#${room && room.title ? room.title : name}`;
}

// The room a search is kept to, in a sentence: "#design", "the conversation with Bob".
export function scopeLabel(name, room) {
  if (room && room.kind === "direct") return `the conversation with ${room.title}`;
  return `#${name}`;
}

// What the status line says once results are shown (`where`: the scope, if any).
export function resultsText(count, hasMore, q, where) {
  const inWhere = where ? ` in ${where}` : "";
  if (count === 0) return `No messages${inWhere} match “${q}”.`;
  if (hasMore) return `Showing the ${count} newest messages${inWhere} that match “${q}”.`;
  return count === 1 ? `1 message${inWhere} matches “${q}”.` : `${count} messages${inWhere} match “${q}”.`;
}

// A search the server refused, or that could not be sent, in plain words.
export function searchErrorText(status, serverMessage, roomName) {
  if (status === 404) return `There is no room #${roomName} here that you can read.`;
  if (status === 429) return "Searching too fast: wait a moment and try again.";
  if (status === 422 || status === 400) {
    const why = serverMessage || "this search cannot be run";
    return `${why.charAt(0).toUpperCase()}${why.slice(1)}${/[.!?]$/.test(why) ? "" : "."}`;
  }
  if (status === 0) return "Could not search: check the connection and try again.";
  return "Could not search just now; try again in a moment.";
}
