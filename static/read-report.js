/* Read report: once the end of the essay has been on screen (and the page has
   been open for a reader's minimum), tell the server this version was read.
   Without JavaScript the "I have read this" button posts the same form. */
(function () {
  "use strict";
  var marker = document.getElementById("essay-end");
  var form = document.getElementById("read-report");
  if (!marker || !form || !window.fetch || !("IntersectionObserver" in window)) {
    return;
  }
  var openedAt = Date.now();
  var minMillis = (parseInt(form.getAttribute("data-min-seconds"), 10) || 0) * 1000;
  var state = "waiting"; // waiting -> scheduled -> sending -> done

  function send() {
    if (state === "sending" || state === "done") {
      return;
    }
    state = "sending";
    var body = new FormData();
    body.append("version", form.getAttribute("data-version"));
    body.append("token", form.getAttribute("data-token"));
    body.append("csrf_token", form.getAttribute("data-csrf"));
    fetch(form.getAttribute("data-url"), {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch", "X-CSRFToken": form.getAttribute("data-csrf") }
    }).then(function (response) {
      if (!response.ok) {
        throw new Error("read report refused: " + response.status);
      }
      state = "done";
      form.setAttribute("data-reported", "true");
      var status = document.getElementById("exposure-status");
      if (status) {
        status.textContent = "Noted: you read this version to the end.";
        status.setAttribute("data-level", "read");
      }
      form.hidden = true;
    }).catch(function () {
      // Leave the button: the reader can still report by hand.
      state = "waiting";
    });
  }

  var observer = new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      if (!entry.isIntersecting || state !== "waiting") {
        return;
      }
      observer.disconnect();
      state = "scheduled";
      var remaining = minMillis - (Date.now() - openedAt);
      if (remaining > 0) {
        window.setTimeout(send, remaining);
      } else {
        send();
      }
    });
  });
  observer.observe(marker);
})();
