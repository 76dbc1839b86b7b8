// After a form post the page is opened at the changed section (#h-check, #h-work…):
// move the keyboard focus there too, so the next Tab continues where the person was.
// Without JavaScript the browser still scrolls there and starts Tab from it.
document.addEventListener("DOMContentLoaded", function () {
  var id = decodeURIComponent(location.hash.slice(1));
  var target = id && document.getElementById(id);
  if (target && target.hasAttribute("tabindex")) {
    target.focus();
  }
});
