// Proof of work against bots (intake.web.friction): find n such that SHA-256("<uitdaging>:<n>") starts with the
// challenge's number of zero bits, while the visitor fills the form; put n in "bewijs". Sent before it is found,
// the form waits for it (a fraction of a second). Without this script, or without Web Crypto, the form is sent
// without it and still taken, at a lower rate.
(function () {
  "use strict";
  var form = document.querySelector("form[method=post]");
  if (!form || !form.elements.uitdaging || !form.elements.bewijs) { return; }
  if (!window.crypto || !window.crypto.subtle || !window.TextEncoder) { return; }
  var challenge = form.elements.uitdaging.value, answer = form.elements.bewijs;
  var bits = parseInt(challenge.split(".")[2], 10), encoder = new TextEncoder();
  function zeroBits(buffer) {
    var bytes = new Uint8Array(buffer), count = 0;
    for (var i = 0; i < bytes.length; i++) {
      if (bytes[i] === 0) { count += 8; continue; }
      return count + Math.clz32(bytes[i]) - 24;
    }
    return count;
  }
  var found = (async function () {
    for (var start = 0; start < 1e9; start += 256) {
      var batch = [];
      for (var n = start; n < start + 256; n++) {
        batch.push(window.crypto.subtle.digest("SHA-256", encoder.encode(challenge + ":" + n)));
      }
      var digests = await Promise.all(batch);
      for (var i = 0; i < digests.length; i++) {
        if (zeroBits(digests[i]) >= bits) { answer.value = String(start + i); return; }
      }
    }
  })();
  var waited = false;
  form.addEventListener("submit", function (event) {
    if (answer.value || waited) { return; }
    event.preventDefault();
    waited = true;
    var submitter = event.submitter;
    var send = function () { if (submitter) { form.requestSubmit(submitter); } else { form.requestSubmit(); } };
    found.then(send, send);
  });
})();
