// cchc-letters office app: the little JavaScript it has. Every page works without it
// (the progress page refreshes itself); this adds drag-and-drop and a live progress bar.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const drop = document.querySelector("form.drop");
  if (drop) {
    const input = drop.querySelector("input[type=file]");
    ["dragenter", "dragover"].forEach((name) =>
      drop.addEventListener(name, (event) => { event.preventDefault(); drop.classList.add("over"); }));
    ["dragleave", "drop"].forEach((name) =>
      drop.addEventListener(name, () => drop.classList.remove("over")));
    drop.addEventListener("drop", (event) => {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        drop.submit();
      }
    });
  }

  // a rejected row is wider than the page: bring its highlighted cell into view
  document.querySelectorAll(".scroll").forEach((box) => {
    const bad = box.querySelector("td.bad");
    if (bad) { box.scrollLeft = Math.max(0, bad.offsetLeft - box.clientWidth / 3); }
  });

  const job = document.getElementById("job");
  if (job && job.dataset.state === "running") {
    const bar = document.getElementById("progress");
    const text = document.getElementById("progress-text");
    const poll = () => {
      fetch(job.dataset.status, { credentials: "same-origin" })
        .then((response) => response.json())
        .then((status) => {
          if (status.total) { bar.max = status.total; bar.value = status.done; }
          text.textContent = `${status.done} / ${status.total || "?"}`;
          if (status.state === "running") { setTimeout(poll, 500); } else { window.location.reload(); }
        })
        .catch(() => setTimeout(poll, 2000));
    };
    setTimeout(poll, 300);
  }
});
