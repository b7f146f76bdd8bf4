// The page of `digitnet serve`: draw on a canvas, ask the server what the network reads, show why.
// Plain JavaScript, no libraries: one canvas, one endpoint. The server does every calculation,
// so the page shows exactly what `digitnet predict` would compute for the same picture.
"use strict";

const PAD_SIZE = 280;        // canvas pixels; the server crops and scales, so only proportions matter
const BRUSH_WIDTH = 20;      // about MNIST's stroke width for a digit drawn 200 px tall
const DEBOUNCE_MS = 120;     // while drawing, at most one prediction per this interval
const IMAGE_SIDE = 28;

const pad = document.getElementById("pad");
const padContext = pad.getContext("2d", { willReadFrequently: true });
const prediction = document.getElementById("prediction");
const bars = document.getElementById("bars");
const input28 = document.getElementById("input28");
const hiddenUnits = document.getElementById("hidden");
const statusLine = document.getElementById("status");
const verdict = document.getElementById("verdict");
const minConfidence = document.getElementById("min-confidence");
const VERDICT_CLASSES = ["answered", "unsure", "novel"];  // styles for the three verdicts of /api/model
let verdicts = ["digit", "not sure", "not a digit"];

// Every change to the drawing gets a new version; an answer is shown only if it is for the
// drawing since the last Clear, and `prediction.dataset.version` says which version it shows.
let drawingVersion = 0;
let clearedVersion = 0;
let hasInk = false;
let activePointer = null;
let lastPoint = null;
let timer = null;
let requestInFlight = false;
let predictAgain = false;

function buildBars() {
  for (let digit = 0; digit < 10; digit++) {
    const column = document.createElement("div");
    column.className = "bar-column";
    column.innerHTML =
      `<span class="bar-percent"></span><div class="bar-track"><div class="bar" data-digit="${digit}" ` +
      `data-probability="0"></div></div><span class="bar-label">${digit}</span>`;
    bars.appendChild(column);
  }
}

function canvasPoint(event) {
  // CSS may show the canvas at another size than its 280x280 pixels
  const box = pad.getBoundingClientRect();
  return {
    x: (event.clientX - box.left) * (PAD_SIZE / box.width),
    y: (event.clientY - box.top) * (PAD_SIZE / box.height),
  };
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
  hasInk = true;
}

function drawDot(point) {
  // a stroke of zero length draws nothing (canvas prunes it), so a tap is a filled circle
  padContext.fillStyle = "#111";
  padContext.beginPath();
  padContext.arc(point.x, point.y, BRUSH_WIDTH / 2, 0, 2 * Math.PI);
  padContext.fill();
  hasInk = true;
}

function drawingChanged() {
  drawingVersion += 1;
  pad.dataset.version = String(drawingVersion);
  if (timer === null) {
    timer = setTimeout(predict, DEBOUNCE_MS);
  }
}

function predictNow() {
  clearTimeout(timer);
  timer = setTimeout(predict, 0);
}

pad.addEventListener("pointerdown", (event) => {
  if (activePointer !== null || event.button > 0) return;  // one stroke at a time, main button only
  event.preventDefault();
  activePointer = event.pointerId;
  pad.setPointerCapture(event.pointerId);
  lastPoint = canvasPoint(event);
  drawDot(lastPoint);
  drawingChanged();
});

pad.addEventListener("pointermove", (event) => {
  if (event.pointerId !== activePointer) return;
  // a pen or a fast mouse delivers several positions per frame: draw through all of them
  const coalesced = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
  for (const point of coalesced.length ? coalesced : [event]) {
    const next = canvasPoint(point);
    drawSegment(lastPoint, next);
    lastPoint = next;
  }
  drawingChanged();
});

function endStroke(event) {
  if (event.pointerId !== activePointer) return;
  activePointer = null;
  lastPoint = null;
  predictNow();
}
pad.addEventListener("pointerup", endStroke);
pad.addEventListener("pointercancel", endStroke);

document.getElementById("clear").addEventListener("click", () => {
  padContext.clearRect(0, 0, PAD_SIZE, PAD_SIZE);
  hasInk = false;
  drawingVersion += 1;
  clearedVersion = drawingVersion;
  pad.dataset.version = String(drawingVersion);
  clearTimeout(timer);
  timer = null;
  showNothing(drawingVersion);
});

function canvasInk() {
  // the ink is the alpha channel: 0 where nothing was drawn, 255 under the brush
  const rgba = padContext.getImageData(0, 0, PAD_SIZE, PAD_SIZE).data;
  const ink = new Array(PAD_SIZE * PAD_SIZE);
  for (let i = 0; i < ink.length; i++) ink[i] = rgba[4 * i + 3];
  return ink;
}

async function predict() {
  timer = null;
  if (requestInFlight) {  // one request at a time; the newest drawing goes next
    predictAgain = true;
    return;
  }
  if (!hasInk) return;
  const version = drawingVersion;
  requestInFlight = true;
  try {
    const response = await fetch("/api/predict", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        pixels: canvasInk(), width: PAD_SIZE, height: PAD_SIZE, scale: 255,
        min_confidence: Number(minConfidence.value) / 100,
      }),
    });
    const answer = await response.json();
    if (!response.ok) throw new Error(answer.error || `HTTP ${response.status}`);
    if (version > clearedVersion) {
      showAnswer(answer, version);
      statusLine.textContent = "";
    }
  } catch (error) {
    statusLine.textContent = `could not predict: ${error.message}`;
  } finally {
    requestInFlight = false;
    if (predictAgain) {
      predictAgain = false;
      predictNow();
    }
  }
}

function showAnswer(answer, version) {
  prediction.textContent = answer.name;
  showVerdict(answer);
  showBars(answer.probabilities, answer.digit);
  showImage(input28, answer.input28, grayscale);
  showHiddenUnits(answer.hidden);
  prediction.dataset.version = String(version);
}

function showVerdict(answer) {
  // the verdict decides the colour; the text says how sure the (calibrated) network is
  const sure = `${(100 * answer.confidence).toFixed(1)}% sure`;
  verdict.dataset.verdict = answer.verdict;
  verdict.className = VERDICT_CLASSES[verdicts.indexOf(answer.verdict)] || "";
  verdict.textContent = answer.verdict === verdicts[0] ? sure
    : `${answer.verdict} (it would say ${answer.name}, ${sure})`;
}

minConfidence.addEventListener("input", () => {
  document.getElementById("min-confidence-value").textContent = `${minConfidence.value}%`;
  if (hasInk) drawingChanged();
});

function showNothing(version) {
  prediction.textContent = "\u2013";
  verdict.textContent = "";
  verdict.dataset.verdict = "";
  verdict.className = "";
  showBars(new Array(10).fill(0), -1);
  showImage(input28, new Array(IMAGE_SIDE * IMAGE_SIDE).fill(0), grayscale);
  hiddenUnits.replaceChildren();
  statusLine.textContent = "";
  prediction.dataset.version = String(version);
}

function showBars(probabilities, best) {
  bars.querySelectorAll(".bar").forEach((bar, digit) => {
    const p = probabilities[digit];
    bar.style.height = `${(100 * p).toFixed(1)}%`;
    bar.dataset.probability = String(p);
    bar.classList.toggle("top", digit === best);
    bar.parentElement.previousElementSibling.textContent = p >= 0.005 ? `${Math.round(100 * p)}%` : "";
  });
}

// Colour maps: input pixels as MNIST stores them (white ink on black); weights in a diverging
// map, orange for positive (ink there excites the unit), blue for negative, white for zero.
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
  const image = context.createImageData(IMAGE_SIDE, IMAGE_SIDE);
  values.forEach((value, i) => {
    const [r, g, b] = colour(value);
    image.data.set([r, g, b, 255], 4 * i);
  });
  context.putImageData(image, 0, 0);
}

function showHiddenUnits(units) {
  const figures = units.map((unit) => {
    const figure = document.createElement("figure");
    figure.className = "unit";
    figure.dataset.unit = String(unit.unit);
    figure.dataset.activation = String(unit.activation);
    const canvas = document.createElement("canvas");
    canvas.width = IMAGE_SIDE;
    canvas.height = IMAGE_SIDE;
    showImage(canvas, unit.weights, diverging);
    const caption = document.createElement("figcaption");
    caption.textContent = `#${unit.unit}: ${unit.activation.toFixed(2)}`;
    figure.append(canvas, caption);
    return figure;
  });
  hiddenUnits.replaceChildren(...figures);
}

async function showModel() {
  const info = document.getElementById("model-info");
  try {
    const model = await (await fetch("/api/model")).json();
    const accuracy = model.test_accuracy === null ? "test accuracy not recorded"
      : `${(100 * model.test_accuracy).toFixed(2)}% on the ${model.dataset} test set`;
    info.textContent = `${model.layer_sizes.join("-")} network (${model.activation}), ${accuracy} \u00b7 ${model.file}`;
    verdicts = model.verdicts;
    bars.querySelectorAll(".bar-label").forEach((label, k) => { label.textContent = model.class_names[k]; });
  } catch (error) {
    info.textContent = `could not describe the model: ${error.message}`;
  }
}

buildBars();
showNothing(0);
showModel();
