// What the viewer is in the room, and what follows from it on the page: their role
// and powers (the room menu for the owner, moderators and administrators; Delete on
// everyone's messages), a mute (the composer waits, saying until when, and comes back
// by itself when it ends or as soon as it is lifted), and being taken out of the room
// (banned, or the room deleted): the connection ends for good, the composer is off,
// and a notice says why, with the way back to the room list. chat.js tells it the
// frames; the server decides, this only shows.

import { delayUntil, localWhen, mutedAt, mutedText, removedText } from "./chat-room-format.js";

export class Standing {
  // data: the chat page's data-* (role, moderates, givesRoles, mutedUntil); ctx: {me,
  // view, menu, connection}.
  constructor(data, ctx) {
    Object.assign(this, ctx);
    this.role = data.role || null;
    this.moderates = data.moderates === "true";
    this.givesRoles = data.givesRoles === "true";
    // Roles are given by the owner, or by an administrator, who moderates whatever
    // their role in the room.
    this.admin = this.givesRoles && this.role !== "owner";
    this.mutedUntil = null;
    this.muteTimer = null;
    this.removed = false;
    this.setMuted(data.mutedUntil || null);
  }

  powers() {
    return { moderates: this.moderates, givesRoles: this.givesRoles };
  }

  // ---- a mute ----

  // Muted until then (RFC 3339), or not (null, or a time gone by).
  setMuted(until) {
    clearTimeout(this.muteTimer);
    this.mutedUntil = mutedAt(until, Date.now()) ? until : null;
    if (this.mutedUntil) {
      // Timers wait at most ~24 days: a longer mute looks again then.
      this.muteTimer = setTimeout(() => this.setMuted(this.mutedUntil), delayUntil(this.mutedUntil, Date.now()) + 250);
    }
    this.renderComposer();
  }

  renderComposer() {
    const composer = this.view.composer;
    if (this.removed) composer.setBlocked("");
    else composer.setBlocked(this.mutedUntil ? mutedText(this.mutedUntil, localWhen) : null);
  }

  // ---- roles ----

  // A `role` frame: someone's role changed. About us, the page offers what it now allows.
  roleChanged(frame) {
    this.menu.rolesChanged();
    if (frame.user.id !== this.me.id) return;
    this.role = frame.role;
    const moderates = this.admin || frame.role === "owner" || frame.role === "moderator";
    if (moderates === this.moderates) return;
    this.moderates = moderates;
    this.menu.setAvailable(moderates);
    this.view.announce(moderates
      ? "You are now a moderator of this room: its menu is under Manage."
      : "You are no longer a moderator of this room.");
  }

  // ---- out of the room ----

  // A `removed` frame, or a join refused (banned while away, the room gone): no more
  // reconnecting, the composer off, and why.
  shutOut(text, status) {
    if (this.removed) return;
    this.removed = true;
    clearTimeout(this.muteTimer);
    this.connection.leave();
    this.menu.setAvailable(false);
    this.renderComposer();
    this.view.showRemoved(text, status);
  }

  removedFrom(frame) {
    this.shutOut(removedText(frame), frame.cause === "deleted" ? "Room deleted" : "Removed from the room");
  }
}
