/* qingdan 两个清单台账 — a little help where JavaScript runs; every page works without it. */
(function () {
  "use strict";
  // date pickers, the 按当时登记 switch and the filters refresh the page as soon as they change
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.hasAttribute && el.hasAttribute("data-autosubmit") && el.form) {
      if (el.form.requestSubmit) { el.form.requestSubmit(); } else { el.form.submit(); }
    }
  });
  // the 隐患类别 offered are those of the chosen 专项
  function categories(select) {
    var input = select.form && select.form.querySelector("input[name=category]");
    if (!input) { return; }
    var own = document.getElementById("dl-categories-" + select.value);
    input.setAttribute("list", own && own.options.length ? own.id : "dl-categories");
  }
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("select[data-categories]")) { categories(event.target); }
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("select[data-categories]").forEach(categories);
    // a rejected form: bring it into view, cursor on the first field to fix
    var failed = document.querySelector("form.cmd.failed");
    if (failed) {
      failed.scrollIntoView({ block: "start" });
      var first = failed.querySelector("[aria-invalid=true] input, [aria-invalid=true]");
      if (first && first.focus) { first.focus({ preventScroll: true }); }
    }
  });
})();
