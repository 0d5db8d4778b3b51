// The sales board's drag and drop (the HTML5 API, no library). A card lists the columns
// it may go to in data-drops (the server worked them out from the allowed moves); only
// those columns accept the drop, and a drop clicks the card's own button for that move,
// so a drag posts exactly what the button posts. Without this script the buttons work.
(function () {
  "use strict";

  var dragged = null;

  function allowed(card, column) {
    var drops = (card.dataset.drops || "").split(" ");
    return drops.indexOf(column.dataset.status) >= 0;
  }

  function columnAt(event) {
    var target = event.target;
    if (target && target.nodeType !== 1) {
      target = target.parentElement;
    }
    return target && target.closest ? target.closest(".board-col") : null;
  }

  function clear() {
    if (dragged) {
      dragged.classList.remove("is-dragging");
    }
    dragged = null;
    document.querySelectorAll(".board.is-dragging").forEach(function (board) {
      board.classList.remove("is-dragging");
      board.querySelectorAll(".board-col").forEach(function (column) {
        column.classList.remove("is-target", "is-over");
      });
    });
  }

  document.addEventListener("dragstart", function (event) {
    var target = event.target;
    var card = target && target.closest ? target.closest(".board-card[draggable='true']") : null;
    if (!card) {
      return;
    }
    dragged = card;
    card.classList.add("is-dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.lead);
    var board = card.closest(".board");
    board.classList.add("is-dragging");
    board.querySelectorAll(".board-col").forEach(function (column) {
      column.classList.toggle("is-target", allowed(card, column));
    });
  });

  document.addEventListener("dragover", function (event) {
    var column = dragged && columnAt(event);
    document.querySelectorAll(".board-col.is-over").forEach(function (other) {
      if (other !== column) {
        other.classList.remove("is-over");
      }
    });
    if (column && allowed(dragged, column)) {
      event.preventDefault(); // this column accepts the drop
      event.dataTransfer.dropEffect = "move";
      column.classList.add("is-over");
    }
  });

  document.addEventListener("drop", function (event) {
    var column = dragged && columnAt(event);
    if (!column || !allowed(dragged, column)) {
      return;
    }
    event.preventDefault();
    var button = dragged.querySelector("button[data-move='" + column.dataset.status + "']");
    clear();
    if (button) {
      button.click(); // htmx posts the card's form with this button's move
    }
  });

  document.addEventListener("dragend", clear);
})();
