// The "Teach it" view: keep the drawing with its true label, list and delete drawings, and
// fine-tune the served model on them (a run of the library's TrainingSession on the server).
import { api, element, grayscale, imageCanvas, percent } from "./common.js";
import { currentAnswer, trueLabel } from "./draw.js";
import { onStatus, poll } from "./train.js";

const list = document.getElementById("drawings");
const count = document.getElementById("drawing-count");
const statusLine = document.getElementById("teach-status");
const resultBox = document.getElementById("fine-tune-result");
let shownResult = null;

async function refreshDrawings() {
  try {
    const { drawings } = await api("/api/lab/drawings");
    count.textContent = String(drawings.length);
    list.dataset.count = String(drawings.length);
    list.replaceChildren(...drawings.map((drawing, index) => {
      const remove = element("button", { type: "button", textContent: "Delete",
        "aria-label": `delete drawing ${index + 1}, a ${drawing.label}` });
      remove.addEventListener("click", async () => {
        await api(`/api/lab/drawings/${drawing.id}`, undefined, "DELETE").catch((error) => {
          statusLine.textContent = error.message;
        });
        refreshDrawings();
      });
      const heldOut = index % 4 === 3;  // as the server splits them (drawings.py)
      return element("li", { dataset: { id: drawing.id, label: drawing.label } }, [
        imageCanvas(drawing.pixels.map((v) => v / 255), grayscale, `drawing of a ${drawing.label}`),
        element("span", { textContent: `${drawing.label}${heldOut ? " (held out)" : ""}` }),
        remove,
      ]);
    }));
  } catch (error) {
    statusLine.textContent = `could not list the drawings: ${error.message}`;
  }
}

document.getElementById("teach").addEventListener("click", async () => {
  const answer = currentAnswer();
  const label = trueLabel();
  if (!answer || label === null) {
    statusLine.textContent = answer ? "pick the digit you drew (under the canvas)" : "draw a digit first";
    return;
  }
  try {
    const taught = await api("/api/lab/drawings", { pixels: answer.input28, label });
    statusLine.textContent = `kept as a ${label} (${taught.count} drawings)`;
  } catch (error) {
    statusLine.textContent = error.message;
  }
  refreshDrawings();
});

document.getElementById("fine-tune").addEventListener("click", async () => {
  try {
    await api("/api/lab/fine-tune", {});
    statusLine.textContent = "fine-tuning\u2026 (the Train view shows its curves)";
  } catch (error) {
    statusLine.textContent = error.message;
  }
  poll();
});

function row(name, before, after) {
  return element("tr", {}, [element("th", { scope: "row", textContent: name }),
    element("td", { textContent: before }), element("td", { textContent: after })]);
}

onStatus((status) => {
  const run = status.run;
  if (!run || run.kind !== "fine-tune" || !run.result.before || shownResult === run.id) return;
  shownResult = run.id;
  const { before, after, drawings } = run.result;
  statusLine.textContent = `fine-tuned on ${drawings} drawings; the model you draw with is now the fine-tuned one`;
  resultBox.dataset.run = String(run.id);
  resultBox.replaceChildren(element("table", {}, [
    element("thead", {}, [element("tr", {}, ["", "before", "after"].map((h) => element("th", { scope: "col", textContent: h })))]),
    element("tbody", {}, [
      row(`your ${before.held_out_count} held-out drawings`, percent(before.held_out_accuracy), percent(after.held_out_accuracy)),
      row("the MNIST test set", percent(before.mnist_test_accuracy), percent(after.mnist_test_accuracy)),
    ]),
  ]));
});

refreshDrawings();
