// Submits forms marked data-autosubmit once the page has loaded (LTI form posts: deep-linking response,
// id_token re-post). The button inside stays as a fallback.
(function () {
  "use strict";
  document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
    form.submit();
  });
})();
