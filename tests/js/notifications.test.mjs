// When the chat pages notify, and what the notification says, without a browser:
// `node --test tests/js/*.test.mjs`.
import test from "node:test";
import assert from "node:assert/strict";

import { notificationContent, offerShown, permission, shouldNotify } from "../../static/notifications.js";

const ME = 1;
const message = (extra = {}) => ({
  id: 42, room: "design", user: { id: 2, nickname: "bob" }, text: "hello", mentions: [], deleted: false, ...extra,
});
const when = (extra) => shouldNotify({ meId: ME, direct: false, hidden: true, state: "granted", message: message(), ...extra });

test("a message that mentions me notifies while the page is hidden", () => {
  assert.equal(when({ message: message({ mentions: [ME] }) }), true);
  assert.equal(when({ message: message({ mentions: [3] }) }), false, "someone else mentioned");
  assert.equal(when({ message: message() }), false, "no mention in a public room");
});

test("any message from someone else in a direct room notifies", () => {
  assert.equal(when({ direct: true }), true);
  assert.equal(when({ direct: true, message: message({ user: { id: ME, nickname: "me" } }) }), false, "not my own");
  assert.equal(when({ message: message({ user: { id: ME, nickname: "me" }, mentions: [ME] }) }), false);
});

test("nothing while the page is in view, without permission, or for a deleted message", () => {
  assert.equal(when({ direct: true, hidden: false }), false);
  for (const state of ["default", "denied", "unsupported"]) assert.equal(when({ direct: true, state }), false, state);
  assert.equal(when({ direct: true, message: message({ deleted: true }) }), false);
  assert.equal(when({ direct: true, message: null }), false);
});

test("the offer shows only until the browser has been asked, and not after Not now", () => {
  assert.equal(offerShown("default", false), true);
  assert.equal(offerShown("default", true), false);
  assert.equal(offerShown("granted", false), false);
  assert.equal(offerShown("denied", false), false);
  assert.equal(offerShown("unsupported", false), false);
});

test("a notification says who, where, the first line, and is one per message", () => {
  const text = "\n  First line here  \nsecond line";
  assert.deepEqual(notificationContent(message({ text }), { direct: false, roomTitle: "design" }), {
    title: "bob in #design", body: "First line here", tag: "message-42",
  });
  assert.equal(notificationContent(message(), { direct: true, roomTitle: "bob" }).title, "bob");
  const long = notificationContent(message({ text: "🚀".repeat(200) }), { direct: true });
  assert.equal(Array.from(long.body).length, 140);
  assert.ok(long.body.endsWith("…"));
});

test("without a browser there are no notifications", () => {
  assert.equal(permission(), "unsupported");
});
