// Mentions on the chat page, without a browser: `node --test tests/js/*.test.mjs`.
import test from "node:test";
import assert from "node:assert/strict";

import { insertMention, mentionAt, mentionSegments, mentionsMe, suggest } from "../../static/chat-mentions.js";

const mentions = (text, names) => mentionSegments(text, names).filter((p) => p.mention).map((p) => p.text);

test("@ and a nickname is a mention; the pieces give back the text", () => {
  const text = "thanks @bob, see you";
  assert.deepEqual(mentionSegments(text, ["bob"]), [
    { text: "thanks ", mention: null }, { text: "@bob", mention: "bob" }, { text: ", see you", mention: null },
  ]);
  assert.equal(mentionSegments(text, ["bob"]).map((p) => p.text).join(""), text);
  assert.deepEqual(mentionSegments("no one", []), [{ text: "no one", mention: null }]);
  assert.deepEqual(mentionSegments("", ["bob"]), [{ text: "", mention: null }]);
});

test("the longest nickname that fits wins, and a name goes on to its end", () => {
  assert.deepEqual(mentions("@Bob Li is here", ["Bob", "Bob Li"]), ["@Bob Li"]);
  assert.deepEqual(mentions("@Bob Lisa is here", ["Bob", "Bob Li"]), ["@Bob"]);
  assert.deepEqual(mentions("@bobby", ["bob"]), [], "followed by a letter");
  assert.deepEqual(mentions("@bob_2 @bob-x @bob9", ["bob"]), [], "followed by _, - or a digit");
  assert.deepEqual(mentions("@bob. @bob! (@bob) @bob🚀", ["bob"]), ["@bob", "@bob", "@bob", "@bob"]);
  assert.deepEqual(mentions("@Bob", ["bob"]), [], "the exact nickname");
});

test("every mention in a text is found, as the server finds them", () => {
  assert.deepEqual(mentions("@alice and @李雷, and @alice again", ["alice", "李雷"]), ["@alice", "@李雷", "@alice"]);
  assert.deepEqual(mentions("mail me@alice", ["alice"]), ["@alice"], "any @ counts, as on the server");
  assert.deepEqual(mentions("@@alice", ["alice"]), ["@alice"]);
});

test("what is typed after an @ before the caret is a query for a name", () => {
  assert.deepEqual(mentionAt("@", 1), { start: 0, query: "" });
  assert.deepEqual(mentionAt("hi @al", 6), { start: 3, query: "al" });
  assert.deepEqual(mentionAt("hi @al there", 6), { start: 3, query: "al" }, "up to the caret");
  assert.deepEqual(mentionAt("(@Bob L", 7), { start: 1, query: "Bob L" }, "a nickname may have a space");
  assert.equal(mentionAt("mail me@alice", 13), null, "not an e-mail address");
  assert.equal(mentionAt("@ alice", 7), null, "not a space right after the @");
  assert.equal(mentionAt("@al\nice", 7), null, "one line only");
  assert.equal(mentionAt("no at sign", 5), null);
  assert.equal(mentionAt(`@${"x".repeat(33)}`, 34), null, "no longer than a nickname");
  assert.deepEqual(mentionAt("你好@李", 4), { start: 2, query: "李" }, "CJK text has no spaces before an @");
});

const members = [
  { id: 1, nickname: "me" },
  { id: 2, nickname: "bob", online: false },
  { id: 3, nickname: "Bob Li", online: true },
  { id: 4, nickname: "alice", online: true },
  { id: 5, nickname: "Lisa Bo", online: false },
  { id: 6, nickname: "carol" },
];

test("suggestions: the names that start with it first, then a word of a name, then anywhere", () => {
  const names = (query) => suggest(members, query, 1).map((m) => m.nickname);
  assert.deepEqual(names("bo"), ["Bob Li", "bob", "Lisa Bo"], "online first among equals");
  assert.deepEqual(names("li"), ["Lisa Bo", "Bob Li", "alice"]);
  assert.deepEqual(names("BOB L"), ["Bob Li"], "whatever the case, spaces and all");
  assert.deepEqual(names("zed"), []);
  assert.deepEqual(names("m"), [], "never oneself");
});

test("an @ alone offers everyone, online first, at most a few", () => {
  assert.deepEqual(suggest(members, "", 1).map((m) => m.id), [4, 3, 2, 6, 5]);
  assert.equal(suggest(members, "", 1, 2).length, 2);
  assert.deepEqual(suggest([...members, { id: 4, nickname: "alice" }], "ali", 1).map((m) => m.id), [4], "each once");
});

test("picking a name writes @nickname and a space, the caret after it", () => {
  assert.deepEqual(insertMention("hi @bo", 3, 6, "Bob Li"), { text: "hi @Bob Li ", caret: 11 });
  assert.deepEqual(insertMention("@al, and", 0, 3, "alice"), { text: "@alice , and", caret: 7 });
  assert.deepEqual(insertMention("@al there", 0, 3, "alice"), { text: "@alice there", caret: 7 }, "one space, not two");
});

test("a message mentions me when its mentions have my id and it is not mine", () => {
  const from = (id, ids, deleted = false) => ({ user: { id }, mentions: ids, deleted });
  assert.equal(mentionsMe(from(2, [1]), 1), true);
  assert.equal(mentionsMe(from(2, [3]), 1), false);
  assert.equal(mentionsMe(from(1, [1]), 1), false, "not my own");
  assert.equal(mentionsMe(from(2, [1], true), 1), false, "not a deleted one");
  assert.equal(mentionsMe({ user: { id: 2 } }, 1), false, "a server without mentions");
});
