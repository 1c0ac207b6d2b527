// The room menu's list of people: each member with their role, whether they are online
// and muted, and what the viewer may do to them (chat-room-format.js decides what):
// make moderator or member, mute for a while (a row of durations), unmute, ban (a small
// form: a reason and for how long). One form is open at a time; Escape closes it. A
// refusal shows under the member acted on. Text goes in with textContent only.

import {
  ACTION_LABELS, BAN_CHOICES, memberActions, MUTE_CHOICES, mutedAt, roleLabel, sortMembers,
} from "./chat-room-format.js";

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function button(text, className) {
  const b = el("button", className, text);
  b.type = "button";
  return b;
}

export class PeopleList {
  // elements: {list}; ctx: {me, ui, when(iso), powers(), act(action, member, extra):
  // a promise of an error message or null (done)}.
  constructor(elements, ctx) {
    this.el = elements;
    this.ctx = ctx;
    this.members = [];
    this.el.list.addEventListener("keydown", (event) => {
      const form = event.target.closest(".member-form");
      if (event.key !== "Escape" || !form) return;
      // Escape closes the form, not the whole menu.
      event.preventDefault();
      event.stopPropagation();
      this.closeForm(form.closest(".person"), true);
    });
  }

  // The list drawn again; the focus stays on the same control of the same person when
  // it is still there (or on `focus`: {id, action}, after an action changed the row).
  render(members, focus = null) {
    const focused = this.el.list.contains(document.activeElement) ? document.activeElement : null;
    const key = focus || (focused && { id: Number(focused.closest(".person")?.dataset.userId), action: focused.dataset.action });
    this.members = sortMembers(members);
    this.el.list.replaceChildren(...this.members.map((m) => this.renderPerson(m)));
    if (key && key.id) {
      const row = this.rowOf(key.id);
      const again = row && (row.querySelector(`[data-action="${key.action}"]`) || row.querySelector("button"));
      if (again) again.focus();
    }
  }

  rowOf(userId) {
    return this.el.list.querySelector(`.person[data-user-id="${userId}"]`);
  }

  setOnline(userId, online) {
    const member = this.members.find((m) => m.id === userId);
    if (!member || member.online === online) return;
    member.online = online;
    const presence = this.rowOf(userId)?.querySelector(".presence");
    if (!presence) return;
    presence.textContent = online ? "online" : "offline";
    presence.dataset.online = String(online);
  }

  renderPerson(member) {
    const { me, ui } = this.ctx;
    const li = el("li", "person");
    li.dataset.userId = member.id;
    const line = el("div", "person-line");
    const avatar = ui.avatarFor(member, "avatar avatar-sm");
    const name = el("span", "person-name", member.nickname);
    name.id = `person-${member.id}`;
    if (member.id === me.id) name.append(el("span", "muted", " (you)"));
    line.append(avatar, name);
    if (member.role !== "member") {
      const badge = el("span", "role-badge", roleLabel(member.role));
      badge.dataset.role = member.role;
      line.append(badge);
    }
    const presence = el("span", "presence", member.online ? "online" : "offline");
    presence.dataset.online = String(!!member.online);
    line.append(presence);
    li.append(line);
    const now = Date.now();
    if (mutedAt(member.muted_until, now)) li.append(el("p", "person-muted", `Muted until ${this.ctx.when(member.muted_until)}`));
    const actions = memberActions(member, { meId: me.id, powers: this.ctx.powers(), now });
    if (actions.length > 0) {
      const row = el("div", "person-actions");
      for (const action of actions) {
        const b = button(ACTION_LABELS[action], `button-small ${action === "ban" ? "button-danger-quiet" : "button-quiet"}`);
        b.dataset.action = action;
        b.setAttribute("aria-describedby", name.id);
        if (action === "mute" || action === "ban") b.setAttribute("aria-expanded", "false");
        b.addEventListener("click", () => this.chose(li, member, action));
        row.append(b);
      }
      const form = el("div", "member-form");
      form.hidden = true;
      const error = el("p", "room-menu-error");
      error.setAttribute("role", "alert");
      error.hidden = true;
      li.append(row, form, error);
    }
    return li;
  }

  chose(li, member, action) {
    if (action === "mute" || action === "ban") {
      const open = li.querySelector(".member-form:not([hidden])");
      const same = open && open.dataset.kind === action;
      this.closeAllForms();
      if (!same) this.openForm(li, member, action);
      return;
    }
    this.run(li, member, action, {});
  }

  closeAllForms() {
    for (const row of this.el.list.querySelectorAll(".person")) this.closeForm(row, false);
  }

  // The form under the row goes; with returnFocus, back to the button that opened it.
  closeForm(li, returnFocus) {
    const form = li && li.querySelector(".member-form");
    if (!form || form.hidden) return;
    const opener = li.querySelector(`[data-action="${form.dataset.kind}"]`);
    form.hidden = true;
    form.replaceChildren();
    if (opener) opener.setAttribute("aria-expanded", "false");
    if (returnFocus && opener) opener.focus();
  }

  openForm(li, member, kind) {
    const form = li.querySelector(".member-form");
    form.dataset.kind = kind;
    form.replaceChildren(kind === "mute" ? this.muteChoices(li, member) : this.banForm(li, member));
    form.hidden = false;
    li.querySelector(`[data-action="${kind}"]`).setAttribute("aria-expanded", "true");
    form.querySelector("button, input").focus();
  }

  // "Mute bob for: 10 min · 1 hour · 1 day · 1 week": one press mutes.
  muteChoices(li, member) {
    const group = el("div", "mute-choices");
    group.setAttribute("role", "group");
    const label = el("span", "member-form-label", `Mute ${member.nickname} for`);
    label.id = `mute-label-${member.id}`;
    group.setAttribute("aria-labelledby", label.id);
    group.append(label);
    for (const choice of MUTE_CHOICES) {
      const b = button(choice.label, "button-small");
      b.dataset.minutes = String(choice.minutes);
      b.addEventListener("click", () => this.run(li, member, "mute", { minutes: choice.minutes }));
      group.append(b);
    }
    const cancel = button("Cancel", "button-small button-quiet");
    cancel.addEventListener("click", () => this.closeForm(li, true));
    group.append(cancel);
    return group;
  }

  // A reason (shown to them, and kept in the log) and how long.
  banForm(li, member) {
    const form = el("form", "ban-form");
    form.setAttribute("aria-label", `Ban ${member.nickname}`);
    const reasonId = `ban-reason-${member.id}`;
    const forId = `ban-for-${member.id}`;
    const reasonField = el("div", "field");
    const reasonLabel = el("label", null, "Reason");
    reasonLabel.htmlFor = reasonId;
    const reason = el("input");
    reason.type = "text";
    reason.id = reasonId;
    reason.maxLength = 200;
    reason.placeholder = "Shown to them";
    reason.autocomplete = "off";
    reasonField.append(reasonLabel, reason);
    const forField = el("div", "field");
    const forLabel = el("label", null, "For");
    forLabel.htmlFor = forId;
    const length = el("select");
    length.id = forId;
    for (const choice of BAN_CHOICES) {
      const option = el("option", null, choice.label);
      option.value = choice.minutes === null ? "" : String(choice.minutes);
      length.append(option);
    }
    forField.append(forLabel, length);
    const buttons = el("div", "ban-buttons");
    const submit = el("button", "danger button-small", `Ban ${member.nickname}`);
    submit.type = "submit";
    const cancel = button("Cancel", "button-small button-quiet");
    cancel.addEventListener("click", () => this.closeForm(li, true));
    buttons.append(submit, cancel);
    form.append(reasonField, forField, buttons);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const minutes = length.value ? Number(length.value) : null;
      this.run(li, member, "ban", { reason: reason.value.trim(), minutes });
    });
    return form;
  }

  // Asks the server; a refusal shows under the row, which stays as it was.
  async run(li, member, action, extra) {
    const active = li.contains(document.activeElement) ? document.activeElement : null;
    const controls = li.querySelectorAll("button, input, select");
    for (const c of controls) c.disabled = true;
    const error = await this.ctx.act(action, member, extra);
    if (!li.isConnected) return; // done: the list was drawn again
    for (const c of controls) c.disabled = false;
    if (active && active.isConnected) active.focus();
    const line = li.querySelector(".room-menu-error");
    line.textContent = error || "";
    line.hidden = !error;
  }
}
