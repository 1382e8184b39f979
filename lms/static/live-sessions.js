/* medienwerk live tutorials: fills the browser's time zone into the schedule form, and moves people on the
   waiting page into the room once it runs. Everything works without this script, too. */
(function () {
  "use strict";

  function fillTimezone() {
    var zone;
    try {
      zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    } catch (e) {
      return;
    }
    if (!zone) { return; }
    document.querySelectorAll("input[data-fill-timezone]").forEach(function (input) {
      if (!input.value) {
        input.value = zone;
        document.querySelectorAll("[data-timezone-label]").forEach(function (label) {
          label.textContent = zone;
        });
      }
    });
  }

  function waitForRoom() {
    var box = document.querySelector("[data-live-status]");
    if (!box) { return; }
    var url = box.getAttribute("data-live-status");
    var text = box.querySelector("[data-live-status-text]");
    var form = box.querySelector("form[data-live-join]");
    var delay = 5000;
    var done = false;
    // the texts come translated from the page (data-text-*); the server decides the language
    function say(name) {
      var value = box.getAttribute("data-text-" + name);
      if (text && value) { text.textContent = value; }
    }

    function check() {
      if (done) { return; }
      fetch(url, { headers: { "Accept": "application/json" }, cache: "no-store", credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (status) {
          if (status && status.ready && form) {
            var name = form.querySelector("input[name=display_name]");
            if (name && !name.value) {
              say("open-name");
              name.focus();
              done = true;
              return;
            }
            done = true;
            say("open");
            form.submit();
            return;
          }
          if (status && status.cancelled) {
            say("cancelled");
            done = true;
            return;
          }
          if (status && !status.open) {
            say("closed");
          }
          window.setTimeout(check, delay);
        })
        .catch(function () { window.setTimeout(check, delay * 2); });
    }
    window.setTimeout(check, 1500);
  }

  function ready() {
    fillTimezone();
    waitForRoom();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
