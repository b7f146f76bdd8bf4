// The "Backprop step" view: one forward and backward pass for the drawn digit, every number
// from the server (the library's Network.forward / SoftmaxCrossEntropy / Network.backward), each
// with a link to its equation; a click on a weight's gradient runs the gradient check.
import {
  api, cssColour, diverging, element, equationLink, grayscale, imageCanvas, largestMagnitude, number,
} from "./common.js";
import { currentAnswer, onAnswer, predictNow, refreshModel, trueLabel } from "./draw.js";

const form = document.getElementById("backprop-form");
const view = document.getElementById("backprop");
const statusLine = document.getElementById("backprop-status");
const applyButton = document.getElementById("apply-step");
let step = null;        // the last step-through answer
let lossTrail = [];     // the loss on this digit after each applied step
let stepInput = null;   // the input the last step-through was for, as JSON

onAnswer((answer) => {  // a new drawing: the step shown is no longer the one "apply" would take
  if (!answer || JSON.stringify(answer.input28) !== stepInput) {
    applyButton.disabled = true;
    lossTrail = [];
  }
});

function request(extra = {}) {
  const answer = currentAnswer();
  if (!answer) throw new Error("draw a digit first");
  const label = trueLabel();
  if (label === null) throw new Error("pick the true label of your drawing (under the canvas)");
  return { pixels: answer.input28, label, lr: Number(form.elements.lr.value), ...extra };
}

async function stepThrough(unit = undefined) {
  try {
    step = await api("/api/lab/backprop", request(unit === undefined ? {} : { unit }));
  } catch (error) {
    statusLine.textContent = error.message;
    return;
  }
  statusLine.textContent = "";
  applyButton.disabled = false;
  stepInput = JSON.stringify(currentAnswer().input28);
  show(step);
}

function heading(text, equation) {
  return element("h3", {}, [`${text} `, equationLink(equation)]);
}

function cell(value, peak, onClick = null) {
  const style = `background:${cssColour(diverging(value / peak))}`;
  const content = onClick ? element("button", { type: "button", className: "cell", textContent: number(value) }) : number(value);
  if (onClick) content.addEventListener("click", onClick);
  return element("td", { style, dataset: { value } }, [content]);
}

function table(headers, rows) {
  return element("table", {}, [
    element("thead", {}, [element("tr", {}, headers.map((h) => element("th", { scope: "col" }, h)))]),
    element("tbody", {}, rows.map((cells) => element("tr", {}, cells))),
  ]);
}

function headerWithEquation(name, equation) {
  return [name, " ", equationLink(equation)];
}

function hiddenTable(s) {
  const eq = s.equations;
  const columns = [["z1", eq.z1], ["a1 = f(z1)", eq.mask], ["dA1", eq.dA1], ["f\u2032(z1)", eq.mask],
    ["dZ1", eq.dZ1], ["db1", eq.db1], ["\u0394b1", eq.update]];
  const values = [s.z1, s.a1, s.dA1, s.mask, s.dZ1, s.db1, s.update["dense0.b"]];
  const peaks = values.map(largestMagnitude);
  return table(["unit", ...columns.map(([name, e]) => headerWithEquation(name, e))], s.units.map((unit, row) => [
    element("th", { scope: "row" }, [element("button", { type: "button", className: "cell", textContent: `#${unit}`,
      title: "show dW1 for this unit" })]),
    ...values.map((column, c) => cell(column[row], peaks[c])),
  ]));
}

function outputTable(s) {
  const eq = s.equations;
  const y = Array.from({ length: 10 }, (_, digit) => Number(digit === s.label));
  const values = [s.logits, s.p, y, s.p_minus_y, s.db2, s.update["dense1.b"]];
  const peaks = values.map(largestMagnitude);
  const names = [["logit z2", eq.logits], ["p = softmax", eq.p], ["y", eq.p_minus_y], ["p \u2212 y", eq.p_minus_y],
    ["db2", eq.db2], ["\u0394b2", eq.update]];
  const rows = y.map((_, digit) => [element("th", { scope: "row" }, String(digit)), ...values.map((v, c) => cell(v[digit], peaks[c]))]);
  const result = table(["digit", ...names.map(([name, e]) => headerWithEquation(name, e))], rows);
  result.tBodies[0].rows[s.label].classList.add("true-label");
  return result;
}

function weightTable(s) {
  const peak = largestMagnitude(s.dW2.flat());
  return table(["unit", ...Array.from({ length: 10 }, (_, d) => `\u2192 ${d}`)], s.units.map((unit, row) => [
    element("th", { scope: "row" }, `#${unit}`),
    ...s.dW2[row].map((value, digit) => cell(value, peak, () => gradcheck("dense1.W", [unit, digit]))),
  ]));
}

function pixelImage(values, label, onPixel = null) {
  const peak = largestMagnitude(values);
  const canvas = imageCanvas(values.map((v) => v / peak), diverging, label);
  canvas.className = "big";
  if (onPixel) {
    canvas.addEventListener("click", (event) => {
      const box = canvas.getBoundingClientRect();
      const col = Math.floor(((event.clientX - box.left) / box.width) * 28);
      const row = Math.floor(((event.clientY - box.top) / box.height) * 28);
      onPixel(28 * row + col);
    });
  }
  return canvas;
}

function show(s) {
  const eq = s.equations;
  const unitPicker = element("select", { id: "unit-picker", "aria-label": "hidden unit whose dW1 is shown" },
    s.units.map((unit) => element("option", { value: unit, textContent: `unit #${unit}`, selected: unit === s.unit })));
  unitPicker.addEventListener("change", () => stepThrough(Number(unitPicker.value)));
  const strongestPixel = s.dW1.reduce((best, v, i) => (Math.abs(v) > Math.abs(s.dW1[best]) ? i : best), 0);
  const checkButton = element("button", { type: "button", textContent: "Check the largest dW1 entry" });
  checkButton.addEventListener("click", () => gradcheck("dense0.W", [strongestPixel, s.unit]));
  view.dataset.loss = String(s.loss);
  view.replaceChildren(
    element("div", { className: "step-row" }, [
      element("figure", {}, [imageCanvas(s.input28, grayscale, "the input x"), element("figcaption", {}, ["input x ", equationLink(eq.z1)])]),
      element("p", { className: "loss" }, ["loss L = \u2212log p", element("sub", { textContent: String(s.label) }),
        ` = ${number(s.loss)} `, equationLink(eq.loss)]),
    ]),
    heading(`Hidden layer: the ${s.units.length} most active of ${s.hidden_units} units (${s.active_units} have f\u2032(z1) > 0)`, eq.z1),
    hiddenTable(s),
    heading("Output layer, true label highlighted", eq.p),
    outputTable(s),
    heading("dW2 = a1\u1d40 (p \u2212 y): click a number to check it", eq.dW2),
    weightTable(s),
    heading("dW1 = x\u1d40 dZ1 for one unit, and the update \u2212lr\u00b7dW1 (click a pixel to check it)", eq.dW1),
    element("div", { className: "step-row" }, [unitPicker, checkButton]),
    element("div", { className: "step-row" }, [
      element("figure", {}, [pixelImage(s.dW1, `dW1 for unit ${s.unit}`, (pixel) => gradcheck("dense0.W", [pixel, s.unit])),
        element("figcaption", { textContent: `dW1[:, ${s.unit}]` })]),
      element("figure", {}, [pixelImage(s.update["dense0.W"], `update of W1 for unit ${s.unit}`),
        element("figcaption", {}, [`\u0394W1[:, ${s.unit}] = \u2212${s.lr} dW1 `, equationLink(eq.update)])]),
    ]),
    element("div", { id: "gradcheck-result", className: "gradcheck" }, ["Gradient check: click a weight's gradient. ",
      equationLink(eq.gradcheck)]),
    element("div", { id: "apply-result", className: "apply" }, [lossTrail.length ? trailText() : ""]),
  );
  view.querySelectorAll("table th button").forEach((button) => {
    button.addEventListener("click", () => stepThrough(Number(button.textContent.slice(1))));
  });
}

async function gradcheck(parameter, index) {
  const box = document.getElementById("gradcheck-result");
  box.textContent = `checking ${parameter}[${index.join(", ")}]\u2026`;
  try {
    const check = await api("/api/lab/gradcheck", request({ parameter, index }));
    box.dataset.relativeError = String(check.relative_error);
    box.replaceChildren(`${parameter}[${index.join(", ")}]: backprop ${number(check.analytic)}, ` +
      `central difference (h = ${check.h}) ${number(check.numeric)}, relative error ${check.relative_error.toExponential(2)} `,
    equationLink("19"));
  } catch (error) {
    box.textContent = error.message;
  }
}

function trailText() {
  return `Loss on this digit: ${lossTrail.map(number).join(" \u2192 ")}`;
}

applyButton.addEventListener("click", async () => {
  try {
    const applied = await api("/api/lab/apply", request());
    if (!lossTrail.length) lossTrail = [applied.loss_before];
    lossTrail.push(applied.loss_after);
    await stepThrough(step ? step.unit : undefined);
    const box = document.getElementById("apply-result");
    box.dataset.lossBefore = String(applied.loss_before);
    box.dataset.lossAfter = String(applied.loss_after);
    box.textContent = `${trailText()} (the model you draw with has changed)`;
    predictNow();
    refreshModel();
  } catch (error) {
    statusLine.textContent = error.message;
  }
});

form.addEventListener("submit", (event) => {
  event.preventDefault();
  lossTrail = [];
  stepThrough();
});
