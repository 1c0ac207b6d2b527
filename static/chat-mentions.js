// Mentions on the chat page as plain functions with no DOM, so that they can be tested
// on their own (tests/js/mentions.test.mjs): which `@nickname`s of a text name someone
// (the server's rule, src/models/mentions.rs: `@` and a member's exact nickname, the
// longest that fits, not followed by a letter, digit, `_` or `-`), what is being typed
// after an `@` in the composer, and whom to suggest for it.

import { isCjk } from "./search-format.js";

// A nickname has at most this many characters.
export const NICKNAME_MAX_CHARS = 32;
// Suggestions shown at once.
export const MAX_SUGGESTIONS = 8;

// Rust's `char::is_alphanumeric`, and what may not follow a nickname.
const CONTINUES_A_NAME = /^[\p{Alphabetic}\p{N}_-]$/u;
const ALPHANUMERIC = /^[\p{Alphabetic}\p{N}_]$/u;

function endsAName(text, index) {
  if (index >= text.length) return true;
  const next = String.fromCodePoint(text.codePointAt(index));
  return !CONTINUES_A_NAME.test(next);
}

// The text in pieces, each {text, mention: null | nickname}: each `@` followed by one
// of `nicknames` (the longest that fits) is a mention. Joined, the pieces give back
// the text.
export function mentionSegments(text, nicknames) {
  const names = [...new Set(nicknames.filter(Boolean))].sort((a, b) => b.length - a.length);
  const out = [];
  let plain = 0;
  if (names.length > 0) {
    for (let i = text.indexOf("@"); i !== -1; i = text.indexOf("@", i + 1)) {
      const name = names.find((n) => text.startsWith(n, i + 1) && endsAName(text, i + 1 + n.length));
      if (!name) continue;
      if (i > plain) out.push({ text: text.slice(plain, i), mention: null });
      out.push({ text: `@${name}`, mention: name });
      plain = i + 1 + name.length;
      i = plain - 1;
    }
  }
  if (plain < text.length || out.length === 0) out.push({ text: text.slice(plain), mention: null });
  return out;
}

// What is being typed after an `@` just before the caret: {start (the `@`'s offset),
// query}, or null. The `@` starts the text or follows a space or punctuation (not an
// e-mail address), and what follows it is on one line, no longer than a nickname, and
// does not start with a space.
export function mentionAt(text, caret) {
  const before = text.slice(0, caret);
  const at = before.lastIndexOf("@");
  if (at === -1) return null;
  const query = before.slice(at + 1);
  if (/[\n\r]/.test(query) || /^\s/.test(query) || Array.from(query).length > NICKNAME_MAX_CHARS) return null;
  if (at > 0) {
    const previous = Array.from(before.slice(0, at)).pop();
    if ((ALPHANUMERIC.test(previous) && !isCjk(previous)) || previous === "@") return null;
  }
  return { start: at, query };
}

function lower(text) {
  return text.toLocaleLowerCase();
}

// How well a nickname fits what was typed: 0 it starts with it, 1 a word of it does,
// 2 it has it somewhere; null it does not.
function fit(nickname, query) {
  if (!query) return 0;
  const name = lower(nickname);
  const q = lower(query);
  if (name.startsWith(q)) return 0;
  if (name.split(/[\s_.-]+/).some((word) => word.startsWith(q))) return 1;
  if (!/\s/.test(q) && name.includes(q)) return 2;
  return null;
}

// Whom to offer for `query`: members (each {id, nickname, online?}) whose nickname fits,
// best first (a start of the name before a word of it, then people online, then by
// name), never the writer themself, at most `max`.
export function suggest(members, query, meId, max = MAX_SUGGESTIONS) {
  const ranked = [];
  const seen = new Set();
  for (const member of members) {
    if (!member || member.id === meId || seen.has(member.id) || !member.nickname) continue;
    seen.add(member.id);
    const score = fit(member.nickname, query);
    if (score !== null) ranked.push({ member, score });
  }
  ranked.sort((a, b) => a.score - b.score ||
    Number(!!b.member.online) - Number(!!a.member.online) ||
    a.member.nickname.localeCompare(b.member.nickname));
  return ranked.slice(0, max).map((r) => r.member);
}

// The draft once a suggestion is picked: what was typed from the `@` to the caret
// becomes `@nickname ` and the caret goes after it.
export function insertMention(text, start, caret, nickname) {
  const inserted = `@${nickname} `;
  const after = text.slice(caret).replace(/^ /, "");
  return { text: text.slice(0, start) + inserted + after, caret: start + inserted.length };
}

// Whether a message names this user (and is not their own).
export function mentionsMe(message, meId) {
  return !message.deleted && message.user.id !== meId && (message.mentions || []).includes(meId);
}
