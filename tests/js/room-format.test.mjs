// The room menu's words and rules (moderation), without a browser:
// `node --test tests/js/*.test.mjs`.
import test from "node:test";
import assert from "node:assert/strict";

import {
  banText, delayUntil, errorSentence, inviteText, localizeTimes, logSentence, MAX_TIMER_MS, memberActions,
  mutedAt, mutedText, removedText, roleLabel, sortMembers, usesText, whenText,
} from "../../static/chat-room-format.js";

// Times in tests read as their ISO text, so sentences are the same everywhere.
const when = (iso) => `<${iso}>`;

const alice = { id: 1, nickname: "alice" };
const bob = { id: 2, nickname: "bob" };

function entry(action, extra = {}) {
  return { id: 1, action, actor: alice, target: bob, at: "2026-05-01T14:00:00.000Z", ...extra };
}

test("each log entry reads as a sentence, with its times in the reader's words", () => {
  const until = "2026-05-01T14:30:00.000Z";
  assert.equal(logSentence(entry("mute", { detail: until }), when), `alice muted bob until <${until}>`);
  assert.equal(logSentence(entry("unmute"), when), "alice unmuted bob");
  assert.equal(logSentence(entry("ban"), when), "alice banned bob");
  assert.equal(logSentence(entry("ban", { detail: until }), when), `alice banned bob until <${until}>`);
  assert.equal(logSentence(entry("unban"), when), "alice lifted the ban on bob");
  assert.equal(logSentence(entry("make_moderator"), when), "alice made bob a moderator");
  assert.equal(logSentence(entry("make_member"), when), "alice made bob a member again");
  assert.equal(logSentence(entry("delete_message", { detail: "42" }), when), "alice deleted a message by bob");
});

test("topics and invites are about the room, not a person", () => {
  const noTarget = { target: null };
  assert.equal(logSentence(entry("topic", { ...noTarget, detail: "Release day" }), when), "alice set the topic to “Release day”");
  assert.equal(logSentence(entry("topic", { ...noTarget, detail: "" }), when), "alice cleared the topic");
  const until = "2026-05-08T14:00:00.000Z";
  assert.equal(
    logSentence(entry("create_invite", { ...noTarget, detail: `50 uses, until ${until}` }), when),
    `alice created an invite link (50 uses, until <${until}>)`,
  );
  assert.equal(
    logSentence(entry("create_invite", { ...noTarget, detail: `1 uses, until ${until}` }), when),
    `alice created an invite link (1 use, until <${until}>)`,
    "one use, in the singular",
  );
  assert.equal(logSentence(entry("create_invite", { ...noTarget }), when), "alice created an invite link");
  assert.equal(logSentence(entry("revoke_invite", { ...noTarget }), when), "alice revoked an invite link");
});

test("an action the page does not know yet still reads", () => {
  assert.equal(logSentence(entry("pin_message"), when), "alice: pin message (bob)");
  assert.equal(logSentence(entry("slow_mode", { target: null }), when), "alice: slow mode");
});

test("a time reads as the time of day today, else with its day", () => {
  const words = { time: (d) => `T${d.getHours()}:${d.getMinutes()}`, dayAndTime: (d) => `D${d.getDate()} ${d.getHours()}` };
  const now = new Date(2026, 4, 1, 9, 0);
  assert.equal(whenText(new Date(2026, 4, 1, 14, 30).toISOString(), now, words), "T14:30");
  assert.equal(whenText(new Date(2026, 4, 2, 8, 0).toISOString(), now, words), "D2 8");
  assert.equal(whenText(new Date(2026, 3, 30, 23, 0).toISOString(), now, words), "D30 23");
});

test("the server's times in its messages are put in the reader's words", () => {
  assert.equal(
    localizeTimes("you are muted in this room until 2026-05-01T14:30:00.000Z", when),
    "you are muted in this room until <2026-05-01T14:30:00.000Z>",
  );
  assert.equal(localizeTimes("no time here", when), "no time here");
});

test("a mute is in force until its end, and the timer never waits beyond what it can", () => {
  const now = Date.parse("2026-05-01T14:00:00.000Z");
  assert.equal(mutedAt("2026-05-01T14:30:00.000Z", now), true);
  assert.equal(mutedAt("2026-05-01T13:59:59.000Z", now), false);
  assert.equal(mutedAt(null, now), false);
  assert.equal(delayUntil("2026-05-01T14:00:10.000Z", now), 10000);
  assert.equal(delayUntil("2026-05-01T13:00:00.000Z", now), 0, "never below 0");
  assert.equal(delayUntil("2026-06-30T14:00:00.000Z", now), MAX_TIMER_MS, "30 days is past a timer's reach");
  assert.equal(mutedText("2026-05-01T14:30:00.000Z", when), "You are muted in this room until <2026-05-01T14:30:00.000Z>.");
});

test("being removed says why: banned with the reason, or the room deleted", () => {
  assert.equal(removedText({ cause: "banned", reason: "spamming links" }), "You were removed from this room: spamming links.");
  assert.equal(removedText({ cause: "banned", reason: "Enough." }), "You were removed from this room: Enough.");
  assert.equal(removedText({ cause: "banned", reason: "" }), "You were removed from this room.");
  assert.equal(removedText({ cause: "deleted", reason: "the room was deleted" }), "This room was deleted.");
});

const NOW = Date.parse("2026-05-01T14:00:00.000Z");
const OWNER = { moderates: true, givesRoles: true };
const MODERATOR = { moderates: true, givesRoles: false };
const MEMBER = { moderates: false, givesRoles: false };

function member(id, role, extra = {}) {
  return { id, nickname: `u${id}`, role, online: false, muted_until: null, ...extra };
}

test("the owner gives roles, mutes and bans members and moderators", () => {
  const ctx = { meId: 1, powers: OWNER, now: NOW };
  assert.deepEqual(memberActions(member(2, "member"), ctx), ["make_moderator", "mute", "ban"]);
  assert.deepEqual(memberActions(member(3, "moderator"), ctx), ["make_member", "mute", "ban"]);
  assert.deepEqual(memberActions(member(1, "owner"), ctx), [], "not on themselves");
});

test("a moderator mutes and bans members only, and gives no roles", () => {
  const ctx = { meId: 2, powers: MODERATOR, now: NOW };
  assert.deepEqual(memberActions(member(4, "member"), ctx), ["mute", "ban"]);
  assert.deepEqual(memberActions(member(3, "moderator"), ctx), [], "not on another moderator");
  assert.deepEqual(memberActions(member(2, "moderator"), ctx), [], "not on themselves");
  assert.deepEqual(memberActions(member(1, "owner"), ctx), [], "never on the owner");
});

test("someone muted can be unmuted; a mute over is no mute", () => {
  const ctx = { meId: 2, powers: MODERATOR, now: NOW };
  assert.deepEqual(memberActions(member(4, "member", { muted_until: "2026-05-01T15:00:00.000Z" }), ctx), ["unmute", "ban"]);
  assert.deepEqual(memberActions(member(4, "member", { muted_until: "2026-05-01T13:00:00.000Z" }), ctx), ["mute", "ban"]);
});

test("an administrator who is no owner acts as one, on everyone but the owner", () => {
  const ctx = { meId: 9, powers: OWNER, now: NOW };
  assert.deepEqual(memberActions(member(3, "moderator"), ctx), ["make_member", "mute", "ban"]);
  assert.deepEqual(memberActions(member(1, "owner"), ctx), []);
});

test("a member is offered nothing", () => {
  assert.deepEqual(memberActions(member(4, "member"), { meId: 5, powers: MEMBER, now: NOW }), []);
});

test("members are listed owner first, then moderators, online first, then by name", () => {
  const sorted = sortMembers([
    member(5, "member", { nickname: "zoe", online: true }),
    member(4, "member", { nickname: "amy" }),
    member(3, "moderator", { nickname: "max" }),
    member(1, "owner", { nickname: "olga" }),
    member(2, "member", { nickname: "bea", online: true }),
  ]);
  assert.deepEqual(sorted.map((m) => m.nickname), ["olga", "max", "bea", "zoe", "amy"]);
  assert.deepEqual([roleLabel("owner"), roleLabel("moderator"), roleLabel("member")], ["Owner", "Moderator", "Member"]);
});

test("invite links and bans say when they end", () => {
  const invite = { expires_at: "2026-05-08T14:00:00.000Z", uses_left: 1 };
  assert.equal(inviteText(invite, when), "Expires <2026-05-08T14:00:00.000Z> · 1 use left");
  assert.equal(inviteText({ ...invite, uses_left: 49 }, when), "Expires <2026-05-08T14:00:00.000Z> · 49 uses left");
  assert.equal(usesText(0), "0 uses");
  assert.equal(banText({ until: null, by: alice }, when), "Banned for good by alice");
  assert.equal(banText({ until: "2026-05-02T14:00:00.000Z", by: alice }, when), "Banned until <2026-05-02T14:00:00.000Z> by alice");
});

test("a server error reads as a sentence", () => {
  assert.equal(errorSentence("moderators do not act on moderators"), "Moderators do not act on moderators.");
  assert.equal(errorSentence("Already a sentence."), "Already a sentence.");
  assert.equal(errorSentence(""), "Something went wrong.");
});
