// Tessera console: the little script that helps. Every page works without it.
// - [data-open-dialog=ID] opens that <dialog> modally instead of following its link.
// - [data-close-dialog] closes the enclosing dialog instead of following its link.
// - dialogs rendered open (data-modal) are reopened modally, so the page behind is inert.
// - [data-copy=ID] copies the value of that input to the clipboard.
// - [data-confirm-delete=ID] fills and opens the delete confirmation for that client.
// - form[data-confirm] asks before submitting.
// - select[data-autosubmit] submits its form on change.
// - [data-dismiss-secret] removes the revealed secret from the page before leaving it.
(function () {
  "use strict";
  function byId(id) { return document.getElementById(id); }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("dialog[data-modal][open]").forEach(function (d) {
      d.removeAttribute("open");
      if (typeof d.showModal === "function") { d.showModal(); } else { d.setAttribute("open", ""); }
    });
    document.querySelectorAll("[data-hide-with-script]").forEach(function (el) { el.hidden = true; });
  });

  document.addEventListener("click", function (ev) {
    var el = ev.target.closest("[data-open-dialog],[data-close-dialog],[data-copy],[data-confirm-delete],[data-dismiss-secret]");
    if (!el) { return; }
    if (el.hasAttribute("data-open-dialog")) {
      var d = byId(el.getAttribute("data-open-dialog"));
      if (d && typeof d.showModal === "function") { ev.preventDefault(); d.showModal(); }
    } else if (el.hasAttribute("data-close-dialog")) {
      var dlg = el.closest("dialog");
      if (dlg) { ev.preventDefault(); dlg.close(); }
    } else if (el.hasAttribute("data-copy")) {
      var input = byId(el.getAttribute("data-copy"));
      if (!input) { return; }
      var done = function () { el.textContent = "Copied"; el.classList.add("copied"); };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(done, function () {
          input.select(); document.execCommand("copy"); done();
        });
      } else {
        input.select(); document.execCommand("copy"); done();
      }
    } else if (el.hasAttribute("data-confirm-delete")) {
      var c = byId("confirm-delete-dialog");
      if (!c || typeof c.showModal !== "function") { return; }
      ev.preventDefault();
      var id = el.getAttribute("data-confirm-delete");
      var form = c.querySelector("[data-delete-form]");
      form.setAttribute("action", "/oauth-clients/" + encodeURIComponent(id) + "/delete");
      c.querySelector("[data-delete-name]").textContent = el.getAttribute("data-confirm-name") || id;
      c.querySelector("[data-delete-id]").textContent = id;
      c.showModal();
    } else if (el.hasAttribute("data-dismiss-secret")) {
      var r = el.closest("dialog");
      if (r) { r.close(); r.remove(); }
    }
  });

  document.addEventListener("submit", function (ev) {
    var f = ev.target;
    if (f.hasAttribute("data-confirm") && !window.confirm(f.getAttribute("data-confirm"))) {
      ev.preventDefault();
    }
  });

  document.addEventListener("change", function (ev) {
    var s = ev.target;
    if (s.matches("select[data-autosubmit]") && s.form) { s.form.submit(); }
  });
})();
