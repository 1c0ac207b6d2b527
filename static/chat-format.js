// The chat page's words and list layout: what the screen says and where separators go,
// as plain functions with no DOM, so that they can be tested on their own (tests/js/).
// Avatars, initials and local times stay in ui.js, which every page shares.

// Consecutive messages of one author this close together show as one group.
export const GROUP_WINDOW_MS = 5 * 60000;

// For each message of the list, in order: whether a day separator goes before it, the
// "New messages" divider goes before it, and it continues the previous one's group.
// An item is {id, userId, day, sentAt, failed}; id and userId as strings, the way the
// DOM keeps them, and no id for a message still pending.
export function listLayout(items, { lastRead, meId }) {
  const layout = [];
  let previous = null;
  let dividerPlaced = false;
  for (const item of items) {
    const daySeparator = !!item.day && (!previous || previous.day !== item.day);
    // The divider goes before the first unread message from someone else, once.
    const newDivider = !dividerPlaced && lastRead > 0 && !!item.id && Number(item.id) > lastRead &&
      item.userId !== String(meId);
    if (newDivider) dividerPlaced = true;
    const continued = !daySeparator && !newDivider && !!previous && continues(previous, item);
    layout.push({ daySeparator, newDivider, continued });
    previous = item;
  }
  return layout;
}

// Same author, soon after, and the previous one was not refused (its failure row ends it).
function continues(previous, item) {
  return previous.userId === item.userId && !previous.failed &&
    new Date(item.sentAt) - new Date(previous.sentAt) < GROUP_WINDOW_MS;
}

// Who is still typing at `now` (user id -> {nickname, until}), in the order they
// started; forgets the others.
export function stillTyping(typingById, now) {
  const names = [];
  for (const [id, sign] of typingById) {
    if (sign.until > now) names.push(sign.nickname); else typingById.delete(id);
  }
  return names;
}

export function typingText(names) {
  if (names.length === 0) return "";
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return "Several people are typing…";
}

// What a screen reader hears after a reconnection brought messages in.
export function newMessagesText(count) {
  return count === 1 ? "1 new message" : `${count} new messages`;
}

export function jumpText(unseen) {
  return unseen === 0 ? "Latest ↓" : `${newMessagesText(unseen)} ↓`;
}

export function titleWithUnseen(baseTitle, unseen) {
  return unseen > 0 ? `(${unseen}) ${baseTitle}` : baseTitle;
}

// Whole seconds until `at`, never below 1, for "Reconnecting in N s".
export function secondsLeft(at, now) {
  return Math.max(1, Math.ceil((at - now) / 1000));
}

// The length the server counts: whole characters (an emoji is one) of the trimmed text.
export function charCount(text) {
  return Array.from(text.trim()).length;
}

// The character count shows only near the limit.
export function countShown(length, maxChars) {
  return length > maxChars * 0.9;
}

export function countText(length, maxChars) {
  return `${length.toLocaleString()} / ${maxChars.toLocaleString()}`;
}

export function tooLongText(length, maxChars) {
  return `Too long to send: ${length.toLocaleString()} characters, and a message has at most ${maxChars.toLocaleString()}.`;
}

export function refusedForNowText(why, delay) {
  return `Not sent yet: ${why}. Trying again in ${Math.ceil(delay / 1000)} s; your message is kept.`;
}

export function refusedText(why) {
  return `Not sent: ${why}.`;
}

// The server's error messages start in lower case, to follow a colon.
export function capitalize(text) {
  return text ? text[0].toUpperCase() + text.slice(1) : text;
}

// ---- replies, edits, deletes and reactions ----

export const DELETED_TEXT = "This message was deleted";
export const ORIGINAL_DELETED_TEXT = "Original message was deleted";

// What the composer says while a reply or an edit is being written.
export function composerModeText(mode) {
  if (mode.kind === "edit") return "Editing message";
  return `Replying to ${mode.nickname}: `;
}

// The tooltip of "(edited)": when, in the reader's words for a time.
export function editedTitle(when) {
  return `Edited ${when}`;
}

// A chip's tooltip and what a screen reader says of it.
export function reactionTitle(chip) {
  return `${chip.who} reacted with ${chip.emoji}`;
}

export function reactionLabel(chip) {
  const people = chip.count === 1 ? "1 reaction" : `${chip.count} reactions`;
  const action = chip.mine ? "take yours back" : "add yours";
  return `${chip.emoji} ${people}, ${chip.who}. Press to ${action}.`;
}

// An edit, delete or reaction the server refused, in plain words.
export function actionRefusedText(kind, why) {
  const what = { edit: "Not edited", delete: "Not deleted", react: "Reaction not saved" }[kind] || "Not done";
  return `${what}: ${why}.`;
}

// An http(s) address in message text: the scheme, not inside a longer word or another
// address ("javascript://https://…"), then everything up to a space or a character
// that never belongs in one written in prose (full-width punctuation included).
const URL_IN_TEXT = /(?<![A-Za-z0-9+.:\/-])https?:\/\/[^\s<>"，。！？；：、「」『』（）《》【】]+/giu;
// Punctuation that ends a sentence rather than the address ("see https://x.org.").
const TRAILING = /[.,;:!?'*…]+$/u;

// The text in pieces, each {text, href: null | address}: only http:// and https://
// addresses are links, every other scheme stays text. Joined, the pieces give back
// the text.
export function linkSegments(text) {
  const out = [];
  let plain = 0;
  for (const match of text.matchAll(URL_IN_TEXT)) {
    let address = match[0].replace(TRAILING, "");
    // A closing bracket is the address's own only when it opened one inside it.
    while (/[)\]}]$/.test(address) && unbalanced(address)) {
      address = address.slice(0, -1).replace(TRAILING, "");
    }
    const href = httpAddress(address);
    if (!href) continue;
    if (match.index > plain) out.push({ text: text.slice(plain, match.index), href: null });
    out.push({ text: address, href });
    plain = match.index + address.length;
  }
  if (plain < text.length || out.length === 0) out.push({ text: text.slice(plain), href: null });
  return out;
}

function unbalanced(address) {
  const pairs = { ")": "(", "]": "[", "}": "{" };
  const close = address[address.length - 1];
  const count = (c) => address.split(c).length - 1;
  return count(close) > count(pairs[close]);
}

// The address as the browser will open it, or null when it is not http(s) after all.
function httpAddress(address) {
  let url;
  try {
    url = new URL(address);
  } catch {
    return null;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  if (!url.hostname) return null;
  return url.href;
}
