// Progressive enhancement for the header's "Manage" menu (a <details> that works without this):
// Escape closes it and returns focus to its summary; a click elsewhere closes it.
(function () {
  var menu = document.querySelector(".manage-menu details");
  if (!menu) { return; }
  var summary = menu.querySelector("summary");
  menu.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && menu.open) {
      menu.open = false;
      summary.focus();
    }
  });
  document.addEventListener("click", function (event) {
    if (menu.open && !menu.contains(event.target)) { menu.open = false; }
  });
})();
