/* Help while writing: a Markdown preview, @mention suggestions and drafts kept in
   the browser. Everything here is an addition: without JavaScript the forms post
   as they always did.

   - A textarea with data-preview-url gets a "Preview" button. The server renders
     the text with the same renderer the page uses (POST, with the form's CSRF
     token), so the preview is exactly what will be shown once saved.
   - A textarea with data-suggest-url lists the community's members matching what
     follows an "@" (arrow keys, Enter or Tab to choose, Escape to close) and
     inserts "@" and the member's handle, which the page shows as their name. The
     textarea keeps its textbox role and carries the combobox attributes a textbox
     may have (aria-autocomplete, aria-controls, aria-activedescendant); a polite
     live region says how many members were found.
   - A form with data-draft-key keeps what is typed in localStorage, puts it back
     when the page is opened again, and forgets it once the server says it was
     saved (an element with data-draft-sent, from the flash messages). Logging out
     forgets every draft. */
(function () {
  "use strict";

  var DRAFT_PREFIX = "normhub-draft:";
  var DRAFT_DAYS = 30;
  var idCounter = 0;

  function uniqueId(prefix) {
    idCounter += 1;
    return prefix + "-" + idCounter;
  }

  function csrfToken(element) {
    var form = element.form || element.closest("form");
    var field = form && form.querySelector("input[name=csrf_token]");
    return field ? field.value : "";
  }

  function debounce(fn, millis) {
    var timer = null;
    return function () {
      var args = arguments;
      window.clearTimeout(timer);
      timer = window.setTimeout(function () { fn.apply(null, args); }, millis);
    };
  }

  /* -- Preview ------------------------------------------------------------------ */

  function setUpPreview(textarea) {
    var panelId = uniqueId("preview");
    var button = document.createElement("button");
    button.type = "button";
    button.className = "secondary preview-toggle";
    button.textContent = "Preview";
    button.setAttribute("aria-expanded", "false");
    button.setAttribute("aria-controls", panelId);
    // A page may hold several text boxes, each with its Preview: the button's name
    // says which one ("Preview Your comment"), keeping its visible words first.
    var label = textarea.id && document.querySelector('label[for="' + textarea.id + '"]');
    if (label) {
      label.id = label.id || uniqueId("label");
      button.id = uniqueId("preview-button");
      button.setAttribute("aria-labelledby", button.id + " " + label.id);
    }
    var panel = document.createElement("div");
    panel.id = panelId;
    panel.className = "markdown-preview";
    panel.hidden = true;
    panel.setAttribute("role", "region");
    panel.setAttribute("aria-label", label ? "Preview of " + label.textContent.trim() : "Preview");
    panel.setAttribute("aria-live", "polite");
    var rendered = document.createElement("div");
    rendered.className = "preview-body";
    panel.appendChild(rendered);
    textarea.insertAdjacentElement("afterend", panel);
    panel.insertAdjacentElement("beforebegin", button);

    var shownText = null;

    function render() {
      var text = textarea.value;
      if (text === shownText) {
        return;
      }
      var body = new FormData();
      body.append("text", text);
      body.append("csrf_token", csrfToken(textarea));
      if (textarea.getAttribute("data-preview-mentions") === "off") {
        body.append("mentions", "off");
      }
      panel.setAttribute("aria-busy", "true");
      fetch(textarea.getAttribute("data-preview-url"), {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(textarea), "Accept": "application/json" }
      }).then(function (response) {
        if (!response.ok) {
          throw new Error("preview refused: " + response.status);
        }
        return response.json();
      }).then(function (answer) {
        shownText = text;
        // The server's renderer escapes raw HTML and refuses unsafe links: this is
        // the HTML the page itself will hold.
        rendered.innerHTML = answer.html || "<p class=\"muted\">Nothing to preview yet.</p>";
      }).catch(function () {
        shownText = null;
        rendered.textContent = "The preview is not available just now. Your text is safe; reload the page to try again.";
      }).then(function () {
        panel.removeAttribute("aria-busy");
      });
    }

    var renderSoon = debounce(render, 500);
    button.addEventListener("click", function () {
      var opening = panel.hidden;
      panel.hidden = !opening;
      button.setAttribute("aria-expanded", opening ? "true" : "false");
      button.textContent = opening ? "Hide preview" : "Preview";
      if (opening) {
        render();
      }
    });
    textarea.addEventListener("input", function () {
      if (!panel.hidden) {
        renderSoon();
      }
    });
  }

  /* -- @mention suggestions -------------------------------------------------------- */

  // "@" and what follows it up to the caret, when the "@" starts a word (not an address).
  var MENTION_BEFORE_CARET = /(^|[^A-Za-z0-9_@.])@([^\s@]{1,40})$/;

  function setUpMentions(textarea) {
    var listId = uniqueId("mention-list");
    var list = document.createElement("ul");
    list.id = listId;
    list.className = "mention-suggestions";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Members to mention");
    list.hidden = true;
    var status = document.createElement("p");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    var wrapper = document.createElement("div");
    wrapper.className = "mention-anchor";
    textarea.parentNode.insertBefore(wrapper, textarea);
    wrapper.appendChild(textarea);
    wrapper.appendChild(list);
    wrapper.appendChild(status);
    textarea.setAttribute("aria-autocomplete", "list");
    textarea.setAttribute("aria-controls", listId);
    var field = textarea.closest(".field");
    var hint = field && field.querySelector(".mention-hint");
    if (hint) {
      hint.hidden = false;
    }

    var members = [];
    var active = -1;
    var typed = null; // {start, end, query} of the "@query" being completed
    var asked = 0;

    function close() {
      list.hidden = true;
      list.textContent = "";
      members = [];
      active = -1;
      textarea.removeAttribute("aria-activedescendant");
    }

    function highlight(index) {
      var options = list.querySelectorAll("[role=option]");
      active = index;
      for (var i = 0; i < options.length; i += 1) {
        options[i].setAttribute("aria-selected", i === index ? "true" : "false");
      }
      if (index >= 0 && options[index]) {
        textarea.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({ block: "nearest" });
      } else {
        textarea.removeAttribute("aria-activedescendant");
      }
    }

    function choose(index) {
      var member = members[index];
      if (!member || !typed) {
        return;
      }
      var value = textarea.value;
      var inserted = "@" + member.handle + " ";
      textarea.value = value.slice(0, typed.start) + inserted + value.slice(typed.end);
      var caret = typed.start + inserted.length;
      textarea.setSelectionRange(caret, caret);
      close();
      status.textContent = member.name + " will be mentioned.";
      textarea.dispatchEvent(new Event("input", { bubbles: true }));
      textarea.focus();
    }

    function show(found) {
      list.textContent = "";
      members = found;
      found.forEach(function (member, index) {
        var option = document.createElement("li");
        option.id = listId + "-" + index;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.setAttribute("data-handle", member.handle);
        var name = document.createElement("span");
        name.className = "mention-name";
        name.textContent = member.name;
        var handle = document.createElement("span");
        handle.className = "mention-handle muted";
        handle.textContent = "@" + member.handle;
        option.appendChild(name);
        option.appendChild(document.createTextNode(" "));
        option.appendChild(handle);
        // mousedown, not click: the textarea keeps the focus and the caret.
        option.addEventListener("mousedown", function (event) {
          event.preventDefault();
          choose(index);
        });
        list.appendChild(option);
      });
      list.hidden = found.length === 0;
      status.textContent = found.length === 0
        ? "No member matches."
        : found.length + (found.length === 1 ? " member matches" : " members match") +
          ": up and down arrows to pick, Enter to choose.";
      highlight(found.length ? 0 : -1);
    }

    function ask(query) {
      asked += 1;
      var mine = asked;
      var url = textarea.getAttribute("data-suggest-url") + "?q=" + encodeURIComponent(query);
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("suggestions refused: " + response.status);
          }
          return response.json();
        })
        .then(function (answer) {
          if (mine === asked && typed) {
            show(answer.members || []);
          }
        })
        .catch(function () {
          if (mine === asked) {
            close();
          }
        });
    }

    var askSoon = debounce(ask, 150);

    function look() {
      var caret = textarea.selectionStart;
      if (caret !== textarea.selectionEnd) {
        typed = null;
        close();
        return;
      }
      var match = MENTION_BEFORE_CARET.exec(textarea.value.slice(0, caret));
      if (!match) {
        typed = null;
        close();
        return;
      }
      typed = { start: caret - match[2].length - 1, end: caret, query: match[2] };
      askSoon(match[2]);
    }

    textarea.addEventListener("input", function (event) {
      if (event.isTrusted) {
        look();
      }
    });
    textarea.addEventListener("click", look);
    textarea.addEventListener("blur", function () {
      window.setTimeout(close, 150);
    });
    textarea.addEventListener("keydown", function (event) {
      if (list.hidden || members.length === 0) {
        return;
      }
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        var step = event.key === "ArrowDown" ? 1 : -1;
        highlight((active + step + members.length) % members.length);
      } else if (event.key === "Enter" || event.key === "Tab") {
        if (active >= 0) {
          event.preventDefault();
          choose(active);
        }
      } else if (event.key === "Escape") {
        event.preventDefault();
        typed = null;
        close();
      }
    });
  }

  /* -- Drafts ------------------------------------------------------------------- */

  function storage() {
    try {
      return window.localStorage;
    } catch (error) {
      return null; // storage turned off: no drafts, the form works as ever
    }
  }

  function draftFields(form) {
    return Array.prototype.filter.call(form.elements, function (field) {
      if (!field.name || field.name === "csrf_token" || field.disabled) {
        return false;
      }
      var type = (field.type || "").toLowerCase();
      return field.tagName === "TEXTAREA" || field.tagName === "SELECT" ||
        ["text", "search", "number", "radio"].indexOf(type) !== -1;
    });
  }

  function readForm(form) {
    var values = {};
    draftFields(form).forEach(function (field) {
      if (field.type === "radio") {
        if (field.checked) {
          values[field.name] = field.value;
        }
      } else {
        values[field.name] = field.value;
      }
    });
    return values;
  }

  function writeForm(form, values) {
    draftFields(form).forEach(function (field) {
      if (!Object.prototype.hasOwnProperty.call(values, field.name)) {
        return;
      }
      if (field.type === "radio") {
        field.checked = field.value === values[field.name];
      } else {
        field.value = values[field.name];
      }
    });
  }

  function differs(saved, current) {
    return Object.keys(saved).some(function (name) {
      return Object.prototype.hasOwnProperty.call(current, name) && saved[name] !== current[name];
    });
  }

  function forgetSentDrafts(store) {
    document.querySelectorAll("[data-draft-sent]").forEach(function (marker) {
      store.removeItem(DRAFT_PREFIX + marker.getAttribute("data-draft-sent"));
    });
  }

  function forgetAllDrafts(store) {
    var keys = [];
    for (var i = 0; i < store.length; i += 1) {
      var key = store.key(i);
      if (key && key.indexOf(DRAFT_PREFIX) === 0) {
        keys.push(key);
      }
    }
    keys.forEach(function (key) { store.removeItem(key); });
  }

  function loadDraft(store, key) {
    try {
      var draft = JSON.parse(store.getItem(key) || "null");
      if (!draft || typeof draft.values !== "object" || typeof draft.savedAt !== "number") {
        return null;
      }
      if (Date.now() - draft.savedAt > DRAFT_DAYS * 86400000) {
        store.removeItem(key);
        return null;
      }
      return draft;
    } catch (error) {
      store.removeItem(key);
      return null;
    }
  }

  function restoredNote(form, original, key, store) {
    var note = document.createElement("p");
    note.className = "draft-note";
    note.setAttribute("role", "status");
    note.textContent = "Your unsent text is back, as you left it in this browser. ";
    var discard = document.createElement("button");
    discard.type = "button";
    discard.className = "link-button";
    discard.textContent = "Discard it";
    discard.addEventListener("click", function () {
      writeForm(form, original);
      store.removeItem(key);
      note.textContent = "Draft discarded.";
    });
    note.appendChild(discard);
    form.insertBefore(note, form.firstChild);
  }

  function setUpDraft(form, store) {
    var key = DRAFT_PREFIX + form.getAttribute("data-draft-key");
    var original = readForm(form);
    var draft = loadDraft(store, key);
    if (draft && differs(draft.values, original)) {
      writeForm(form, draft.values);
      var details = form.closest("details");
      if (details) {
        details.open = true;
      }
      restoredNote(form, original, key, store);
    }
    var save = debounce(function () {
      var values = readForm(form);
      if (differs(values, original)) {
        store.setItem(key, JSON.stringify({ savedAt: Date.now(), values: values }));
      } else {
        store.removeItem(key);
      }
    }, 400);
    form.addEventListener("input", save);
    form.addEventListener("change", save);
  }

  function setUpDrafts() {
    var store = storage();
    if (!store) {
      return;
    }
    forgetSentDrafts(store);
    document.querySelectorAll("form[data-forget-drafts]").forEach(function (form) {
      form.addEventListener("submit", function () { forgetAllDrafts(store); });
    });
    document.querySelectorAll("form[data-draft-key]").forEach(function (form) {
      setUpDraft(form, store);
    });
  }

  setUpDrafts();
  if (!window.fetch) {
    return;
  }
  document.querySelectorAll("textarea[data-preview-url]").forEach(setUpPreview);
  document.querySelectorAll("textarea[data-suggest-url]").forEach(setUpMentions);
})();
