// Login inside a cross-site frame: can this frame keep a cookie (the OIDC state cookie)? If yes, carry on
// with the login here; if not, show the "open in a new window" button (pylti1p3's cookie check idea).
(function () {
  "use strict";
  var box = document.getElementById("lti-cookie-check");
  if (!box) { return; }
  var secure = box.getAttribute("data-secure") === "1";
  var attrs = secure ? "; SameSite=None; Secure; Partitioned" : "; SameSite=Lax";
  var name = "lti1p3_test_cookie";
  document.cookie = name + "=1; path=/; max-age=60" + attrs;
  var ok = document.cookie.split("; ").indexOf(name + "=1") !== -1;
  if (ok) {
    document.cookie = name + "=; path=/; max-age=0" + attrs;
    window.location.replace(box.getAttribute("data-login-url"));
    return;
  }
  document.getElementById("lti-cookies-blocked").hidden = false;
})();
