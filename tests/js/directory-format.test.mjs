// What the rooms page's "Browse rooms" asks the server, shows and says, without a
// browser: `node --test tests/js/*.test.mjs`.
import test from "node:test";
import assert from "node:assert/strict";

import {
  debounce, DEBOUNCE_MS, directoryErrorText, directoryUrl, membershipLabel, nameParts, normalizeQuery, OFFER_AFTER,
  PAGE_SIZE, roomHref, shouldOffer, statusText, topicLine,
} from "../../static/directory-format.js";

// The marked parts of a name, in order.
const hits = (name, q) => nameParts(name, q).filter((p) => p.hit).map((p) => p.text);
const joined = (name, q) => nameParts(name, q).map((p) => p.text).join("");

test("browsing is offered once the room list is longer than about a screenful", () => {
  assert.equal(OFFER_AFTER, 12);
  assert.equal(shouldOffer(0), false);
  assert.equal(shouldOffer(12), false);
  assert.equal(shouldOffer(13), true);
  assert.equal(shouldOffer(500), true);
});

test("a query is asked for as room names are written: trimmed, without the #, lowercase", () => {
  assert.equal(normalizeQuery("  Design "), "design");
  assert.equal(normalizeQuery("#team-Talk"), "team-talk");
  assert.equal(normalizeQuery("## ops"), "ops");
  assert.equal(normalizeQuery("#"), "");
  assert.equal(normalizeQuery(""), "");
  assert.equal(normalizeQuery(undefined), "");
  assert.equal(normalizeQuery("a#b"), "a#b", "only a leading # goes");
});

test("the API address carries the query, the cursor and the page size", () => {
  assert.equal(PAGE_SIZE, 20);
  assert.equal(directoryUrl("", null), "/api/directory?limit=20");
  assert.equal(directoryUrl("team", null), "/api/directory?q=team&limit=20");
  assert.equal(directoryUrl("team", "team-07", 50), "/api/directory?q=team&after=team-07&limit=50");
  assert.equal(directoryUrl("a&b", "x y"), "/api/directory?q=a%26b&after=x+y&limit=20", "escaped");
  assert.equal(roomHref("team_talk-1"), "/rooms/team_talk-1");
});

test("the part of the name that matched is marked, every time, and the name comes back whole", () => {
  assert.deepEqual(hits("garden-club", "garden"), ["garden"]);
  assert.deepEqual(hits("go-go-go", "go"), ["go", "go", "go"]);
  assert.deepEqual(hits("design", "#SIG"), ["sig"], "as the query is asked for");
  assert.deepEqual(hits("design", "zebra"), []);
  assert.deepEqual(nameParts("design", ""), [{ text: "design", hit: false }]);
  assert.deepEqual(nameParts("aaa", "aa"), [{ text: "aa", hit: true }, { text: "a", hit: false }], "no overlaps");
  for (const [name, q] of [["garden-club", "garden"], ["go-go-go", "go"], ["abc", "c"], ["abc", "abc"], ["", "x"]]) {
    assert.equal(joined(name, q), name);
  }
});

test("whether we are in a room, from our role in it", () => {
  assert.equal(membershipLabel(null), null);
  assert.equal(membershipLabel(undefined), null);
  assert.equal(membershipLabel("member"), "Joined");
  assert.equal(membershipLabel("moderator"), "Moderator");
  assert.equal(membershipLabel("owner"), "Owner");
});

test("the topic under the name, or a quiet word when there is none", () => {
  assert.deepEqual(topicLine({ topic: "Seeds and soil" }), { text: "Seeds and soil", empty: false });
  assert.deepEqual(topicLine({ topic: "  " }), { text: "No topic yet", empty: true });
  assert.deepEqual(topicLine({ topic: "" }), { text: "No topic yet", empty: true });
  assert.deepEqual(topicLine({}), { text: "No topic yet", empty: true });
});

test("the status line counts what is shown and says when there is more, or nothing", () => {
  assert.equal(statusText(0, false, ""), "There are no public rooms yet.");
  assert.equal(statusText(1, false, ""), "1 public room.");
  assert.equal(statusText(7, false, ""), "7 public rooms, by name.");
  assert.equal(statusText(20, true, ""), "Showing the first 20 public rooms, by name.");
  assert.equal(statusText(0, false, "zebra"), "No public rooms have “zebra” in their name.");
  assert.equal(statusText(1, false, "garden"), "1 room has “garden” in its name.");
  assert.equal(statusText(3, false, "team"), "3 rooms have “team” in their name.");
  assert.equal(statusText(40, true, "team"), "Showing the first 40 rooms with “team” in their name.");
});

test("a refused or lost request says why, in plain words", () => {
  assert.match(directoryErrorText(0), /check the connection/);
  assert.match(directoryErrorText(429), /^Too many requests/);
  assert.equal(directoryErrorText(400, "limit must be 1 or more"), "Limit must be 1 or more.");
  assert.equal(directoryErrorText(422, "Too long!"), "Too long!");
  assert.match(directoryErrorText(400), /^This search cannot be run\.$/);
  assert.match(directoryErrorText(503), /unavailable/);
  assert.match(directoryErrorText(500), /try again/);
  for (const status of [0, 400, 429, 500, 503]) assert.ok(directoryErrorText(status).length > 10, `${status}`);
});

test("typing is debounced: one call with the last value once typing pauses", () => {
  assert.equal(DEBOUNCE_MS, 250);
  const timers = fakeTimers();
  const calls = [];
  const search = debounce((q) => calls.push(q), 250, timers);
  search("g");
  search("ga");
  timers.advance(200);
  search("gar");
  timers.advance(249);
  assert.deepEqual(calls, [], "nothing while typing");
  timers.advance(1);
  assert.deepEqual(calls, ["gar"]);
  timers.advance(1000);
  assert.deepEqual(calls, ["gar"], "once");
});

test("now() runs at once and drops what was waiting; cancel() drops it", () => {
  const timers = fakeTimers();
  const calls = [];
  const search = debounce((q) => calls.push(q), 250, timers);
  search("a");
  search.now("ab");
  timers.advance(500);
  assert.deepEqual(calls, ["ab"]);
  search("abc");
  search.cancel();
  timers.advance(500);
  assert.deepEqual(calls, ["ab"]);
});

// setTimeout and clearTimeout on a clock moved by hand.
function fakeTimers() {
  let now = 0;
  let id = 0;
  const pending = new Map();
  return {
    setTimeout(fn, ms) {
      pending.set(++id, { at: now + ms, fn });
      return id;
    },
    clearTimeout(t) {
      pending.delete(t);
    },
    advance(ms) {
      now += ms;
      for (const [t, { at, fn }] of [...pending].sort((a, b) => a[1].at - b[1].at)) {
        if (at <= now && pending.has(t)) {
          pending.delete(t);
          fn();
        }
      }
    },
  };
}
