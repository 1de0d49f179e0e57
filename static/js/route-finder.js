// After htmx swaps in a new step, move focus to its error summary or its heading, so that
// keyboard and screen-reader users continue from the new question. On settle, not on swap:
// focus given during the swap was sometimes lost to the body before the swap completed.
document.addEventListener("htmx:afterSettle", function () {
  var step = document.getElementById("step");
  if (!step) {
    return;
  }
  var target = step.querySelector(".error-summary") || step.querySelector("#step-heading");
  if (target) {
    target.focus();
  }
});
