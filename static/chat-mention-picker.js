// The composer's `@` suggestions: typing `@` and the start of a name opens a list of
// the room's members that fit (chat-mentions.js says who and in what order), a
// SuggestionList (keyboard and ARIA, suggestion-list.js) whose pick writes
// `@nickname `. RoomPeople is who the suggestions come from: the room's members
// (GET /api/rooms/{name}/members, fetched once it is needed) and who is online now.

import { insertMention, mentionAt, suggest } from "./chat-mentions.js";
import { SuggestionList } from "./suggestion-list.js";

// The members API's page, and how many pages are read at most (a very large room is
// suggested from its first members by id and whoever is online).
const MEMBERS_PAGE = 1000;
const MEMBERS_PAGES = 5;
// The members are read again, on the next `@`, after this long.
const REFRESH_MS = 60000;

export class RoomPeople {
  constructor(room) {
    this.room = room;
    this.online = new Map(); // who is online (user id -> user): the view's, kept live by it
    this.members = new Map(); // user id -> {id, nickname, avatar_url}
    this.loading = null;
    this.loadedAt = 0;
  }

  // The members, read (again) when not read lately; resolves when they are in.
  load() {
    if (!this.loading || Date.now() - this.loadedAt > REFRESH_MS) {
      this.loadedAt = Date.now();
      this.loading = this.fetchAll().catch(() => {
        this.loadedAt = 0; // offline: the next `@` tries again
      });
    }
    return this.loading;
  }

  async fetchAll() {
    let after = 0;
    for (let page = 0; page < MEMBERS_PAGES; page++) {
      const query = after ? `?after=${after}` : "";
      const response = await fetch(`/api/rooms/${encodeURIComponent(this.room)}/members${query}`, {
        headers: { Accept: "application/json" },
      });
      if (!response.ok) throw new Error(`members: ${response.status}`);
      const { members } = await response.json();
      for (const m of members) this.members.set(m.id, { id: m.id, nickname: m.nickname, avatar_url: m.avatar_url });
      if (members.length < MEMBERS_PAGE) return;
      after = members[members.length - 1].id;
    }
  }

  // Everyone known, those online marked so.
  all() {
    const people = new Map();
    for (const [id, member] of this.members) people.set(id, { ...member, online: false });
    for (const [id, user] of this.online) people.set(id, { ...user, online: true });
    return [...people.values()];
  }

  nameOf(id) {
    return this.members.get(id)?.nickname;
  }

  // Someone's new nickname or picture.
  userChanged(user) {
    if (this.members.has(user.id)) this.members.set(user.id, { id: user.id, nickname: user.nickname, avatar_url: user.avatar_url });
  }
}

export class MentionPicker {
  // elements: {draft, list}; ctx: {me, ui, people (a RoomPeople)}.
  constructor(elements, ctx) {
    this.el = elements;
    this.ctx = ctx;
    this.at = null; // {start, query}: what is being typed after an `@`
    this.writing = false; // a pick is being written into the box
    const { draft, list } = elements;
    this.suggestions = new SuggestionList(draft, list, {
      idPrefix: "mention-option",
      optionClass: "mention-option",
      render: (member) => this.optionContent(member),
      onPick: (member) => this.pick(member),
      onDismiss: () => {
        this.at = null;
      },
    });
    draft.addEventListener("input", () => this.update());
    draft.addEventListener("click", () => this.update());
    draft.addEventListener("keyup", (event) => {
      if (["ArrowLeft", "ArrowRight", "Home", "End"].includes(event.key)) this.update();
    });
    draft.addEventListener("blur", () => this.close());
  }

  isOpen() {
    return this.suggestions.isOpen();
  }

  // The text or the caret moved: the list follows what is typed after the `@`.
  update() {
    if (this.writing) return;
    const draft = this.el.draft;
    const at = draft.selectionStart === draft.selectionEnd ? mentionAt(draft.value, draft.selectionStart) : null;
    this.at = at;
    if (!at) return this.close();
    this.render();
    // The members come in once: the list shows them as soon as they are there.
    this.ctx.people.load().then(() => {
      if (this.at === at) this.render();
    });
  }

  render() {
    this.suggestions.show(suggest(this.ctx.people.all(), this.at.query, this.ctx.me.id));
  }

  optionContent(member) {
    const name = document.createElement("span");
    name.className = "mention-name";
    name.textContent = member.nickname;
    const parts = [this.ctx.ui.avatarFor(member, "avatar avatar-sm"), name];
    if (member.online) {
      const dot = document.createElement("span");
      dot.className = "online-dot";
      dot.title = "Online";
      const said = document.createElement("span");
      said.className = "sr-only";
      said.textContent = ", online";
      parts.push(said, dot);
    }
    return parts;
  }

  close() {
    this.suggestions.close();
  }

  // The composer's keys while the list is open: true when the list took the key.
  keydown(event) {
    return this.suggestions.keydown(event);
  }

  // `@nickname ` in place of what was typed after the `@`.
  pick(member) {
    const draft = this.el.draft;
    if (!this.at) return;
    const { text, caret } = insertMention(draft.value, this.at.start, draft.selectionStart, member.nickname);
    this.at = null;
    draft.value = text;
    draft.setSelectionRange(caret, caret);
    draft.focus();
    // The composer hears of it as of typing (its size, its count, "typing"), and the
    // list stays shut: what follows the `@` now is a whole name and a space.
    this.writing = true;
    draft.dispatchEvent(new Event("input", { bubbles: true }));
    this.writing = false;
  }
}
