// Replies, edits, deletes and reactions on the chat page, without a browser:
// `node --test tests/js/*.test.mjs`.
import test from "node:test";
import assert from "node:assert/strict";

import {
  actionFrame, COMMON_EMOJI, cursorAfter, firstLine, isNewer, lastEditable, myReactions, peopleText,
  PendingActions, reactedBy, reactionChips, settles,
} from "../../static/chat-lifecycle.js";
import {
  actionRefusedText, composerModeText, editedTitle, reactionLabel, reactionTitle,
} from "../../static/chat-format.js";

const ME = 7;

function message(id, extra = {}) {
  return {
    id, seq: id, user: { id: ME, nickname: "me" }, text: `text ${id}`, reply_to: null,
    edited_at: null, deleted: false, reactions: [], ...extra,
  };
}

test("the resume cursor is the highest id or seq seen", () => {
  let cursor = 0;
  cursor = cursorAfter(cursor, message(10));
  assert.equal(cursor, 10);
  cursor = cursorAfter(cursor, message(4, { seq: 15 })); // an old message changed
  assert.equal(cursor, 15, "a change's seq counts");
  cursor = cursorAfter(cursor, message(12));
  assert.equal(cursor, 15, "an id below a seq already seen does not move it back");
  assert.equal(cursorAfter(3, { id: 5 }), 5, "a message without seq counts by its id");
});

test("only a later state of a message replaces the one shown", () => {
  const shown = message(4, { seq: 20 });
  assert.equal(isNewer(shown, message(4, { seq: 21, text: "edited" })), true);
  assert.equal(isNewer(shown, message(4, { seq: 20 })), false, "the same state again");
  assert.equal(isNewer(shown, message(4)), false, "an older copy (seq = id) from a stale read");
});

test("reactions: who reacted with what, as chips with our own marked", () => {
  const m = message(1, {
    reactions: [
      { emoji: "👍", user_ids: [3, ME, 9] },
      { emoji: "🎉", user_ids: [9] },
      { emoji: "👀", user_ids: [] },
    ],
  });
  assert.equal(reactedBy(m, "👍", ME), true);
  assert.equal(reactedBy(m, "🎉", ME), false);
  assert.equal(reactedBy(m, "😂", ME), false);
  assert.deepEqual(myReactions(m, ME), ["👍"]);
  const names = new Map([[3, "alice"]]);
  const chips = reactionChips(m, ME, (id) => names.get(id));
  assert.deepEqual(chips, [
    { emoji: "👍", count: 3, mine: true, who: "alice, you and someone else" },
    { emoji: "🎉", count: 1, mine: false, who: "someone" },
  ], "in the order first added, an emptied one left out");
  assert.deepEqual(reactionChips(message(2), ME, () => undefined), [], "no reactions, no chips");
  assert.equal(COMMON_EMOJI.length, 8);
});

test("the people who reacted read as a sentence", () => {
  assert.equal(peopleText(["you"]), "You");
  assert.equal(peopleText(["you", "bob"]), "You and bob");
  assert.equal(peopleText(["bob", "you"]), "bob and you");
  assert.equal(peopleText(["alice", "bob"]), "alice and bob");
  assert.equal(peopleText(["alice", "bob", "carol"]), "alice, bob and carol");
  assert.equal(peopleText(["alice", undefined, undefined]), "alice and 2 others");
  assert.equal(peopleText([undefined, undefined]), "2 people");
  assert.equal(peopleText([]), "");
});

test("a quoted reply shows the first line with text, cut with an ellipsis", () => {
  assert.equal(firstLine("\n  hello there \nsecond line"), "hello there");
  assert.equal(firstLine("abcdefghij", 5), "abcd…");
  assert.equal(firstLine("🎉🎉🎉🎉🎉🎉", 4), "🎉🎉🎉…", "whole emoji, never half of one");
  assert.equal(firstLine(""), "");
  assert.equal(firstLine(undefined), "");
});

test("Up-arrow edits our latest message that is not deleted", () => {
  const other = { id: 9, nickname: "bob" };
  const messages = [
    message(1), message(2), message(3, { deleted: true, text: "" }), message(4, { user: other }),
  ];
  assert.equal(lastEditable(messages, ME).id, 2);
  assert.equal(lastEditable([message(5, { user: other })], ME), null);
  assert.equal(lastEditable([message(8), message(6)], ME).id, 8, "by id, not by list order");
});

test("an action is settled by the state it asked for, and a delete makes any moot", () => {
  const edit = { kind: "edit", messageId: 1, text: "new" };
  assert.equal(settles(edit, message(1, { text: "new", seq: 5 }), ME), true);
  assert.equal(settles(edit, message(1, { text: "old", seq: 5 }), ME), false, "someone's reaction, say");
  assert.equal(settles(edit, message(2, { text: "new" }), ME), false, "another message");
  const on = { kind: "react", messageId: 1, emoji: "👍", on: true };
  assert.equal(settles(on, message(1, { reactions: [{ emoji: "👍", user_ids: [ME] }] }), ME), true);
  assert.equal(settles(on, message(1, { reactions: [{ emoji: "👍", user_ids: [3] }] }), ME), false);
  const off = { ...on, on: false };
  assert.equal(settles(off, message(1), ME), true);
  const del = { kind: "delete", messageId: 1 };
  assert.equal(settles(del, message(1)), false);
  assert.equal(settles(del, message(1, { deleted: true })), true);
  assert.equal(settles(edit, message(1, { deleted: true })), true, "nothing left to edit");
});

test("pending actions: settled by updates, refused by errors, sent again after a drop", () => {
  const pending = new PendingActions();
  pending.add("a", { kind: "edit", messageId: 1, text: "new" });
  pending.add("b", { kind: "react", messageId: 1, emoji: "👍", on: true });
  pending.add("c", { kind: "delete", messageId: 2 });
  assert.deepEqual(pending.unsettled().map((a) => a.clientId), ["a", "b", "c"]);
  const done = pending.settledBy(message(1, { text: "new", seq: 9 }), ME);
  assert.deepEqual(done.map((a) => a.clientId), ["a"], "the reaction is not there yet");
  assert.equal(pending.refused("b").emoji, "👍");
  assert.equal(pending.refused("b"), undefined, "once");
  assert.equal(pending.get("c").kind, "delete");
  pending.forget(2);
  assert.deepEqual(pending.unsettled(), []);
});

test("toggling one reaction again replaces the toggle not yet answered", () => {
  const pending = new PendingActions();
  pending.add("a", { kind: "react", messageId: 1, emoji: "👍", on: true });
  pending.add("b", { kind: "react", messageId: 1, emoji: "🎉", on: true });
  const off = { kind: "react", messageId: 1, emoji: "👍", on: false };
  pending.supersede(off);
  pending.add("c", off);
  assert.deepEqual(pending.unsettled().map((a) => a.clientId), ["b", "c"]);
});

test("each action goes as the frame the protocol names", () => {
  assert.deepEqual(actionFrame("lobby", { clientId: "x", kind: "edit", messageId: 4, text: "hi" }),
    { type: "edit", room: "lobby", message_id: 4, client_id: "x", text: "hi" });
  assert.deepEqual(actionFrame("lobby", { clientId: "y", kind: "delete", messageId: 4 }),
    { type: "delete", room: "lobby", message_id: 4, client_id: "y" });
  assert.deepEqual(actionFrame("lobby", { clientId: "z", kind: "react", messageId: 4, emoji: "👍", on: false }),
    { type: "react", room: "lobby", message_id: 4, client_id: "z", emoji: "👍", on: false });
});

test("the words for replies, edits and reactions", () => {
  assert.equal(composerModeText({ kind: "reply", nickname: "alice" }), "Replying to alice: ");
  assert.equal(composerModeText({ kind: "edit" }), "Editing message");
  assert.equal(editedTitle("5/1/2024, 10:00 AM"), "Edited 5/1/2024, 10:00 AM");
  const chip = { emoji: "👍", count: 2, mine: true, who: "You and bob" };
  assert.equal(reactionTitle(chip), "You and bob reacted with 👍");
  assert.equal(reactionLabel(chip), "👍 2 reactions, You and bob. Press to take yours back.");
  assert.equal(reactionLabel({ ...chip, count: 1, mine: false, who: "bob" }), "👍 1 reaction, bob. Press to add yours.");
  assert.equal(actionRefusedText("edit", "only its author may change this message"),
    "Not edited: only its author may change this message.");
  assert.equal(actionRefusedText("delete", "there is no such message in this room"),
    "Not deleted: there is no such message in this room.");
  assert.equal(actionRefusedText("react", "x"), "Reaction not saved: x.");
});
