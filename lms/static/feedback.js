// Brings the answer to what the person just did into view: after a hand-in, a self-check or a form error the
// page's message (#feedback, marked data-focus-on-load) gets the keyboard and screen-reader focus and is
// scrolled to the top, also inside the LMS's iframe where the page would otherwise open at its top with the
// message out of sight. Loaded by templates/base.html (CSP: no inline scripts).
(function () {
  "use strict";
  function focusFeedback() {
    var box = document.querySelector("[data-focus-on-load]");
    if (!box) { return; }
    if (!box.hasAttribute("tabindex")) { box.setAttribute("tabindex", "-1"); }
    box.focus();
    if (typeof box.scrollIntoView === "function") { box.scrollIntoView({ block: "start" }); }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusFeedback);
  } else {
    focusFeedback();
  }
})();
