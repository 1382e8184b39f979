// The demo LMS's side of the 1EdTech LTI client-side postMessage storage (lti.capabilities, lti.put_data,
// lti.get_data), answering the tool's frame; values are kept per tool origin. It also listens for the
// dynamic registration's org.imsglobal.lti.close message. Served only by the platform double.
(function () {
  "use strict";
  var store = {};
  // the role buttons: the one launched last is marked (aria-current), not always the first one
  function markLaunched(link) {
    var links = document.querySelectorAll(".demo-launches a, .demo-links a");
    for (var i = 0; i < links.length; i++) { links[i].removeAttribute("aria-current"); }
    link.setAttribute("aria-current", "true");
  }
  document.addEventListener("click", function (event) {
    var link = event.target && event.target.closest ? event.target.closest(".demo-launches a, .demo-links a") : null;
    if (link) { markLaunched(link); }
  });
  window.addEventListener("message", function (event) {
    var data = event.data;
    if (!data || typeof data !== "object") { return; }
    if (data.subject === "org.imsglobal.lti.close") {
      var status = document.getElementById("demo-registration-status");
      if (status) { status.textContent = "Registrierung abgeschlossen. Das Tool wartet auf Aktivierung."; }
      var frame = document.querySelector("iframe[name=tool]");
      if (frame) { frame.src = "about:blank"; }
      return;
    }
    var reply = { subject: data.subject + ".response", message_id: data.message_id };
    var slot = event.origin + "\n" + data.key;
    if (data.subject === "lti.capabilities") {
      reply.supported_messages = [{ subject: "lti.put_data" }, { subject: "lti.get_data" }];
    } else if (data.subject === "lti.put_data") {
      store[slot] = data.value;
      reply.key = data.key;
      reply.value = data.value;
    } else if (data.subject === "lti.get_data") {
      reply.key = data.key;
      if (Object.prototype.hasOwnProperty.call(store, slot)) {
        reply.value = store[slot];
      } else {
        reply.error = { code: "bad_request", message: "no value for this key" };
      }
    } else {
      return;
    }
    event.source.postMessage(reply, event.origin);
  });
})();
