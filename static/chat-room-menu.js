// The room menu, for the owner, moderators and administrators: a <dialog> from the
// "Manage" button in the chat header (a sheet over the whole screen on a phone, a panel
// on the right on a desktop) with the topic, invite links, the people and what may be
// done to them (chat-room-members.js), the bans, the moderation log and, for the owner,
// deleting the room. Every list is read from the JSON API (chat-room-api.js) when the
// menu opens and again after each action; a refusal shows next to what was tried.
// Escape closes it (or first the small form open in it) and the focus goes back to
// the button. Text goes in with textContent only.

import { RoomApi } from "./chat-room-api.js";
import { PeopleList } from "./chat-room-members.js";
import { banText, inviteText, localWhen, logSentence } from "./chat-room-format.js";

// Moderation log entries per page.
const LOG_PAGE = 20;

// What each action changes, to read again.
const CHANGES = {
  make_moderator: ["members", "log"],
  make_member: ["members", "log"],
  mute: ["members", "log"],
  unmute: ["members", "log"],
  ban: ["members", "bans", "log"],
};

// Where the focus goes after an action on a member (the row drawn again).
const FOCUS_AFTER = { make_moderator: "make_member", make_member: "make_moderator", mute: "unmute", unmute: "mute" };

const byId = (id) => document.getElementById(id);

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function button(text, className, action) {
  const b = el("button", className, text);
  b.type = "button";
  if (action) b.dataset.action = action;
  return b;
}

function showError(line, text) {
  line.textContent = text || "";
  line.hidden = !text;
}

export class RoomMenu {
  // ctx: {room, me, ui, powers() ({moderates, givesRoles}), onTopic(topic) (the room's
  // topic as the server has it now)}.
  constructor(ctx) {
    this.ctx = ctx;
    this.api = new RoomApi(ctx.room);
    this.el = {
      toggle: byId("room-menu-toggle"),
      dialog: byId("room-menu"),
      close: byId("room-menu-close"),
      topicForm: byId("topic-form"),
      topicInput: byId("topic-input"),
      topicSave: byId("topic-save"),
      topicError: byId("topic-error"),
      topicNote: byId("topic-note"),
      inviteForm: byId("invite-form"),
      inviteUses: byId("invite-uses"),
      inviteHours: byId("invite-hours"),
      inviteCreate: byId("invite-create"),
      inviteError: byId("invite-error"),
      invites: byId("invite-list"),
      invitesEmpty: byId("invite-empty"),
      people: byId("people-list"),
      peopleError: byId("people-error"),
      bans: byId("ban-list"),
      bansEmpty: byId("ban-empty"),
      log: byId("mod-log"),
      logEmpty: byId("log-empty"),
      logError: byId("log-error"),
      logMore: byId("log-more"),
      deleteRoom: byId("delete-room"),
      deleteError: byId("delete-room-error"),
      confirmDelete: byId("confirm-delete-room"),
    };
    this.present = !!(this.el.toggle && this.el.dialog); // not in a direct room
    if (!this.present) return;
    this.loads = {}; // list -> the number of its latest read, so a late answer is dropped
    this.oldestLogId = null;
    this.people = new PeopleList(
      { list: this.el.people },
      { me: ctx.me, ui: ctx.ui, when: localWhen, powers: ctx.powers, act: (a, m, x) => this.actOn(a, m, x) },
    );
    this.listen();
  }

  listen() {
    const { el } = this;
    el.toggle.addEventListener("click", () => (this.isOpen() ? this.close() : this.open()));
    el.close.addEventListener("click", () => this.close());
    el.dialog.addEventListener("close", () => {
      el.toggle.setAttribute("aria-expanded", "false");
      // Back to the button; to the message box when the button went (our role did).
      (el.toggle.hidden ? document.getElementById("draft") : el.toggle).focus();
    });
    // A click on the backdrop (the dialog itself, outside its panel) closes it.
    el.dialog.addEventListener("click", (event) => {
      if (event.target === el.dialog) this.close();
    });
    el.topicForm.addEventListener("submit", (event) => {
      event.preventDefault();
      this.saveTopic();
    });
    el.topicInput.addEventListener("input", () => { el.topicNote.textContent = ""; });
    el.inviteForm.addEventListener("submit", (event) => {
      event.preventDefault();
      this.createInvite();
    });
    el.invites.addEventListener("click", (event) => this.inviteClicked(event));
    el.bans.addEventListener("click", (event) => this.banClicked(event));
    el.logMore.addEventListener("click", () => this.loadLog(true));
    if (el.deleteRoom) el.deleteRoom.addEventListener("click", () => this.askDeleteRoom());
  }

  isOpen() {
    return this.present && this.el.dialog.open;
  }

  // Shown or not in the header (the viewer's role changed).
  setAvailable(yes) {
    if (!this.present) return;
    this.el.toggle.hidden = !yes;
    if (!yes && this.isOpen()) this.el.dialog.close();
  }

  open() {
    if (!this.present || this.isOpen()) return;
    this.el.dialog.showModal();
    this.el.toggle.setAttribute("aria-expanded", "true");
    this.el.close.focus();
    this.refresh(["room", "members", "invites", "bans", "log"]);
  }

  close() {
    if (this.isOpen()) this.el.dialog.close();
  }

  // ---- reading ----

  refresh(parts) {
    const read = {
      room: () => this.loadRoom(),
      members: () => this.loadMembers(),
      invites: () => this.loadInvites(),
      bans: () => this.loadBans(),
      log: () => this.loadLog(false),
    };
    return Promise.all(parts.map((part) => read[part]()));
  }

  // Starts a read of `list`; the returned check says whether its answer is still the latest.
  begin(list) {
    const n = (this.loads[list] || 0) + 1;
    this.loads[list] = n;
    return () => this.loads[list] === n;
  }

  async loadRoom() {
    const latest = this.begin("room");
    const answer = await this.api.room();
    if (!latest() || !answer.ok) return;
    this.topicChanged(answer.data.room.topic);
  }

  async loadMembers(focus = null) {
    const latest = this.begin("members");
    const answer = await this.api.members();
    if (!latest()) return;
    showError(this.el.peopleError, answer.ok ? null : answer.error);
    if (answer.ok) this.people.render(answer.data.members, focus);
  }

  async loadInvites() {
    const latest = this.begin("invites");
    const answer = await this.api.invites();
    if (!latest()) return;
    showError(this.el.inviteError, answer.ok ? null : answer.error);
    if (!answer.ok) return;
    const invites = answer.data.invites;
    this.el.invites.replaceChildren(...invites.map((invite) => this.renderInvite(invite)));
    this.el.invitesEmpty.hidden = invites.length > 0;
  }

  async loadBans() {
    const latest = this.begin("bans");
    const answer = await this.api.bans();
    if (!latest() || !answer.ok) return;
    const bans = answer.data.sanctions;
    this.el.bans.replaceChildren(...bans.map((ban) => this.renderBan(ban)));
    this.el.bansEmpty.hidden = bans.length > 0;
  }

  // The latest page, or (more) the page before the oldest shown.
  async loadLog(more) {
    const latest = this.begin("log");
    const answer = await this.api.log(more ? this.oldestLogId : null, LOG_PAGE);
    if (!latest()) return;
    showError(this.el.logError, answer.ok ? null : answer.error);
    if (!answer.ok) return;
    const actions = answer.data.actions;
    const rows = actions.map((entry) => this.renderLogEntry(entry));
    if (more) this.el.log.append(...rows);
    else this.el.log.replaceChildren(...rows);
    if (actions.length > 0) this.oldestLogId = actions[actions.length - 1].id;
    this.el.logEmpty.hidden = this.el.log.childElementCount > 0;
    this.el.logMore.hidden = actions.length < LOG_PAGE;
  }

  // ---- the topic ----

  // The topic changed (a `room` frame, or our own save): the field follows, unless
  // someone is typing in it.
  topicChanged(topic) {
    if (!this.present) return;
    const input = this.el.topicInput;
    if (document.activeElement !== input || input.value === topic) input.value = topic;
    if (this.isOpen()) this.loadLog(false);
  }

  async saveTopic() {
    const { el } = this;
    el.topicSave.disabled = true;
    el.topicNote.textContent = "";
    const answer = await this.api.setTopic(el.topicInput.value.trim());
    el.topicSave.disabled = false;
    showError(el.topicError, answer.ok ? null : answer.error);
    if (!answer.ok) return;
    const topic = answer.data.room.topic;
    el.topicInput.value = topic;
    el.topicNote.textContent = topic ? "Topic saved." : "Topic cleared.";
    this.ctx.onTopic(topic);
    this.loadLog(false);
  }

  // ---- invite links ----

  async createInvite() {
    const { el } = this;
    el.inviteCreate.disabled = true;
    const answer = await this.api.createInvite(Number(el.inviteUses.value), Number(el.inviteHours.value));
    el.inviteCreate.disabled = false;
    showError(el.inviteError, answer.ok ? null : answer.error);
    if (!answer.ok) return;
    await this.refresh(["invites", "log"]);
    const row = el.invites.querySelector(`.invite[data-code="${CSS.escape(answer.data.invite.code)}"]`);
    if (row) row.querySelector("[data-action=copy]").focus();
  }

  renderInvite(invite) {
    const li = el("li", "invite");
    li.dataset.code = invite.code;
    const line = el("div", "invite-line");
    const url = el("input", "invite-url");
    url.type = "text";
    url.readOnly = true;
    url.value = invite.url;
    url.setAttribute("aria-label", "Invite link");
    const meta = el("p", "invite-meta muted", inviteText(invite, localWhen));
    meta.id = `invite-meta-${invite.code}`;
    url.setAttribute("aria-describedby", meta.id);
    line.append(url, button("Copy", "button-small", "copy"), button("Revoke", "button-small button-danger-quiet", "revoke"));
    const status = el("p", "invite-status");
    status.setAttribute("role", "status");
    const error = el("p", "room-menu-error");
    error.setAttribute("role", "alert");
    error.hidden = true;
    li.append(line, meta, status, error);
    return li;
  }

  async inviteClicked(event) {
    const b = event.target.closest("button[data-action]");
    if (!b) return;
    const li = b.closest(".invite");
    if (b.dataset.action === "copy") return this.copy(li);
    b.disabled = true;
    const answer = await this.api.revokeInvite(li.dataset.code);
    if (!answer.ok) {
      b.disabled = false;
      return showError(li.querySelector(".room-menu-error"), answer.error);
    }
    await this.refresh(["invites", "log"]);
    this.el.inviteCreate.focus();
  }

  // To the clipboard; where the page may not write there, the link is selected to copy.
  async copy(li) {
    const url = li.querySelector(".invite-url");
    const status = li.querySelector(".invite-status");
    try {
      await navigator.clipboard.writeText(url.value);
      status.textContent = "Copied.";
    } catch (_) {
      url.focus();
      url.select();
      status.textContent = "Selected: press Ctrl+C (⌘C on a Mac) to copy it.";
    }
  }

  // ---- people, bans ----

  // An action on a member (from the people list): null when done (the lists are read
  // again, the focus on what follows it), else the reason it was refused.
  async actOn(action, member, extra) {
    const api = this.api;
    const call = {
      make_moderator: () => api.setRole(member.id, "moderator"),
      make_member: () => api.setRole(member.id, "member"),
      mute: () => api.mute(member.id, extra.minutes),
      unmute: () => api.unmute(member.id),
      ban: () => api.ban(member.id, extra.reason, extra.minutes),
    }[action];
    const answer = await call();
    if (!answer.ok) return answer.error;
    const parts = CHANGES[action].filter((part) => part !== "members");
    const focus = FOCUS_AFTER[action] ? { id: member.id, action: FOCUS_AFTER[action] } : null;
    await Promise.all([this.loadMembers(focus), this.refresh(parts)]);
    if (action === "ban") {
      const unban = this.el.bans.querySelector(`.ban[data-user-id="${member.id}"] button`);
      (unban || this.el.close).focus();
    }
    return null;
  }

  renderBan(ban) {
    const li = el("li", "ban");
    li.dataset.userId = ban.user.id;
    const line = el("div", "ban-line");
    const name = el("span", "person-name", ban.user.nickname);
    name.id = `banned-${ban.user.id}`;
    const unban = button("Unban", "button-small button-quiet", "unban");
    unban.setAttribute("aria-describedby", name.id);
    line.append(name, unban);
    li.append(line, el("p", "ban-meta muted", banText(ban, localWhen)));
    if (ban.reason) li.append(el("p", "ban-reason", `“${ban.reason}”`));
    const error = el("p", "room-menu-error");
    error.setAttribute("role", "alert");
    error.hidden = true;
    li.append(error);
    return li;
  }

  async banClicked(event) {
    const b = event.target.closest("button[data-action=unban]");
    if (!b) return;
    const li = b.closest(".ban");
    b.disabled = true;
    const answer = await this.api.unban(Number(li.dataset.userId));
    if (!answer.ok) {
      b.disabled = false;
      return showError(li.querySelector(".room-menu-error"), answer.error);
    }
    await this.refresh(["bans", "log"]);
    (this.el.bans.querySelector("button") || this.el.close).focus();
  }

  // From the room's live frames: who is online, and roles given or taken back.
  memberOnline(userId, online) {
    if (this.isOpen()) this.people.setOnline(userId, online);
  }

  rolesChanged() {
    if (this.isOpen()) this.refresh(["members", "log"]);
  }

  // ---- the log ----

  renderLogEntry(entry) {
    const li = el("li", "log-entry");
    li.dataset.action = entry.action;
    const text = el("span", "log-text", logSentence(entry, localWhen));
    const at = el("time", "log-time muted", this.ctx.ui.shortWhen(entry.at));
    at.dateTime = entry.at;
    at.title = new Date(entry.at).toLocaleString();
    li.append(text, " ", at);
    if (entry.reason) li.append(el("p", "log-reason", `“${entry.reason}”`));
    return li;
  }

  // ---- deleting the room ----

  askDeleteRoom() {
    const dialog = this.el.confirmDelete;
    dialog.returnValue = "";
    dialog.showModal();
    dialog.addEventListener("close", () => {
      if (dialog.returnValue === "delete") this.deleteRoom();
      else this.el.deleteRoom.focus();
    }, { once: true });
  }

  async deleteRoom() {
    const { el } = this;
    el.deleteRoom.disabled = true;
    const answer = await this.api.deleteRoom();
    if (answer.ok) return location.assign("/rooms");
    el.deleteRoom.disabled = false;
    showError(el.deleteError, answer.error);
    el.deleteRoom.focus();
  }
}
