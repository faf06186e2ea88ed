// "Verlaat deze pagina": replace this page with a neutral site at once (location.replace, so Back does not
// come back here); also after three presses of Shift. Without JavaScript the button is a plain link.
(function () {
  "use strict";
  var exit = document.getElementById("verlaat");
  if (!exit) { return; }
  var neutral = exit.getAttribute("href");
  function leave(event) {
    if (event) { event.preventDefault(); }
    document.title = "";
    document.body.style.display = "none";
    window.location.replace(neutral);
  }
  exit.addEventListener("click", leave);
  var hint = document.getElementById("verlaat-uitleg");
  if (hint) { hint.hidden = false; }
  var presses = 0, last = 0;
  document.addEventListener("keyup", function (event) {
    if (event.key !== "Shift") { presses = 0; return; }
    var now = Date.now();
    presses = now - last < 2000 ? presses + 1 : 1;
    last = now;
    if (presses >= 3) { leave(); }
  });
})();
