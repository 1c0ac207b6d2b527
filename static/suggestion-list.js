// A text box's suggestions as a combobox's listbox: the box keeps the focus and points
// at the list and its active option (aria-expanded, aria-activedescendant); ArrowUp
// and ArrowDown move through it, Enter or Tab (or a click) picks, Escape closes. What
// is suggested, how an option looks and what a pick does are the caller's. Used by the
// composer's `@` suggestions (chat-mention-picker.js) and by "Message someone" on the
// room list (people-picker.js).

export class SuggestionList {
  // input, list: the box and its <ul role=listbox>; options: {idPrefix (each option's
  // id is idPrefix-index), optionClass, render(item) -> the option's children,
  // onPick(item), onDismiss() (Escape)}. An <input role=combobox> says whether the list
  // is open (aria-expanded); a <textarea> may have no such role, nor that attribute.
  constructor(input, list, options) {
    this.input = input;
    this.list = list;
    this.options = options;
    this.items = [];
    this.active = 0;
    this.expands = input.getAttribute("role") === "combobox";
    input.setAttribute("aria-controls", list.id);
    this.setExpanded(false);
    // A press on the list keeps the focus in the box; the click picks.
    list.addEventListener("mousedown", (event) => event.preventDefault());
    list.addEventListener("click", (event) => {
      const option = event.target.closest("[role=option]");
      if (option) this.pick(Number(option.dataset.index));
    });
  }

  isOpen() {
    return !this.list.hidden;
  }

  // The active item, or undefined.
  current() {
    return this.isOpen() ? this.items[this.active] : undefined;
  }

  // Shows these items (none: closes), the active one kept when it is still offered.
  show(items) {
    if (items.length === 0) return this.close();
    const previous = this.items[this.active];
    const keep = previous ? items.findIndex((item) => item.id === previous.id) : -1;
    this.items = items;
    this.active = keep === -1 ? 0 : keep;
    this.list.replaceChildren(...items.map((item, i) => this.renderOption(item, i)));
    this.list.hidden = false;
    this.setExpanded(true);
    this.markActive();
  }

  renderOption(item, index) {
    const li = document.createElement("li");
    li.id = `${this.options.idPrefix}-${index}`;
    li.className = this.options.optionClass;
    li.setAttribute("role", "option");
    li.dataset.index = String(index);
    li.dataset.userId = String(item.id);
    li.append(...this.options.render(item));
    return li;
  }

  markActive() {
    for (const [i, li] of Array.from(this.list.children).entries()) {
      const on = i === this.active;
      li.setAttribute("aria-selected", String(on));
      if (on) li.scrollIntoView({ block: "nearest" });
    }
    this.input.setAttribute("aria-activedescendant", `${this.options.idPrefix}-${this.active}`);
  }

  close() {
    if (!this.isOpen()) return;
    this.list.hidden = true;
    this.list.replaceChildren();
    this.items = [];
    this.setExpanded(false);
    this.input.removeAttribute("aria-activedescendant");
  }

  setExpanded(open) {
    if (this.expands) this.input.setAttribute("aria-expanded", String(open));
  }

  // The box's keys while the list is open: true when the list took the key.
  keydown(event) {
    if (!this.isOpen() || event.isComposing) return false;
    const n = this.items.length;
    switch (event.key) {
      case "ArrowDown":
        this.active = (this.active + 1) % n;
        this.markActive();
        break;
      case "ArrowUp":
        this.active = (this.active - 1 + n) % n;
        this.markActive();
        break;
      case "Enter":
      case "Tab":
        if (event.shiftKey) return false;
        this.pick(this.active);
        break;
      case "Escape":
        event.stopPropagation();
        if (this.options.onDismiss) this.options.onDismiss();
        this.close();
        break;
      default:
        return false;
    }
    event.preventDefault();
    return true;
  }

  pick(index) {
    const item = this.items[index];
    this.close();
    if (item) this.options.onPick(item);
  }
}
