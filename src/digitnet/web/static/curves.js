// Line charts of the training curves on a canvas: x is epochs (fractional), y the measure.
// Colours match the legend under the charts (style.css: .swatch.train, .val, .batch, .change).

export const COLOURS = { train: "#e3761c", val: "#2f6fd1", batch: "#b9b9b9", change: "#7a7a7a" };
const MARGIN = { left: 46, right: 10, top: 10, bottom: 28 };

// series: [{ points: [[x, y], ...], colour, width }]; changes: [{ x, text }] drawn as dashed lines
export function plot(canvas, series, { xMax, yMin = 0, yMax, yLabel, changes = [] }) {
  const context = canvas.getContext("2d");
  const width = canvas.width - MARGIN.left - MARGIN.right;
  const height = canvas.height - MARGIN.top - MARGIN.bottom;
  const x = (value) => MARGIN.left + (width * value) / xMax;
  const y = (value) => MARGIN.top + height * (1 - (Math.min(Math.max(value, yMin), yMax) - yMin) / (yMax - yMin));
  context.clearRect(0, 0, canvas.width, canvas.height);
  context.font = "11px system-ui, sans-serif";
  context.fillStyle = "#555";
  context.strokeStyle = "#ddd";
  context.lineWidth = 1;
  for (let i = 0; i <= 4; i++) {  // horizontal grid lines with their values
    const value = yMin + ((yMax - yMin) * i) / 4;
    context.beginPath();
    context.moveTo(MARGIN.left, y(value));
    context.lineTo(MARGIN.left + width, y(value));
    context.stroke();
    context.fillText(value.toPrecision(2), 4, y(value) + 4);
  }
  const xStep = Math.max(1, Math.ceil(xMax / 10));
  for (let epoch = 0; epoch <= xMax; epoch += xStep) context.fillText(String(epoch), x(epoch) - 3, canvas.height - 12);
  context.fillText(`epochs \u2192   ${yLabel}`, MARGIN.left, canvas.height - 1);
  context.setLineDash([4, 3]);
  context.strokeStyle = COLOURS.change;
  for (const change of changes) {
    context.beginPath();
    context.moveTo(x(change.x), MARGIN.top);
    context.lineTo(x(change.x), MARGIN.top + height);
    context.stroke();
    context.fillText(change.text, x(change.x) + 3, MARGIN.top + 10);
  }
  context.setLineDash([]);
  for (const line of series) {
    if (!line.points.length) continue;
    context.strokeStyle = line.colour;
    context.lineWidth = line.width || 2;
    context.beginPath();
    line.points.forEach(([px, py], i) => (i ? context.lineTo(x(px), y(py)) : context.moveTo(x(px), y(py))));
    context.stroke();
    if (line.points.length === 1) {  // a single point: a dot, so it shows
      context.fillStyle = line.colour;
      context.fillRect(x(line.points[0][0]) - 2, y(line.points[0][1]) - 2, 4, 4);
    }
  }
}
