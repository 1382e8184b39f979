// OIDC state in the platform's storage (1EdTech "LTI Client Side postMessages", lti.put_data / lti.get_data,
// and "OIDC Login with LTI Client Side postMessages"). Used by two pages:
//  - #lti-storage-login: store state and nonce in the platform frame, then go to the platform's auth URL;
//  - #lti-storage-launch: read the state back and re-post the launch with the value read.
// Messages go only to the platform's origin and only answers from that origin count.
(function () {
  "use strict";
  var TIMEOUT_MS = 5000;

  function storageFrame(targetName) {
    var base = window.opener || window.parent;
    if (!base || base === window) { return null; }
    if (!targetName || targetName === "_parent") { return base; }
    try { return base.frames[targetName] || null; } catch (e) { return null; }
  }

  function send(frame, origin, message) {
    return new Promise(function (resolve, reject) {
      var id = "mw-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
      message.message_id = id;
      var timer = window.setTimeout(function () { done(); reject(new Error("timeout")); }, TIMEOUT_MS);
      function done() { window.clearTimeout(timer); window.removeEventListener("message", onMessage); }
      function onMessage(event) {
        if (event.origin !== origin) { return; }
        var data = event.data;
        if (!data || typeof data !== "object" || data.message_id !== id) { return; }
        if (data.subject !== message.subject + ".response") { return; }
        done();
        if (data.error) { reject(new Error(String(data.error.code || "error"))); } else { resolve(data); }
      }
      window.addEventListener("message", onMessage);
      try { frame.postMessage(message, origin); } catch (e) { done(); reject(e); }
    });
  }

  function failed() {
    var box = document.getElementById("lti-storage-failed");
    if (box) { box.hidden = false; }
  }

  var login = document.getElementById("lti-storage-login");
  if (login) {
    var lf = storageFrame(login.getAttribute("data-target"));
    var lo = login.getAttribute("data-origin");
    var state = login.getAttribute("data-state");
    var nonce = login.getAttribute("data-nonce");
    if (!lf) { failed(); return; }
    send(lf, lo, { subject: "lti.put_data", key: "state_" + state, value: state })
      .then(function () { return send(lf, lo, { subject: "lti.put_data", key: "nonce_" + nonce, value: nonce }); })
      .then(function () { window.location.replace(login.getAttribute("data-next")); })
      .catch(failed);
  }

  var launch = document.getElementById("lti-storage-launch");
  if (launch) {
    var tf = storageFrame(launch.getAttribute("data-target"));
    var to = launch.getAttribute("data-origin");
    var expected = launch.getAttribute("data-state");
    if (!tf) { failed(); return; }
    send(tf, to, { subject: "lti.get_data", key: "state_" + expected })
      .then(function (answer) {
        if (answer.value !== expected) { throw new Error("state mismatch"); }
        document.getElementById("lti-storage-state").value = answer.value;
        document.getElementById("lti-storage-form").submit();
      })
      .catch(failed);
  }
})();
