// LTI Dynamic Registration §3.7: tell the platform the registration is done, so it closes its dialog.
(function () {
  "use strict";
  (window.opener || window.parent).postMessage({ subject: "org.imsglobal.lti.close" }, "*");
})();
