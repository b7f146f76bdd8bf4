// The "Train" view: start a run on the server, steer it, and watch its curves and weights.
// The run lives in the server (the library's TrainingSession in a thread); this page polls its
// status a few times a second while it trains and draws what comes back.
import { api, diverging, element, imageCanvas, number } from "./common.js";
import { COLOURS, plot } from "./curves.js";

const POLL_MS = 300;
const form = document.getElementById("run-form");
const knobs = document.getElementById("knobs");
const runState = document.getElementById("run-state");
const lossCurve = document.getElementById("loss-curve");
const accuracyCurve = document.getElementById("accuracy-curve");
const grid = document.getElementById("weight-grid");
const changeList = document.getElementById("changes");
const buttons = Object.fromEntries(
  ["start", "pause", "resume", "step", "add-epoch", "stop", "save", "apply-knobs"].map((id) => [id, document.getElementById(id)]));
// which buttons each state of a run allows (the server refuses the others with a 409 anyway)
const ALLOWED = {
  none: ["start"], running: ["pause", "add-epoch", "stop", "apply-knobs"],
  paused: ["resume", "step", "add-epoch", "stop", "apply-knobs"], finished: ["add-epoch", "stop", "save", "apply-knobs", "start"],
  stopped: ["save", "start"], saved: ["start"], failed: ["start"],
};

let runId = null;
let points = [];
let pollTimer = null;
let gridStep = -1;
let shownRun = null;
const statusListeners = [];

export function onStatus(listener) { statusListeners.push(listener); }

export function poll() {
  clearTimeout(pollTimer);
  pollTimer = setTimeout(refresh, 0);
}

async function refresh() {
  let status;
  try {
    status = await api(`/api/lab/status?since=${points.length}`);
  } catch (error) {
    runState.textContent = `could not reach the server: ${error.message}`;
    return;
  }
  const run = status.run;
  if (run && run.id !== runId) {  // a new run: its points start from 0
    runId = run.id;
    if (points.length) {
      points = [];
      poll();
      return;
    }
  }
  if (run) points = points.concat(run.points);
  show(run);
  statusListeners.forEach((listener) => listener(status));
  if (run && run.state === "running") pollTimer = setTimeout(refresh, POLL_MS);
}

function show(run) {
  const state = run ? run.state : "none";
  Object.entries(buttons).forEach(([id, button]) => { button.disabled = !ALLOWED[state].includes(id); });
  runState.dataset.state = state;
  runState.dataset.step = run ? String(run.step) : "0";
  shownRun = run;
  if (!run) return;
  const epochPart = `epoch ${Math.min(run.epoch, run.epochs)} of ${run.epochs}`;
  const last = points[points.length - 1];
  const accuracy = last ? `, validation accuracy ${(100 * last.val_accuracy).toFixed(1)}%` : "";
  runState.textContent = `${run.kind === "fine-tune" ? "Fine-tuning" : "Run"} ${run.id} (${run.layer_sizes.join("-")}): ` +
    `${state}, ${epochPart}, step ${run.step} (${run.steps_per_epoch} per epoch)${accuracy}. ${run.message}`;
  if (document.activeElement.form !== knobs) {
    knobs.elements.lr.value = run.lr;
    knobs.elements.momentum.value = run.momentum === null ? "" : run.momentum;
    knobs.elements.momentum.disabled = run.momentum === null;
  }
  showCurves(run);
  showChanges(run);
  if (run.grid.step !== undefined && run.grid.step !== gridStep) showGrid(run.grid);
}

function showCurves(run) {
  const perEpoch = run.steps_per_epoch;
  const changes = run.changes.map((change) => ({ x: change.step / perEpoch, text: `${change.setting} ${number(change.new)}` }));
  const xMax = Math.max(run.epochs, ...points.map((p) => p.epoch));
  const series = (key, colour, width) => ({ points: points.map((p) => [p.epoch, p[key]]), colour, width });
  const losses = points.flatMap((p) => [p.train_loss, p.val_loss, p.batch_loss]);
  plot(lossCurve, [series("batch_loss", COLOURS.batch, 1), series("train_loss", COLOURS.train), series("val_loss", COLOURS.val)],
    { xMax, yMax: Math.max(0.5, Math.ceil(2 * Math.max(0, ...losses)) / 2), yLabel: "loss", changes });
  plot(accuracyCurve, [series("train_accuracy", COLOURS.train), series("val_accuracy", COLOURS.val)],
    { xMax, yMax: 1, yLabel: "accuracy", changes });
  lossCurve.dataset.points = String(points.length);
}

function showChanges(run) {
  changeList.replaceChildren(...run.changes.map((change) => element("li", {
    textContent: `after step ${change.step} (epoch ${change.epoch}): ${change.setting} ${number(change.old)} \u2192 ${number(change.new)}`,
  })));
}

function showGrid(snapshot) {
  gridStep = snapshot.step;
  grid.replaceChildren(...snapshot.units.map((weights, unit) => element("figure", { className: "unit" }, [
    imageCanvas(weights.map((w) => w / 100), diverging, `incoming weights of hidden unit ${unit}`),
    element("figcaption", { textContent: `#${unit}` }),
  ])));
  grid.dataset.step = String(snapshot.step);
}

async function act(path, body = {}) {
  try {
    await api(path, body);
  } catch (error) {
    runState.textContent = error.message;
  }
  poll();
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const field = (name) => form.elements[name].value;
  act("/api/lab/start", {
    hidden: field("hidden").split(",").map((size) => Number(size.trim())),
    activation: field("activation"),
    optimizer: field("optimizer"),
    lr: Number(field("lr")),
    ...(form.elements.momentum.disabled ? {} : { momentum: Number(field("momentum")) }),
    batch_size: Number(field("batch_size")),
    epochs: Number(field("epochs")),
    augment: field("augment"),
  });
});

// Adam's steps are scaled per weight, so its usual learning rate is 100 times SGD's
const USUAL_LR = { sgd: "0.1", adam: "0.001" };
form.elements.optimizer.addEventListener("change", () => {
  if (Object.values(USUAL_LR).includes(form.elements.lr.value)) form.elements.lr.value = USUAL_LR[form.elements.optimizer.value];
  form.elements.momentum.disabled = form.elements.optimizer.value !== "sgd";
});

knobs.addEventListener("submit", (event) => {
  event.preventDefault();
  const settings = {};  // only what was changed: each change is recorded in the run's history
  const lr = Number(knobs.elements.lr.value);
  const momentum = Number(knobs.elements.momentum.value);
  if (lr !== shownRun.lr) settings.lr = lr;
  if (!knobs.elements.momentum.disabled && momentum !== shownRun.momentum) settings.momentum = momentum;
  if (Object.keys(settings).length) act("/api/lab/settings", settings);
  document.activeElement.blur();
});

for (const name of ["pause", "resume", "step", "add-epoch", "stop", "save"]) {
  buttons[name].addEventListener("click", () => act(`/api/lab/${name}`));
}
