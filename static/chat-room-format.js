// The room menu's words and rules (moderation: the topic, invite links, roles, mutes,
// bans, the log) and what the composer says when one may not write, as plain functions
// with no DOM, so that they can be tested on their own (tests/js/room-format.test.mjs).
// The server decides; these only say what the page offers and how it reads.

// How long a mute lasts, as the menu offers it.
export const MUTE_CHOICES = [
  { minutes: 10, label: "10 min" },
  { minutes: 60, label: "1 hour" },
  { minutes: 1440, label: "1 day" },
  { minutes: 10080, label: "1 week" },
];

// How long a ban lasts (null: until lifted).
export const BAN_CHOICES = [
  { minutes: null, label: "For good" },
  { minutes: 60, label: "1 hour" },
  { minutes: 1440, label: "1 day" },
  { minutes: 10080, label: "1 week" },
  { minutes: 43200, label: "30 days" },
];

// The longest a browser timer waits (ms); a longer wait is taken in steps.
export const MAX_TIMER_MS = 2 ** 31 - 1;

// ---- times ----

// A time as the page says it: the time of day when it is today, else the day with the
// time. words: {time(date), dayAndTime(date)} (Intl formatters on the page).
export function whenText(iso, now, words) {
  const date = new Date(iso);
  return date.toDateString() === now.toDateString() ? words.time(date) : words.dayAndTime(date);
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
const dayAndTimeFormat = new Intl.DateTimeFormat(undefined, {
  weekday: "short", day: "numeric", month: "short", hour: "numeric", minute: "2-digit",
});

export const LOCAL_WORDS = {
  time: (date) => timeFormat.format(date),
  dayAndTime: (date) => dayAndTimeFormat.format(date),
};

// The reader's own words for a time, now.
export function localWhen(iso) {
  return whenText(iso, new Date(), LOCAL_WORDS);
}

// The server's messages give times in RFC 3339 ("muted … until 2026-05-01T14:30:00.000Z"):
// in the reader's words instead.
export function localizeTimes(text, when) {
  return text.replace(/\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)/g, (iso) => when(iso));
}

// How long to wait (ms) before looking again whether `until` has passed: never below
// 0, never beyond what a timer can wait.
export function delayUntil(until, now) {
  return Math.min(Math.max(0, Date.parse(until) - now), MAX_TIMER_MS);
}

// Whether a mute that ends at `until` (RFC 3339, or null) is in force at `now` (ms).
export function mutedAt(until, now) {
  return !!until && Date.parse(until) > now;
}

// ---- not writing ----

export function mutedText(until, when) {
  return `You are muted in this room until ${when(until)}.`;
}

// What a `removed` frame tells the person taken out of the room.
export function removedText(frame) {
  if (frame.cause === "deleted") return "This room was deleted.";
  const reason = (frame.reason || "").trim().replace(/[.!]+$/, "");
  return reason ? `You were removed from this room: ${reason}.` : "You were removed from this room.";
}

// ---- who may do what to whom (the server's rules, docs/protocol.md "Moderation") ----

const RANKS = { owner: 3, moderator: 2, member: 1 };

export function rank(role) {
  return RANKS[role] || 1;
}

// What the viewer may do in the room: powers {moderates, givesRoles}; their rank is the
// owner's when they give roles (the owner, or an administrator).
export function viewerRank(powers) {
  if (powers.givesRoles) return 3;
  return powers.moderates ? 2 : 1;
}

// The actions the menu offers on a member, in order: "make_moderator" or "make_member"
// (giving roles), "mute" or "unmute", "ban". None on oneself, on the owner, nor on
// anyone as high as the viewer (moderators on moderators).
export function memberActions(member, { meId, powers, now }) {
  if (!powers.moderates || member.id === meId || member.role === "owner") return [];
  if (rank(member.role) >= viewerRank(powers)) return [];
  const actions = [];
  if (powers.givesRoles) actions.push(member.role === "moderator" ? "make_member" : "make_moderator");
  actions.push(mutedAt(member.muted_until, now) ? "unmute" : "mute");
  actions.push("ban");
  return actions;
}

export const ACTION_LABELS = {
  make_moderator: "Make moderator",
  make_member: "Make member",
  mute: "Mute…",
  unmute: "Unmute",
  ban: "Ban…",
};

export function roleLabel(role) {
  return { owner: "Owner", moderator: "Moderator" }[role] || "Member";
}

// The owner first, then moderators, then members; online before offline; by name.
export function sortMembers(members) {
  return members.slice().sort((a, b) =>
    rank(b.role) - rank(a.role) || Number(b.online) - Number(a.online) ||
    a.nickname.localeCompare(b.nickname) || a.id - b.id);
}

// ---- invites, bans ----

export function usesText(count) {
  return count === 1 ? "1 use" : `${count} uses`;
}

// Under a live invite link: when it ends and how many may still use it.
export function inviteText(invite, when) {
  return `Expires ${when(invite.expires_at)} · ${usesText(invite.uses_left)} left`;
}

// Under a ban: until when, and by whom.
export function banText(sanction, when) {
  const until = sanction.until ? `until ${when(sanction.until)}` : "for good";
  return `Banned ${until} by ${sanction.by.nickname}`;
}

// ---- the moderation log ----

// One entry of the log as a sentence: "alice muted bob until 2:30 PM".
export function logSentence(entry, when) {
  const actor = entry.actor.nickname;
  const target = entry.target ? entry.target.nickname : "someone";
  const detail = entry.detail || "";
  switch (entry.action) {
    case "mute": return detail ? `${actor} muted ${target} until ${when(detail)}` : `${actor} muted ${target}`;
    case "unmute": return `${actor} unmuted ${target}`;
    case "ban": return detail ? `${actor} banned ${target} until ${when(detail)}` : `${actor} banned ${target}`;
    case "unban": return `${actor} lifted the ban on ${target}`;
    case "make_moderator": return `${actor} made ${target} a moderator`;
    case "make_member": return `${actor} made ${target} a member again`;
    case "delete_message": return `${actor} deleted a message by ${target}`;
    case "topic": return detail ? `${actor} set the topic to “${detail}”` : `${actor} cleared the topic`;
    case "create_invite": return `${actor} created an invite link${inviteDetail(detail, when)}`;
    case "revoke_invite": return `${actor} revoked an invite link`;
    default: return `${actor}: ${String(entry.action).replace(/_/g, " ")}${target === "someone" ? "" : ` (${target})`}`;
  }
}

// A created invite's detail is "50 uses, until <time>".
function inviteDetail(detail, when) {
  const parts = /^(\d+) uses?, until (\S+)$/.exec(detail);
  if (!parts) return detail ? ` (${detail})` : "";
  return ` (${usesText(Number(parts[1]))}, until ${when(parts[2])})`;
}

// The server's error message as a sentence on its own.
export function errorSentence(message) {
  const text = (message || "something went wrong").trim();
  return `${text[0].toUpperCase()}${text.slice(1)}${/[.!?]$/.test(text) ? "" : "."}`;
}
