// Fill in each card's restore state (a HeadObject per object, asked of the page's server),
// and follow a fetch's progress. Without JavaScript the page works: states show on an
// item's page, and a fetch's page shows where it stood when loaded.
"use strict";

async function fillStates() {
  const cards = [...document.querySelectorAll(".card[data-media-id]")];
  if (!cards.length) return;
  const query = cards.map((c) => "m=" + encodeURIComponent(c.dataset.mediaId)).join("&");
  const answer = await fetch("/api/states?" + query);
  if (!answer.ok) return;
  const states = await answer.json();
  for (const card of cards) {
    const found = states[card.dataset.mediaId];
    if (!found) continue;
    const label = card.querySelector("[data-state]");
    label.textContent = found.storage_class + " · " + found.state;
    card.dataset.ready = found.ready ? "yes" : "no";
  }
  document.body.dataset.states = "filled";
}

async function followFetch() {
  const job = document.getElementById("job");
  if (!job) return;
  const answer = await fetch(job.dataset.job);
  if (!answer.ok) return;
  const state = await answer.json();
  document.getElementById("progress").value = state.done_bytes;
  document.getElementById("done").textContent = state.done_bytes + " of " + state.total_bytes + " bytes";
  const list = document.getElementById("outcomes");
  list.replaceChildren(...Object.entries(state.outcomes).map(([key, outcome]) => {
    const li = document.createElement("li");
    li.textContent = key + ": " + outcome;
    return li;
  }));
  document.getElementById("finished").textContent = state.finished ? "finished" : "in progress";
  if (!state.finished) setTimeout(followFetch, 500);
}

document.addEventListener("DOMContentLoaded", () => { fillStates(); followFetch(); });
