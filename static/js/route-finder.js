// After htmx swaps in a new step, move focus to its error summary or its heading, so that
// keyboard and screen-reader users continue from the new question.
document.addEventListener("htmx:afterSwap", function () {
  var step = document.getElementById("step");
  if (!step) {
    return;
  }
  var target = step.querySelector(".error-summary") || step.querySelector("#step-heading");
  if (target) {
    target.focus();
  }
});
