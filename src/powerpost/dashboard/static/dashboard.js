// PowerPost dashboard behaviour that htmx does not cover: copy buttons, dismissing
// inline panels, the schedule form's time zone, and telling the person when an htmx
// request failed. Loaded as a file so the Content-Security-Policy can forbid inline script.
(function () {
  "use strict";

  document.documentElement.classList.remove("no-js");
  document.documentElement.classList.add("js");

  function announce(target, message) {
    if (!target) return;
    target.textContent = "";
    // A fresh text node makes screen readers announce the same message twice in a row.
    window.setTimeout(function () { target.textContent = message; }, 50);
  }

  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "visually-hidden";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    document.body.removeChild(area);
    return ok;
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source) return;
    var text = (source.value !== undefined && source.tagName === "INPUT" ? source.value : source.textContent).trim();
    var status = document.getElementById(button.getAttribute("aria-describedby") || "") ||
      button.parentElement.querySelector(".copy-status");
    var done = function () { announce(status, "Copied"); };
    var failed = function () {
      if (fallbackCopy(text)) { done(); } else { announce(status, "Select the text and copy it"); }
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, failed);
    } else {
      failed();
    }
  });

  document.addEventListener("click", function (event) {
    var dismiss = event.target.closest("[data-dismiss]");
    if (!dismiss) return;
    var panel = dismiss.closest("[data-panel]");
    if (!panel) return;
    event.preventDefault();
    var opener = document.getElementById(panel.getAttribute("data-opener") || "");
    panel.parentElement.replaceChildren();
    if (opener) opener.focus();
  });

  // Scheduling: a datetime-local value has no zone. Send the browser's UTC offset at the
  // chosen date (so a date across a daylight-saving change gets its own offset); the
  // server turns both into ISO-8601 with an offset. Without script, the person picks a zone.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("[data-local-time]")) return;
    var input = form.querySelector('input[type="datetime-local"]');
    var offset = form.querySelector('input[name="utc_offset"]');
    if (!input || !offset || !input.value) return;
    var when = new Date(input.value);
    if (isNaN(when.getTime())) return;
    offset.value = String(-when.getTimezoneOffset());
  }, true);

  document.addEventListener("htmx:responseError", function (event) {
    var banner = document.getElementById("js-error");
    if (!banner) return;
    var status = event.detail && event.detail.xhr ? event.detail.xhr.status : 0;
    banner.querySelector("[data-message]").textContent = status === 403
      ? "That did not work: the page is out of date. Reload it and try again."
      : "Something went wrong (" + status + "). Reload the page and try again.";
    banner.hidden = false;
  });

  document.addEventListener("htmx:sendError", function () {
    var banner = document.getElementById("js-error");
    if (!banner) return;
    banner.querySelector("[data-message]").textContent =
      "The server could not be reached. Check your connection and try again.";
    banner.hidden = false;
  });
})();
