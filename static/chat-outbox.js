// The chat page's outbox: messages typed and not yet acknowledged, as a state machine
// with no DOM and no socket, so that it can be tested on its own (tests/js/).
//
// A message is "queued" (to send) or "sent" (awaiting its acknowledgement, the
// server's copy carrying its client_id). A dropped connection puts what was sent back
// in the queue: it goes again with the same client_id, which the server stores once.
// A refusal that may pass (rate limited, storage unavailable) queues it again and
// holds every send for a while, longer after each refusal in a row; a refusal for
// good takes it out.

// The close code the server ends a socket with when the login ended (docs/protocol.md).
export const CLOSE_LOGGED_OUT = 1008;

// How long to wait before reconnecting after `attempt` failures: exponential backoff
// with jitter, capped at 15 s.
export function reconnectDelay(attempt, random = Math.random) {
  return Math.min(15000, 500 * 2 ** Math.min(attempt, 5)) * (0.75 + random() / 2);
}

export class Outbox {
  constructor(clock = () => Date.now()) {
    this.clock = clock;
    this.items = new Map(); // client_id -> {clientId, text, view, replyTo, state}, in typing order
    this.holdUntil = 0;
    this.refusals = 0; // refusals in a row, for the backoff
  }

  // replyTo: the id of the message it answers, or null.
  add(clientId, text, view, replyTo = null) {
    const item = { clientId, text, view, replyTo, state: "queued" };
    this.items.set(clientId, item);
    return item;
  }

  get(clientId) {
    return this.items.get(clientId);
  }

  // A refusal asked to wait, and the wait is not over.
  held() {
    return this.clock() < this.holdUntil;
  }

  // What to send now, in order: nothing while held.
  due() {
    if (this.held()) return [];
    return [...this.items.values()].filter((item) => item.state === "queued");
  }

  sent(item) {
    item.state = "sent";
  }

  // The connection dropped: everything not acknowledged waits for the next one.
  connectionLost() {
    const waiting = [];
    for (const item of this.items.values()) {
      item.state = "queued";
      waiting.push(item);
    }
    return waiting;
  }

  // The server's copy of one of ours arrived: it is stored. The item, if it was ours.
  acknowledged(clientId) {
    const item = this.items.get(clientId);
    if (item) this.items.delete(clientId);
    return item;
  }

  // Any message of ours got through: the refusal backoff starts over.
  gotThrough() {
    this.refusals = 0;
  }

  // Not stored, but it may pass later: queued again, and sending waits `delay` ms.
  refusedForNow(clientId) {
    const item = this.items.get(clientId);
    if (!item) return null;
    item.state = "queued";
    this.refusals += 1;
    const delay = Math.min(10000, 1000 * 2 ** Math.min(this.refusals - 1, 4));
    this.holdUntil = Math.max(this.holdUntil, this.clock() + delay);
    return { item, delay };
  }

  // Refused for good: out of the outbox, for the page to hand back to its author.
  refusedForGood(clientId) {
    const item = this.items.get(clientId);
    if (item) this.items.delete(clientId);
    return item;
  }
}
