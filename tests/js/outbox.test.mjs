// The chat page's outbox, without a browser: `node --test tests/js/*.test.mjs` (scripts/test).
import test from "node:test";
import assert from "node:assert/strict";

import { Outbox, reconnectDelay } from "../../static/chat-outbox.js";

function clockAt(start) {
  const clock = () => clock.now;
  clock.now = start;
  return clock;
}

test("queued messages go out in typing order and wait for their acknowledgement", () => {
  const outbox = new Outbox(clockAt(0));
  const a = outbox.add("a", "first", null);
  outbox.add("b", "second", null);
  assert.deepEqual(outbox.due().map((i) => i.clientId), ["a", "b"]);
  outbox.sent(a);
  assert.deepEqual(outbox.due().map((i) => i.clientId), ["b"]);
  assert.equal(outbox.acknowledged("a"), a);
  assert.equal(outbox.acknowledged("a"), undefined, "a repeat of the ack is nobody's");
  assert.equal(outbox.get("a"), undefined);
});

test("a dropped connection queues what was sent again, in order, with the same ids", () => {
  const outbox = new Outbox(clockAt(0));
  for (const id of ["a", "b", "c"]) outbox.sent(outbox.add(id, id, null));
  outbox.acknowledged("b");
  assert.deepEqual(outbox.connectionLost().map((i) => i.clientId), ["a", "c"]);
  assert.deepEqual(outbox.due().map((i) => i.clientId), ["a", "c"]);
});

test("a refusal that may pass holds every send, longer after each refusal in a row", () => {
  const clock = clockAt(1000);
  const outbox = new Outbox(clock);
  outbox.sent(outbox.add("a", "a", null));
  assert.equal(outbox.refusedForNow("a").delay, 1000);
  assert.deepEqual(outbox.due(), [], "held");
  clock.now += 1000;
  assert.deepEqual(outbox.due().map((i) => i.clientId), ["a"]);
  outbox.sent(outbox.get("a"));
  assert.equal(outbox.refusedForNow("a").delay, 2000);
  outbox.gotThrough();
  outbox.sent(outbox.get("a"));
  assert.equal(outbox.refusedForNow("a").delay, 1000, "the backoff starts over");
  for (let i = 0; i < 10; i++) outbox.refusedForNow("a");
  assert.ok(outbox.refusedForNow("a").delay <= 10000, "capped");
  assert.equal(outbox.refusedForNow("nobody"), null);
});

test("a reply keeps what it answers through a drop and a refusal", () => {
  const outbox = new Outbox(clockAt(0));
  outbox.sent(outbox.add("a", "yes, agreed", null, 42));
  outbox.add("b", "no reply", null);
  assert.deepEqual(outbox.connectionLost().map((i) => i.replyTo), [42, null]);
  assert.equal(outbox.refusedForGood("a").replyTo, 42, "to answer the same message again");
});

test("a refusal for good takes the message out", () => {
  const outbox = new Outbox(clockAt(0));
  const a = outbox.add("a", "too long", null);
  assert.equal(outbox.refusedForGood("a"), a);
  assert.deepEqual(outbox.due(), []);
});

test("reconnecting backs off up to 15 s, with jitter", () => {
  assert.equal(reconnectDelay(1, () => 0.5), 1000);
  assert.equal(reconnectDelay(2, () => 0.5), 2000);
  assert.equal(reconnectDelay(30, () => 0.5), 15000);
  assert.ok(reconnectDelay(3, () => 0) < reconnectDelay(3, () => 1));
});
