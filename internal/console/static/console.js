// atlasx509 console: the little that needs script. Everything works
// without it; the Content-Security-Policy allows no inline script.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // Ask before a destructive form is posted.
  document.querySelectorAll("form[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      if (!window.confirm(f.getAttribute("data-confirm"))) {
        e.preventDefault();
      }
    });
  });
  // Show only the fields of the chosen radio option (sign-in credential,
  // authentication method): blocks named when-<value>.
  document.querySelectorAll("form").forEach(function (f) {
    var radios = f.querySelectorAll("input[type=radio]");
    if (radios.length === 0) {
      return;
    }
    var update = function () {
      radios.forEach(function (r) {
        f.querySelectorAll(".when-" + r.value).forEach(function (block) {
          block.hidden = !r.checked;
        });
      });
    };
    radios.forEach(function (r) { r.addEventListener("change", update); });
    update();
  });
});
