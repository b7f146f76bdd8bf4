// page.js: the page of `digitnet export --web`. Draw on a canvas; digitnet.js reads the drawing
// in the browser, with the weights in weights.bin. Nothing is sent anywhere.
"use strict";

const PAD_SIZE = 280;   // canvas pixels; the preprocessing crops and scales, so only proportions matter
const BRUSH_WIDTH = 20; // about MNIST's stroke width for a digit drawn 200 px tall
const TOP_HIDDEN_UNITS = 12;

const pad = document.getElementById("pad");
const padContext = pad.getContext("2d", { willReadFrequently: true });
const prediction = document.getElementById("prediction");
const bars = document.getElementById("bars");
const input28 = document.getElementById("input28");
const hiddenUnits = document.getElementById("hidden");

// All the page's state in one place. Every change to the drawing gets a new version;
// `prediction.dataset.version` says which version the answer on show is for.
const state = {
  model: null,
  unitFigures: new Map(), // unit index -> its figure, made on first use
  drawingVersion: 0,
  hasInk: false,
  activePointer: null,
  lastPoint: null,
  frameRequested: false,
};

function buildBars(classNames) {
  const columns = classNames.map((name, index) => {
    const column = document.createElement("div");
    column.className = "bar-column";
    const percent = document.createElement("span");
    percent.className = "bar-percent";
    const track = document.createElement("div");
    track.className = "bar-track";
    const bar = document.createElement("div");
    bar.className = "bar";
    bar.dataset.index = String(index);
    bar.dataset.probability = "0";
    track.append(bar);
    const label = document.createElement("span");
    label.className = "bar-label";
    label.textContent = name; // textContent: a class name from a model file is never HTML
    column.append(percent, track, label);
    return column;
  });
  bars.replaceChildren(...columns);
}

function canvasPoint(event) {
  // CSS may show the canvas at another size than its 280x280 pixels
  const box = pad.getBoundingClientRect();
  return { x: (event.clientX - box.left) * (PAD_SIZE / box.width), y: (event.clientY - box.top) * (PAD_SIZE / box.height) };
}

function drawSegment(from, to) {
  padContext.lineWidth = BRUSH_WIDTH;
  padContext.lineCap = "round";
  padContext.lineJoin = "round";
  padContext.strokeStyle = "#111";
  padContext.beginPath();
  padContext.moveTo(from.x, from.y);
  padContext.lineTo(to.x, to.y);
  padContext.stroke();
}

function drawDot(point) {
  // a stroke of zero length draws nothing, so a tap is a filled circle
  padContext.fillStyle = "#111";
  padContext.beginPath();
  padContext.arc(point.x, point.y, BRUSH_WIDTH / 2, 0, 2 * Math.PI);
  padContext.fill();
}

function drawingChanged() {
  state.hasInk = true;
  state.drawingVersion += 1;
  pad.dataset.version = String(state.drawingVersion);
  if (!state.frameRequested) { // at most one reading per frame, however fast the pointer moves
    state.frameRequested = true;
    requestAnimationFrame(() => {
      state.frameRequested = false;
      readDrawing();
    });
  }
}

pad.addEventListener("pointerdown", (event) => {
  if (state.activePointer !== null || event.button > 0) return; // one stroke at a time, main button only
  event.preventDefault();
  state.activePointer = event.pointerId;
  pad.setPointerCapture(event.pointerId);
  state.lastPoint = canvasPoint(event);
  drawDot(state.lastPoint);
  drawingChanged();
});

pad.addEventListener("pointermove", (event) => {
  if (event.pointerId !== state.activePointer) return;
  // a pen or a fast mouse delivers several positions per frame: draw through all of them
  const coalesced = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
  for (const point of coalesced.length ? coalesced : [event]) {
    const next = canvasPoint(point);
    drawSegment(state.lastPoint, next);
    state.lastPoint = next;
  }
  drawingChanged();
});

function endStroke(event) {
  if (event.pointerId !== state.activePointer) return;
  state.activePointer = null;
  state.lastPoint = null;
}
pad.addEventListener("pointerup", endStroke);
pad.addEventListener("pointercancel", endStroke);

document.getElementById("clear").addEventListener("click", () => {
  padContext.clearRect(0, 0, PAD_SIZE, PAD_SIZE);
  state.hasInk = false;
  state.drawingVersion += 1;
  pad.dataset.version = String(state.drawingVersion);
  showNothing();
});

// The canvas as ink in [0, 1]: its alpha channel (0 where nothing was drawn, 255 under the
// brush) over 255, rounded to float32 as `digitnet serve` receives and scales it.
function canvasInk() {
  const rgba = padContext.getImageData(0, 0, PAD_SIZE, PAD_SIZE).data;
  const ink = new Float32Array(PAD_SIZE * PAD_SIZE);
  for (let i = 0; i < ink.length; i++) ink[i] = rgba[4 * i + 3] / 255;
  return ink;
}

function readDrawing() {
  if (state.model === null || !state.hasInk) return;
  const input = mnistPreprocess(canvasInk(), PAD_SIZE, state.model.preprocessing);
  const { hidden, probabilities } = infer(state.model, input);
  const best = probabilities.indexOf(Math.max(...probabilities));
  prediction.textContent = state.model.classNames[best];
  prediction.dataset.index = String(best);
  showBars(probabilities, best);
  showImage(input28, input, grayscale);
  showHiddenUnits(hidden.length ? hidden[0] : []);
  prediction.dataset.version = String(state.drawingVersion);
}

function showNothing() {
  prediction.textContent = "\u2013";
  delete prediction.dataset.index;
  if (state.model) showBars(new Array(state.model.classNames.length).fill(0), -1);
  showImage(input28, new Float32Array(28 * 28), grayscale);
  hiddenUnits.replaceChildren();
  prediction.dataset.version = String(state.drawingVersion);
}

function showBars(probabilities, best) {
  bars.querySelectorAll(".bar").forEach((bar, index) => {
    const p = probabilities[index];
    bar.style.height = `${(100 * p).toFixed(1)}%`;
    bar.dataset.probability = String(p);
    bar.classList.toggle("top", index === best);
    bar.parentElement.previousElementSibling.textContent = p >= 0.005 ? `${Math.round(100 * p)}%` : "";
  });
}

// Colour maps: the input as MNIST stores it (white ink on black); weights in a diverging map,
// orange for positive (ink there excites the unit), blue for negative, white for zero.
function grayscale(value) {
  const level = Math.round(255 * value);
  return [level, level, level];
}

function diverging(weight) {
  const toward = weight >= 0 ? [227, 118, 28] : [47, 111, 209];
  const t = Math.min(1, Math.abs(weight));
  return toward.map((channel) => Math.round(255 + (channel - 255) * t));
}

function showImage(canvas, values, colour) {
  const context = canvas.getContext("2d");
  const image = context.createImageData(canvas.width, canvas.height);
  values.forEach((value, i) => {
    const [r, g, b] = colour(value);
    image.data[4 * i] = r;
    image.data[4 * i + 1] = g;
    image.data[4 * i + 2] = b;
    image.data[4 * i + 3] = 255;
  });
  context.putImageData(image, 0, 0);
}

// Each first-layer unit's 784 incoming weights W[:, j], divided by their largest magnitude,
// drawn once on its own canvas the first time the unit fires.
function unitFigure(j) {
  if (!state.unitFigures.has(j)) {
    const { W, nIn, nOut } = state.model.layers[0];
    const column = new Float32Array(nIn);
    for (let i = 0; i < nIn; i++) column[i] = W[i * nOut + j];
    const peak = column.reduce((largest, w) => Math.max(largest, Math.abs(w)), 0);
    const figure = document.createElement("figure");
    figure.dataset.unit = String(j);
    const canvas = document.createElement("canvas");
    canvas.width = 28;
    canvas.height = 28;
    showImage(canvas, column.map((w) => (peak > 0 ? w / peak : 0)), diverging);
    figure.append(canvas, document.createElement("figcaption"));
    state.unitFigures.set(j, figure);
  }
  return state.unitFigures.get(j);
}

function showHiddenUnits(activations) {
  const strongest = Array.from(activations.keys())
    .filter((j) => activations[j] > 0)
    .sort((a, b) => activations[b] - activations[a] || a - b)
    .slice(0, TOP_HIDDEN_UNITS);
  const figures = strongest.map((j) => {
    const figure = unitFigure(j);
    figure.lastChild.textContent = `#${j}: ${activations[j].toFixed(2)}`;
    return figure;
  });
  hiddenUnits.replaceChildren(...figures);
}

function describeModel(model) {
  const { architecture, test_accuracy: accuracy, dataset, source, calibration } = model.manifest.model;
  const shown = accuracy === null ? "test accuracy not recorded" : `${(100 * accuracy).toFixed(2)}% test accuracy`;
  const calibrated = calibration ? `, calibrated (T = ${calibration.temperature.toFixed(3)})` : "";
  return `${architecture.layer_sizes.join("-")} network (${architecture.activation}) on ${dataset.name}: ` +
    `${shown}${calibrated} \u00b7 ${source.file}`;
}

async function start() {
  const info = document.getElementById("model-info");
  try {
    state.model = await loadModel("model.json");
  } catch (error) {
    const hint = location.protocol === "file:" ? " (open the page through a web server, for example " +
      "`python -m http.server` in its folder: browsers do not let a file:// page read its weights)" : "";
    info.textContent = `could not load the model: ${error.message}${hint}`;
    return;
  }
  info.textContent = describeModel(state.model);
  buildBars(state.model.classNames);
  showNothing();
  document.body.dataset.ready = "true";
}

showNothing();
start();
