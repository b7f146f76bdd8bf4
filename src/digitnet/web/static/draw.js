// Draw on a canvas, ask the server what the network reads, show why (the "What it sees" view).
// The server does every calculation, so the page shows exactly what `digitnet predict` would
// compute for the same picture.
import { IMAGE_SIDE, api, diverging, drawImage, element, grayscale, imageCanvas } from "./common.js";

const PAD_SIZE = 280;        // canvas pixels; the server crops and scales, so only proportions matter
const BRUSH_WIDTH = 20;      // about MNIST's stroke width for a digit drawn 200 px tall
const DEBOUNCE_MS = 120;     // while drawing, at most one prediction per this interval

const pad = document.getElementById("pad");
const padContext = pad.getContext("2d", { willReadFrequently: true });
const prediction = document.getElementById("prediction");
const bars = document.getElementById("bars");
const input28 = document.getElementById("input28");
const hiddenUnits = document.getElementById("hidden");
const statusLine = document.getElementById("status");
const blankNote = document.getElementById("blank");
const trueLabels = document.getElementById("true-label");
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
let lastAnswer = null;
const answerListeners = [];

export function onAnswer(listener) { answerListeners.push(listener); }
export function currentAnswer() { return lastAnswer; }   // null, or the answer for the drawing as it is
export function trueLabel() {
  const checked = trueLabels.querySelector("input:checked");
  return checked ? Number(checked.value) : null;
}

function buildBars() {
  for (let digit = 0; digit < 10; digit++) {
    bars.append(element("div", { className: "bar-column" }, [
      element("span", { className: "bar-percent" }),
      element("div", { className: "bar-track" }, [element("div", { className: "bar", dataset: { digit, probability: 0 } })]),
      element("span", { className: "bar-label", textContent: String(digit) }),
    ]));
    const radio = element("input", { type: "radio", name: "true-label", value: String(digit), id: `label-${digit}` });
    trueLabels.append(element("label", { htmlFor: `label-${digit}` }, [radio, String(digit)]));
  }
}

function canvasPoint(event) {
  // CSS may show the canvas at another size than its 280x280 pixels
  const box = pad.getBoundingClientRect();
  return { x: (event.clientX - box.left) * (PAD_SIZE / box.width), y: (event.clientY - box.top) * (PAD_SIZE / box.height) };
}

function drawSegment(from, to) {
  Object.assign(padContext, { lineWidth: BRUSH_WIDTH, lineCap: "round", lineJoin: "round", strokeStyle: "#111" });
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
  if (timer === null) timer = setTimeout(predict, DEBOUNCE_MS);
}

export function predictNow() {
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

function clear() {
  padContext.clearRect(0, 0, PAD_SIZE, PAD_SIZE);
  hasInk = false;
  drawingVersion += 1;
  clearedVersion = drawingVersion;
  pad.dataset.version = String(drawingVersion);
  clearTimeout(timer);
  timer = null;
  showNothing(drawingVersion);
}
document.getElementById("clear").addEventListener("click", clear);

// An MNIST test digit painted on the canvas (10x10 pixels each), for those who cannot draw here
let exampleIndex = 0;
document.getElementById("example").addEventListener("click", async () => {
  try {
    const example = await api(`/api/lab/example?index=${exampleIndex}`);
    exampleIndex += 1;
    clear();
    const scale = PAD_SIZE / IMAGE_SIDE;
    example.pixels.forEach((value, i) => {
      if (value === 0) return;
      padContext.fillStyle = `rgba(17,17,17,${value / 255})`;
      padContext.fillRect((i % IMAGE_SIDE) * scale, Math.floor(i / IMAGE_SIDE) * scale, scale, scale);
    });
    hasInk = true;
    document.getElementById(`label-${example.label}`).checked = true;
    drawingChanged();
    predictNow();
  } catch (error) {
    statusLine.textContent = `no example: ${error.message}`;
  }
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
    const answer = await api("/api/predict", {
      pixels: canvasInk(), width: PAD_SIZE, height: PAD_SIZE, scale: 255, min_confidence: Number(minConfidence.value) / 100,
    });
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
  lastAnswer = answer.blank ? null : answer;
  blankNote.hidden = !answer.blank;
  prediction.textContent = answer.blank ? "\u2013" : answer.name;
  showVerdict(answer);
  showBars(answer.probabilities || new Array(10).fill(0), answer.blank ? -1 : answer.digit);
  drawImage(input28, answer.input28, grayscale);
  showHiddenUnits(answer.hidden);
  prediction.dataset.version = String(version);
  answerListeners.forEach((listener) => listener(lastAnswer));
}

function showVerdict(answer) {
  // the verdict decides the colour; the text says how sure the (calibrated) network is
  verdict.dataset.verdict = answer.verdict || "";
  verdict.className = VERDICT_CLASSES[verdicts.indexOf(answer.verdict)] || "";
  if (answer.blank || !answer.verdict) {
    verdict.textContent = answer.blank ? answer.verdict : "";
    return;
  }
  const sure = `${(100 * answer.confidence).toFixed(1)}% sure`;
  verdict.textContent = answer.verdict === verdicts[0] ? sure : `${answer.verdict} (it would say ${answer.name}, ${sure})`;
}

minConfidence.addEventListener("input", () => {
  document.getElementById("min-confidence-value").textContent = `${minConfidence.value}%`;
  if (hasInk) drawingChanged();
});

function showNothing(version) {
  lastAnswer = null;
  blankNote.hidden = true;
  verdict.textContent = "";
  verdict.dataset.verdict = "";
  verdict.className = "";
  prediction.textContent = "\u2013";
  showBars(new Array(10).fill(0), -1);
  drawImage(input28, new Array(IMAGE_SIDE * IMAGE_SIDE).fill(0), grayscale);
  hiddenUnits.replaceChildren();
  statusLine.textContent = "";
  prediction.dataset.version = String(version);
  answerListeners.forEach((listener) => listener(null));
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

function showHiddenUnits(units) {
  hiddenUnits.replaceChildren(...units.map((unit) => element("figure", {
    className: "unit", dataset: { unit: unit.unit, activation: unit.activation },
  }, [
    imageCanvas(unit.weights, diverging, `incoming weights of hidden unit ${unit.unit}`),
    element("figcaption", { textContent: `#${unit.unit}: ${unit.activation.toFixed(2)}` }),
  ])));
}

export function describeModel(model) {
  const accuracy = model.test_accuracy === null || model.test_accuracy === undefined ? "test accuracy not recorded"
    : `${(100 * model.test_accuracy).toFixed(2)}% on the ${model.dataset} test set`;
  document.getElementById("model-info").textContent =
    `${model.layer_sizes.join("-")} network (${model.activation}), ${accuracy} \u00b7 ${model.file}`;
  verdicts = model.verdicts;
  bars.querySelectorAll(".bar-label").forEach((label, k) => { label.textContent = model.class_names[k]; });
  const note = document.getElementById("model-note");
  note.hidden = !model.note;
  note.textContent = model.note ? `The model you draw with was ${model.note}.` : "";
}

export async function refreshModel() {
  try {
    describeModel(await api("/api/model"));
  } catch (error) {
    document.getElementById("model-info").textContent = `could not describe the model: ${error.message}`;
  }
}

buildBars();
showNothing(0);
