// The message lifecycle on the chat page (replies, edits, deletes, reactions) as plain
// functions and one small state machine, with no DOM and no socket, so that they can be
// tested on their own (tests/js/lifecycle.test.mjs).
//
// A message object is the server's (docs/protocol.md): {id, seq, user, text, reply_to,
// edited_at, deleted, reactions: [{emoji, user_ids}]}. A change to a message comes as
// its whole new state with a higher `seq`.

// The reactions the menu offers.
export const COMMON_EMOJI = ["👍", "❤️", "😂", "🎉", "😮", "😢", "🙏", "👀"];

// The position of a message's state in the server's commit order: its `seq`, or its id
// for a server that sends none.
export function positionOf(message) {
  return Math.max(message.id || 0, message.seq || 0);
}

// The resume cursor after seeing `message` (the `since` of the next join): the highest
// id or seq seen.
export function cursorAfter(cursor, message) {
  return Math.max(cursor, positionOf(message));
}

// Whether `incoming` is a later state of the message shown as `current` (a repeat or an
// older copy, e.g. from a history page read before a change, is not).
export function isNewer(current, incoming) {
  return positionOf(incoming) > positionOf(current);
}

// Whether this user has reacted to the message with this emoji.
export function reactedBy(message, emoji, userId) {
  const reaction = (message.reactions || []).find((r) => r.emoji === emoji);
  return !!reaction && reaction.user_ids.includes(userId);
}

// The emoji this user has reacted with on the message.
export function myReactions(message, userId) {
  return (message.reactions || []).filter((r) => r.user_ids.includes(userId)).map((r) => r.emoji);
}

// The reactions as chips: emoji, how many, whether one of them is ours, and who.
// `nameOf(id)` gives a nickname, or undefined for someone not known to the page.
export function reactionChips(message, meId, nameOf) {
  return (message.reactions || []).filter((r) => r.user_ids.length > 0).map((r) => {
    const names = r.user_ids.map((id) => (id === meId ? "you" : nameOf(id)));
    return {
      emoji: r.emoji,
      count: r.user_ids.length,
      mine: r.user_ids.includes(meId),
      who: peopleText(names),
    };
  });
}

// "You", "alice and bob", "alice, you and carol", "alice and 2 others": known names in
// order ("you" for the reader), the people the page cannot name counted at the end.
export function peopleText(names) {
  const known = names.filter(Boolean).map((name, i) => (i === 0 && name === "you" ? "You" : name));
  const unknown = names.length - known.length;
  const parts = known.slice();
  if (unknown > 0) {
    if (known.length === 0) parts.push(unknown === 1 ? "someone" : `${unknown} people`);
    else parts.push(unknown === 1 ? "someone else" : `${unknown} others`);
  }
  if (parts.length <= 1) return parts.join("");
  return `${parts.slice(0, -1).join(", ")} and ${parts[parts.length - 1]}`;
}

// The first line of a text with something in it, cut to `max` characters (whole
// characters: an emoji is one) with an ellipsis.
export function firstLine(text, max = 80) {
  const line = (text || "").split("\n").map((l) => l.trim()).find(Boolean) || "";
  const chars = Array.from(line);
  return chars.length > max ? chars.slice(0, max - 1).join("").trimEnd() + "…" : line;
}

// The latest message of this user that is not deleted (what Up-arrow edits), or null.
export function lastEditable(messages, meId) {
  let last = null;
  for (const m of messages) {
    if (m.user.id === meId && !m.deleted && (!last || m.id > last.id)) last = m;
  }
  return last;
}

// Whether a message's state is what an action of ours asked for (then it is done, by
// us or by anyone: an edit to the same text, a reaction on or off), or makes it moot (a
// deleted message takes no more changes).
export function settles(action, message, meId) {
  if (action.messageId !== message.id) return false;
  if (message.deleted) return true;
  switch (action.kind) {
    case "edit": return message.text === action.text;
    case "react": return reactedBy(message, action.emoji, meId) === action.on;
    default: return false;
  }
}

// Edits, deletes and reactions sent and not yet seen done, by client_id. One that the
// connection dropped goes again after the rejoin: an edit to the same text and a
// reaction are idempotent, and a delete already done is settled by the rejoin's update
// before it would go again.
export class PendingActions {
  constructor() {
    this.items = new Map(); // client_id -> {clientId, kind, messageId, text?, emoji?, on?}
  }

  add(clientId, action) {
    const item = { clientId, ...action };
    this.items.set(clientId, item);
    return item;
  }

  get(clientId) {
    return this.items.get(clientId);
  }

  // The server refused it: out of the list, for the page to say why.
  refused(clientId) {
    const item = this.items.get(clientId);
    if (item) this.items.delete(clientId);
    return item;
  }

  // A new state of a message arrived: the actions it settles are done.
  settledBy(message, meId) {
    const done = [];
    for (const item of this.items.values()) {
      if (settles(item, message, meId)) done.push(item);
    }
    for (const item of done) this.items.delete(item.clientId);
    return done;
  }

  // An action of the same kind on the same message (a later toggle of one reaction
  // replaces an earlier one not yet answered).
  supersede(action) {
    for (const item of this.items.values()) {
      const same = item.kind === action.kind && item.messageId === action.messageId &&
        (item.kind !== "react" || item.emoji === action.emoji);
      if (same) this.items.delete(item.clientId);
    }
  }

  // What to send again after a rejoin, oldest first.
  unsettled() {
    return [...this.items.values()];
  }

  // The message is gone for good: nothing about it can be done any more.
  forget(messageId) {
    for (const item of [...this.items.values()]) {
      if (item.messageId === messageId) this.items.delete(item.clientId);
    }
  }
}

// The frame that carries an action.
export function actionFrame(room, action) {
  const frame = { type: action.kind, room, message_id: action.messageId, client_id: action.clientId };
  if (action.kind === "edit") frame.text = action.text;
  if (action.kind === "react") Object.assign(frame, { emoji: action.emoji, on: action.on });
  return frame;
}
