// The chat page's words and list layout, without a browser: `node --test tests/js/*.test.mjs`.
import test from "node:test";
import assert from "node:assert/strict";

import {
  capitalize, charCount, countShown, countText, jumpText, listLayout, newMessagesText,
  linkSegments, refusedForNowText, refusedText, secondsLeft, stillTyping, titleWithUnseen, tooLongText, typingText,
} from "../../static/chat-format.js";

// A message as the list describes it: ids as strings, the way the DOM keeps them.
function item(id, userId, sentAt, extra = {}) {
  return { id: id === null ? undefined : String(id), userId: String(userId), day: sentAt.slice(0, 10), sentAt, failed: false, ...extra };
}

const ME = 1;
const layoutOf = (items, lastRead = 0) => listLayout(items, { lastRead, meId: ME });

test("a day separator goes before the first message and at each change of day", () => {
  const layout = layoutOf([
    item(1, 2, "2024-05-01T10:00:00Z"),
    item(2, 2, "2024-05-01T10:01:00Z"),
    item(3, 2, "2024-05-02T09:00:00Z"),
  ]);
  assert.deepEqual(layout.map((l) => l.daySeparator), [true, false, true]);
});

test("consecutive messages of one author within five minutes form a group", () => {
  const layout = layoutOf([
    item(1, 2, "2024-05-01T10:00:00Z"),
    item(2, 2, "2024-05-01T10:04:59Z"), // same author, soon after
    item(3, 3, "2024-05-01T10:05:00Z"), // someone else
    item(4, 3, "2024-05-01T10:10:00Z"), // five minutes later: a new group
  ]);
  assert.deepEqual(layout.map((l) => l.continued), [false, true, false, false]);
});

test("a separator or a refused message before it starts a new group", () => {
  const afterDay = layoutOf([item(1, 2, "2024-05-01T23:59:00Z"), item(2, 2, "2024-05-02T00:01:00Z")]);
  assert.deepEqual(afterDay.map((l) => l.continued), [false, false]);
  const afterFailed = layoutOf([
    item(null, ME, "2024-05-01T10:00:00Z", { failed: true }),
    item(null, ME, "2024-05-01T10:01:00Z"),
  ]);
  assert.deepEqual(afterFailed.map((l) => l.continued), [false, false]);
});

test("the new-messages divider goes once, before the first unread message from someone else", () => {
  const items = [
    item(10, 2, "2024-05-01T10:00:00Z"), // read
    item(11, ME, "2024-05-01T10:01:00Z"), // unread, but mine
    item(12, 2, "2024-05-01T10:02:00Z"), // the first unread from someone else
    item(13, 2, "2024-05-01T10:03:00Z"),
    item(null, 2, "2024-05-01T10:04:00Z"), // no id: pending, never the divider's place
  ];
  const layout = layoutOf(items, 10);
  assert.deepEqual(layout.map((l) => l.newDivider), [false, false, true, false, false]);
  assert.equal(layout[2].continued, false, "the divider starts a new group");
  assert.equal(layout[3].continued, true);
});

test("no divider when nothing was read before, nor when everything is read", () => {
  const items = [item(1, 2, "2024-05-01T10:00:00Z"), item(2, 2, "2024-05-01T10:01:00Z")];
  assert.ok(layoutOf(items, 0).every((l) => !l.newDivider));
  assert.ok(layoutOf(items, 2).every((l) => !l.newDivider));
  assert.deepEqual(layoutOf(items, 1).map((l) => l.newDivider), [false, true]);
});

test("those typing are named, up to two, and expired signs are forgotten", () => {
  const signs = new Map([
    [1, { nickname: "Ann", until: 100 }],
    [2, { nickname: "Bob", until: 50 }],
    [3, { nickname: "Cy", until: 200 }],
  ]);
  assert.deepEqual(stillTyping(signs, 60), ["Ann", "Cy"]);
  assert.deepEqual([...signs.keys()], [1, 3], "Bob's old sign is gone");
  assert.equal(typingText([]), "");
  assert.equal(typingText(["Ann"]), "Ann is typing…");
  assert.equal(typingText(["Ann", "Cy"]), "Ann and Cy are typing…");
  assert.equal(typingText(["Ann", "Bob", "Cy"]), "Several people are typing…");
});

test("unseen messages show in the title and on the jump button", () => {
  assert.equal(titleWithUnseen("#general · chatroom", 0), "#general · chatroom");
  assert.equal(titleWithUnseen("#general · chatroom", 3), "(3) #general · chatroom");
  assert.equal(jumpText(0), "Latest ↓");
  assert.equal(jumpText(1), "1 new message ↓");
  assert.equal(jumpText(5), "5 new messages ↓");
  assert.equal(newMessagesText(1), "1 new message");
  assert.equal(newMessagesText(2), "2 new messages");
});

test("the reconnection countdown rounds up and never says 0", () => {
  assert.equal(secondsLeft(10000, 7500), 3);
  assert.equal(secondsLeft(10000, 8000), 2);
  assert.equal(secondsLeft(10000, 10000), 1);
  assert.equal(secondsLeft(10000, 12000), 1);
});

test("characters are counted whole and trimmed, and the count shows near the limit", () => {
  assert.equal(charCount("  héllo  "), 5);
  assert.equal(charCount("👍🏽"), 2, "code points, as the server counts");
  assert.equal(charCount("😀"), 1);
  assert.equal(countShown(90, 100), false);
  assert.equal(countShown(91, 100), true);
  assert.equal(countText(91, 100), "91 / 100");
  assert.equal(tooLongText(101, 100), "Too long to send: 101 characters, and a message has at most 100.");
});

test("refusals say why and what happens next", () => {
  assert.equal(
    refusedForNowText("slow down", 1500),
    "Not sent yet: slow down. Trying again in 2 s; your message is kept.",
  );
  assert.equal(refusedText("not allowed"), "Not sent: not allowed.");
  assert.equal(capitalize("room not found"), "Room not found");
  assert.equal(capitalize(""), "");
});

test("http and https addresses become links, nothing else does", () => {
  const links = (text) => linkSegments(text).filter((p) => p.href).map((p) => p.href);
  assert.deepEqual(links("see https://example.org/a?b=1#c now"), ["https://example.org/a?b=1#c"]);
  assert.deepEqual(links("HTTP://Example.org"), ["http://example.org/"]);
  assert.deepEqual(links("javascript:alert(1) and data:text/html,x and ftp://x.org"), []);
  assert.deepEqual(links("javascript://https://x.org"), [], "a scheme inside another is not one");
  assert.deepEqual(links("mailto:a@b.c file:///etc/passwd"), []);
  assert.deepEqual(links("http:// nothing"), []);
  assert.deepEqual(links("end of a sentence https://x.org/page."), ["https://x.org/page"]);
  assert.deepEqual(links("(https://x.org/wiki/A_(b))"), ["https://x.org/wiki/A_(b)"]);
  assert.deepEqual(links("(see https://x.org/a)"), ["https://x.org/a"]);
  assert.deepEqual(links("看这里https://例子.中国/页，好吗"), ["https://xn--fsqu00a.xn--fiqs8s/%E9%A1%B5"]);
});

test("the pieces give back the text", () => {
  for (const text of ["", "plain", "a https://x.org b http://y.org.", "https://x.org", "<b>https://x.org/\"q\"</b>"]) {
    assert.equal(linkSegments(text).map((p) => p.text).join(""), text);
  }
  const pieces = linkSegments("go https://x.org/a now");
  assert.deepEqual(pieces, [
    { text: "go ", href: null },
    { text: "https://x.org/a", href: "https://x.org/a" },
    { text: " now", href: null },
  ]);
});
