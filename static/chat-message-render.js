// One message as it shows in the list: avatar, author and time, the quoted message it
// replies to, its text (or that it was deleted), "(edited)", its reactions and the
// button that opens its menu. Text goes in with textContent, never as HTML. Each
// `@nickname` of someone it mentions is marked, and a message that mentions the
// reader stands out.

import { firstLine, reactionChips } from "./chat-lifecycle.js";
import { linkSegments } from "./chat-format.js";
import { mentionSegments, mentionsMe } from "./chat-mentions.js";
import {
  DELETED_TEXT, editedTitle, ORIGINAL_DELETED_TEXT, reactionLabel, reactionTitle,
} from "./chat-format.js";

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

// ctx: {me, ui, nameOf(userId), original(id) (the message replied to: an object, null
// when there is none, undefined while it is being fetched), pending (ours, not stored),
// mentionNames(message) (the nicknames of those it mentions, as far as known)}.
export function renderMessage(message, ctx) {
  const li = el("li", "message" + (message.user.id === ctx.me.id ? " mine" : ""));
  if (!ctx.pending && mentionsMe(message, ctx.me.id)) li.classList.add("mentions-me");
  li.dataset.id = message.id;
  li.dataset.userId = message.user.id;
  li.dataset.day = ctx.ui.dayKey(message.sent_at);
  li.dataset.sentAt = message.sent_at;
  const bubble = el("div", "bubble");
  bubble.append(renderMeta(message, ctx.ui));
  if (message.deleted) {
    li.classList.add("deleted");
    bubble.append(renderLine(message, ctx));
  } else {
    if (message.reply_to) {
      li.dataset.replyTo = message.reply_to;
      bubble.append(renderQuote(message.reply_to, ctx.original(message.reply_to)));
    }
    bubble.append(renderLine(message, ctx));
    const chips = reactionChips(message, ctx.me.id, ctx.nameOf);
    if (chips.length > 0) bubble.append(renderReactions(chips));
  }
  li.append(ctx.ui.avatarFor(message.user, "avatar"), bubble);
  return li;
}

function renderMeta(message, ui) {
  const meta = el("p", "meta");
  const when = el("time", null, ui.localTime(message.sent_at));
  when.dateTime = message.sent_at;
  when.title = new Date(message.sent_at).toLocaleString();
  meta.append(el("span", "author", message.user.nickname), " ", when);
  return meta;
}

// The text, "(edited)" after it, and the menu's button beside it.
function renderLine(message, ctx) {
  const line = el("div", "line");
  if (message.deleted) {
    line.append(el("p", "text tombstone", DELETED_TEXT));
    return line;
  }
  line.append(renderText(message, ctx));
  if (message.edited_at) {
    const edited = el("span", "edited", "(edited)");
    edited.title = editedTitle(new Date(message.edited_at).toLocaleString());
    line.append(edited);
  }
  if (!ctx.pending) {
    const button = el("button", "message-actions", "⋯");
    button.type = "button";
    button.setAttribute("aria-haspopup", "menu");
    button.setAttribute("aria-controls", "message-menu");
    button.setAttribute("aria-expanded", "false");
    button.setAttribute("aria-label", `Actions for the message from ${message.user.nickname}`);
    line.append(button);
  }
  return line;
}

// The text, each mention in it marked (the reader's own differently) and each
// http(s) address a link that opens in a new tab and tells the site nothing of us.
function renderText(message, ctx) {
  const p = el("p", "text");
  const names = ctx.pending || !ctx.mentionNames ? [] : ctx.mentionNames(message);
  for (const piece of mentionSegments(message.text, names)) {
    if (!piece.mention) {
      for (const part of linkSegments(piece.text)) p.append(part.href ? renderLink(part) : part.text);
      continue;
    }
    const mine = piece.mention === ctx.me.nickname;
    p.append(el("span", mine ? "mention mention-me" : "mention", piece.text));
  }
  return p;
}

function renderLink(part) {
  const a = el("a", "text-link", part.text);
  a.href = part.href;
  a.target = "_blank";
  a.rel = "noopener noreferrer nofollow";
  return a;
}

// The message replied to, in short; clicking it shows the original.
export function renderQuote(id, original) {
  const quote = el("button", "quote");
  quote.type = "button";
  quote.dataset.replyTo = id;
  quote.title = "Show the original message";
  if (original === undefined) {
    quote.append(el("span", "quote-text muted", "…"));
  } else if (original === null) {
    quote.append(el("span", "quote-text quote-gone", "Original message not found"));
    quote.disabled = true;
  } else if (original.deleted) {
    quote.append(el("span", "quote-text quote-gone", ORIGINAL_DELETED_TEXT));
  } else {
    quote.append(el("span", "quote-author", original.user.nickname), " ", el("span", "quote-text", firstLine(original.text)));
  }
  return quote;
}

function renderReactions(chips) {
  const row = el("div", "reactions");
  row.setAttribute("role", "group");
  row.setAttribute("aria-label", "Reactions");
  for (const chip of chips) {
    const button = el("button", "reaction");
    button.type = "button";
    button.dataset.emoji = chip.emoji;
    button.setAttribute("aria-pressed", String(chip.mine));
    button.setAttribute("aria-label", reactionLabel(chip));
    button.title = reactionTitle(chip);
    const emoji = el("span", "reaction-emoji", chip.emoji);
    emoji.setAttribute("aria-hidden", "true");
    button.append(emoji, el("span", "reaction-count", String(chip.count)));
    row.append(button);
  }
  return row;
}

// How to find the same control in a message drawn again (a reaction by its emoji).
export function controlKey(element) {
  if (element.classList.contains("reaction")) return `.reaction[data-emoji="${CSS.escape(element.dataset.emoji)}"]`;
  if (element.classList.contains("quote")) return ".quote";
  return ".message-actions";
}

// A row under a message saying what went wrong, with a button to put it right.
export function failureRow(label, buttonText, onClick) {
  const row = el("p", "failure", label ? `${label} ` : undefined);
  const button = el("button", "link", buttonText);
  button.type = "button";
  button.addEventListener("click", onClick);
  row.append(button);
  return row;
}
