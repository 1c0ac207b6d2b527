// "Message someone" on the room list: as a nickname is typed, the people whose
// nickname starts with it (GET /api/users, at most 10) in a SuggestionList (keyboard
// and ARIA, suggestion-list.js). A pick fills the box; Enter on a name typed out in
// full sends the form as it is.

import { SuggestionList } from "./suggestion-list.js";

// How long typing must pause before asking the server (ms).
const PAUSE_MS = 150;

export function setUpPeoplePicker(input, list, ui) {
  let timer = null;
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("autocomplete", "off");
  const suggestions = new SuggestionList(input, list, {
    idPrefix: "people-option",
    optionClass: "mention-option",
    render: (user) => {
      const name = document.createElement("span");
      name.className = "mention-name";
      name.textContent = user.nickname;
      return [ui.avatarFor(user, "avatar avatar-sm"), name];
    },
    onPick: (user) => {
      input.value = user.nickname;
      input.focus();
    },
  });

  async function lookUp(text) {
    let users;
    try {
      const response = await fetch(`/api/users?q=${encodeURIComponent(text)}`, { headers: { Accept: "application/json" } });
      if (!response.ok) return; // too fast, or offline: the next keystroke asks again
      users = (await response.json()).users;
    } catch {
      return;
    }
    // An answer for what the box no longer says (typed on meanwhile) is not shown.
    if (input.value.trim() !== text || document.activeElement !== input) return;
    // Typed out already: nothing left to suggest.
    if (users.length === 1 && users[0].nickname === text) return suggestions.close();
    suggestions.show(users);
  }

  input.addEventListener("input", () => {
    clearTimeout(timer);
    const text = input.value.trim();
    if (!text) return suggestions.close();
    timer = setTimeout(() => lookUp(text), PAUSE_MS);
  });
  input.addEventListener("blur", () => suggestions.close());
  input.addEventListener("keydown", (event) => {
    // Enter on the name already in the box sends the form.
    const active = suggestions.current();
    if (event.key === "Enter" && active && active.nickname === input.value.trim()) {
      suggestions.close();
      return;
    }
    suggestions.keydown(event);
  });
}
