/* Errors and confirmations where the eye is.

   A form sent back with errors: the focus goes to the first field in error (its
   error message joined to its description, so a screen reader reads both), or to
   the form's list of errors when no one field is to blame. Otherwise a flash
   message (a confirmation, a refusal) takes the focus; when the page was opened
   at an anchor (the comment just posted), the message moves next to it first, so
   neither the message nor the place is lost. Without JavaScript the messages
   simply stay at the top of the page. */
(function () {
  "use strict";

  var CONTROLS = "input:not([type=hidden]), textarea, select";

  function describeWith(control, message) {
    if (!message.id) {
      message.id = (control.id || "field") + "-error";
    }
    var described = (control.getAttribute("aria-describedby") || "").split(/\s+/);
    if (described.indexOf(message.id) === -1) {
      described.push(message.id);
      control.setAttribute("aria-describedby", described.join(" ").trim());
    }
  }

  function focusFirstError() {
    var first = document.querySelector("#main .errors, #main .field-error");
    if (!first) {
      return false;
    }
    var container = first.classList.contains("field-error") && first.closest(".field");
    var control = container && container.querySelector(CONTROLS);
    if (control) {
      container.querySelectorAll(".field-error").forEach(function (message) {
        describeWith(control, message);
      });
      control.setAttribute("aria-invalid", "true");
      control.focus();
      return true;
    }
    first.setAttribute("tabindex", "-1");
    first.focus();
    return true;
  }

  function anchorTarget() {
    if (!window.location.hash || window.location.hash.length < 2) {
      return null;
    }
    try {
      return document.getElementById(decodeURIComponent(window.location.hash.slice(1)));
    } catch (error) {
      return null;
    }
  }

  function focusFlash() {
    var flashes = document.querySelector("#main .flashes");
    if (!flashes) {
      return;
    }
    var target = anchorTarget();
    if (target && target !== flashes && !target.contains(flashes)) {
      target.parentNode.insertBefore(flashes, target);
      flashes.classList.add("flashes-moved");
    }
    flashes.focus();
  }

  if (!focusFirstError()) {
    if (anchorTarget()) {
      // The browser scrolls to the anchor once the page has loaded, and takes the focus
      // away from anything that is not the anchor as it does: focus after that.
      window.addEventListener("load", function () { window.setTimeout(focusFlash, 0); });
    } else {
      focusFlash();
    }
  }
})();
