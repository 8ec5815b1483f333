// Hide the Vellum banner of this page when its "hide" button is pressed.
(function () {
  "use strict";
  function setup() {
    var banner = document.getElementById("vellum-banner");
    var button = banner && banner.querySelector(".vellum-hide");
    if (!button) return;
    button.addEventListener("click", function () {
      banner.classList.add("vellum-hidden");
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setup);
  else setup();
})();
