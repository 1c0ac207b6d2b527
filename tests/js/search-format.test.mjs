// What the search page marks in a result and what it says, without a browser:
// `node --test tests/js/*.test.mjs`.
import test from "node:test";
import assert from "node:assert/strict";

import {
  fold, highlight, isCjk, messageUrl, queryTerms, resultsText, roomLabel, scopeLabel, searchable, searchErrorText,
  searchUrl, tokens,
} from "../../static/search-format.js";

// The highlighted parts of a text, in order.
const hits = (text, q) => highlight(text, q).filter((p) => p.hit).map((p) => p.text);
// Joined again, the pieces are the text.
const joined = (text, q) => highlight(text, q).map((p) => p.text).join("");

test("the words of a query are marked whole, in any order, whatever their case", () => {
  assert.deepEqual(hits("Deploy the release on Monday", "monday RELEASE"), ["release", "Monday"]);
  assert.deepEqual(hits("Releases are out; release notes too", "release"), ["release"], "not inside a longer word");
  assert.deepEqual(hits("re-release", "release"), ["release"], "punctuation ends a word");
  assert.deepEqual(hits("nothing here", "release"), []);
});

test("each occurrence of a word is marked, and the text comes back whole", () => {
  const text = "Ship it. SHIP it now, ship!";
  assert.deepEqual(hits(text, "ship"), ["Ship", "SHIP", "ship"]);
  assert.equal(joined(text, "ship"), text);
  assert.equal(joined("", "ship"), "");
  assert.deepEqual(highlight("", "ship"), [{ text: "", hit: false }]);
});

test("accents do not stop a word from being marked", () => {
  assert.deepEqual(hits("Un café crème", "cafe CREME"), ["café", "crème"]);
  assert.equal(fold("ΟΔΟΣ"), "οδοσ");
});

test("Chinese, Japanese and Korean text is marked where the query's run is, as a substring", () => {
  assert.deepEqual(hits("我们明天发布新版本", "发布"), ["发布"]);
  assert.deepEqual(hits("我们明天发布新版本", "版"), ["版"], "one character is enough");
  assert.deepEqual(hits("明天发布，后天也发布", "发布"), ["发布", "发布"]);
  assert.deepEqual(hits("发表的布告", "发布"), [], "the characters one after the other, not apart");
  assert.deepEqual(hits("新しいリリースです", "リリース"), ["リリース"]);
  assert.deepEqual(hits("오늘 배포합니다", "배포"), ["배포"]);
  // A space between CJK characters is no term, as in the index.
  assert.deepEqual(hits("发 布", "发布"), ["发 布"]);
});

test("a query mixing words and CJK marks both, and a word glued to CJK text is still a word", () => {
  assert.deepEqual(hits("v2版本发布 today", "发布 V2"), ["v2", "发布"]);
  assert.deepEqual(hits("用Rust写的", "rust"), ["Rust"]);
});

test("a query reads as the index reads it: words folded, CJK runs, each once", () => {
  assert.deepEqual(queryTerms("Hello, hello WORLD 你好"), [
    { kind: "word", text: "hello" }, { kind: "word", text: "world" }, { kind: "phrase", chars: ["你", "好"] },
  ]);
  assert.deepEqual(queryTerms("a发布b"), [
    { kind: "word", text: "a" }, { kind: "phrase", chars: ["发", "布"] }, { kind: "word", text: "b" },
  ]);
  assert.equal(searchable("!!! ..."), false);
  assert.equal(searchable("  ok "), true);
  assert.equal(searchable("你"), true);
});

test("tokens keep their place in the text, emoji and all", () => {
  const text = "🚀 go 发";
  assert.deepEqual(tokens(text).map((t) => [t.kind, t.text, text.slice(t.start, t.end)]), [
    ["word", "go", "go"], ["cjk", "发", "发"],
  ]);
  assert.deepEqual(hits("🚀 ship 🚀 it", "ship"), ["ship"]);
  assert.equal(isCjk("한"), true);
  assert.equal(isCjk("a"), false);
  assert.equal(isCjk("𠀀"), true, "extension B, outside the basic plane");
});

test("a result opens its room at the message; the page's address keeps the query", () => {
  assert.equal(messageUrl("design", 42), "/rooms/design?at=42");
  assert.equal(searchUrl("release notes", ""), "/search?q=release+notes");
  assert.equal(searchUrl("发布", "design"), "/search?q=%E5%8F%91%E5%B8%83&room=design");
  assert.equal(searchUrl("", ""), "/search");
});

test("a room reads as #name, a direct room as the other person", () => {
  assert.equal(roomLabel("design", { kind: "public", title: "design" }), "#design");
  assert.equal(roomLabel("dm-1-2", { kind: "direct", title: "Bob Li" }), "Bob Li");
  assert.equal(roomLabel("gone", undefined), "#gone");
  assert.equal(scopeLabel("design", { kind: "public", title: "design" }), "#design");
  assert.equal(scopeLabel("dm-1-2", { kind: "direct", title: "Bob Li" }), "the conversation with Bob Li");
});

test("the status line says how many were found, and where", () => {
  assert.equal(resultsText(0, false, "xyz", ""), "No messages match “xyz”.");
  assert.equal(resultsText(0, false, "xyz", "#design"), "No messages in #design match “xyz”.");
  assert.equal(resultsText(1, false, "ship", ""), "1 message matches “ship”.");
  assert.equal(resultsText(3, false, "ship", "#design"), "3 messages in #design match “ship”.");
  assert.equal(resultsText(2, false, "ship", "the conversation with Bob"), "2 messages in the conversation with Bob match “ship”.");
  assert.equal(resultsText(20, true, "ship", ""), "Showing the 20 newest messages that match “ship”.");
});

test("a refused search says why in a sentence", () => {
  assert.equal(searchErrorText(404, "no such room", "secret"), "There is no room #secret here that you can read.");
  assert.equal(searchErrorText(422, "q has at most 200 characters", ""), "Q has at most 200 characters.");
  assert.equal(searchErrorText(429, "", ""), "Searching too fast: wait a moment and try again.");
  assert.equal(searchErrorText(0, "", ""), "Could not search: check the connection and try again.");
  assert.equal(searchErrorText(503, "", ""), "Could not search just now; try again in a moment.");
});
