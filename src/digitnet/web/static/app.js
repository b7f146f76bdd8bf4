// The page of `digitnet serve`: one drawing canvas and four views of what the network does with
// it. Plain JavaScript modules, no libraries; the server does every calculation.
import { describeModel, refreshModel } from "./draw.js";
import { onStatus, poll } from "./train.js";
import "./backprop.js";
import "./teach.js";

// Tabs as the WAI-ARIA pattern has them: arrow keys move between tabs, Tab enters the panel.
const tabs = [...document.querySelectorAll('[role="tab"]')];

function select(tab) {
  for (const other of tabs) {
    const selected = other === tab;
    other.setAttribute("aria-selected", String(selected));
    other.tabIndex = selected ? 0 : -1;
    document.getElementById(other.getAttribute("aria-controls")).hidden = !selected;
  }
}

tabs.forEach((tab, index) => {
  tab.addEventListener("click", () => select(tab));
  tab.addEventListener("keydown", (event) => {
    const moves = { ArrowRight: 1, ArrowLeft: -1, Home: -index, End: tabs.length - 1 - index };
    if (!(event.key in moves)) return;
    event.preventDefault();
    const next = tabs[(index + moves[event.key] + tabs.length) % tabs.length];
    next.focus();
    select(next);
  });
});

onStatus((status) => describeModel(status.model));
refreshModel();
poll();
