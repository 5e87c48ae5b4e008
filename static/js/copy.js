// Progressive enhancement: copy buttons; without JavaScript the links can be selected by hand.
document.querySelectorAll("button.copy").forEach(function (button) {
  button.addEventListener("click", function () {
    var field = document.getElementById(button.dataset.copy);
    field.select();
    if (navigator.clipboard) { navigator.clipboard.writeText(field.value); } else { document.execCommand("copy"); }
    button.setAttribute("aria-pressed", "true");
  });
});
