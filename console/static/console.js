/* citybot console: small progressive enhancements; every page works without this file. */
(function () {
  "use strict";

  /* Forms with data-confirm ask before submitting. */
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

  /* A button with data-shortcut-help opens the list of shortcuts. */
  document.addEventListener("click", function (event) {
    var opener = event.target.closest && event.target.closest("[data-shortcut-help]");
    var help = document.getElementById("shortcut-help");
    if (opener && help && help.showModal) {
      help.showModal();
    }
  });

  /* Single-key shortcuts: any element with data-shortcut="k" is clicked (or focused, for inputs)
     when k is pressed outside a text field. "?" lists them. */
  function typing(target) {
    var tag = target.tagName;
    return target.isContentEditable || tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) {
      return;
    }
    if (event.key === "Escape") {
      var open = document.querySelector("dialog[open]");
      if (open) { open.close(); }
      return;
    }
    var key = event.key.length === 1 ? event.key : "";
    if (!key) {
      return;
    }
    if (key === "?") {
      var help = document.getElementById("shortcut-help");
      if (help && help.showModal) { help.showModal(); event.preventDefault(); }
      return;
    }
    var selector = '[data-shortcut="' + (key === '"' ? '\\"' : key) + '"]';
    var element = document.querySelector(selector);
    if (!element || element.disabled) {
      return;
    }
    event.preventDefault();
    if (element.tagName === "INPUT" || element.tagName === "SELECT" || element.tagName === "TEXTAREA") {
      element.focus();
    } else {
      element.click();
    }
  });
  /* 常用回复: choosing one fills the reply box at once (without this, the form's button does). */
  document.addEventListener("change", function (event) {
    var select = event.target;
    var target = select.getAttribute && select.getAttribute("data-canned-target");
    if (!target) return;
    var box = document.getElementById(target);
    var option = select.options[select.selectedIndex];
    if (box && option) box.value = option.getAttribute("data-body") || "";
  });
})();
