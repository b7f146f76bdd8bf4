// What every view of the page shares: talking to the server, colour maps, small pictures.
// The server does every calculation; these modules only send requests and draw the answers.

export const IMAGE_SIDE = 28;
// The lab's requests carry this per-process token (the server put it in the page's HTML);
// another site open in the same browser cannot read it, so it cannot drive the lab.
const TOKEN = document.querySelector('meta[name="digitnet-token"]').content;

export async function api(path, body = undefined, method = body === undefined ? "GET" : "POST") {
  const options = { method, headers: { "X-Digitnet-Token": TOKEN } };
  if (method === "POST") {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  const answer = await response.json();
  if (!response.ok) throw new Error(answer.error || `HTTP ${response.status}`);
  return answer;
}

// Input pixels as MNIST stores them (white ink on black).
export function grayscale(value) {
  const level = Math.round(255 * value);
  return [level, level, level];
}

// Signed values: orange for positive, blue for negative, white for zero; |value| <= 1.
export function diverging(value) {
  const toward = value >= 0 ? [227, 118, 28] : [47, 111, 209];
  const t = Math.min(1, Math.abs(value));
  return toward.map((channel) => Math.round(255 + (channel - 255) * t));
}

export function cssColour(rgb) {
  return `rgb(${rgb.join(",")})`;
}

export function drawImage(canvas, values, colour) {
  const context = canvas.getContext("2d");
  const image = context.createImageData(IMAGE_SIDE, IMAGE_SIDE);
  values.forEach((value, i) => image.data.set([...colour(value), 255], 4 * i));
  context.putImageData(image, 0, 0);
}

export function imageCanvas(values, colour, label) {
  const canvas = document.createElement("canvas");
  canvas.width = IMAGE_SIDE;
  canvas.height = IMAGE_SIDE;
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", label);
  drawImage(canvas, values, colour);
  return canvas;
}

export function largestMagnitude(values) {
  return values.reduce((peak, value) => Math.max(peak, Math.abs(value)), 0) || 1;
}

// Four significant digits, exponent notation for very small or large magnitudes.
export function number(value) {
  if (value === null || value === undefined) return "\u2013";
  if (value === 0) return "0";
  const size = Math.abs(value);
  return size < 1e-3 || size >= 1e4 ? value.toExponential(3) : value.toPrecision(4);
}

export function percent(value) {
  return value === null || value === undefined ? "\u2013" : `${(100 * value).toFixed(2)}%`;
}

export function element(tag, properties = {}, children = []) {
  const node = document.createElement(tag);
  Object.entries(properties).forEach(([key, value]) => {
    if (key === "dataset") Object.assign(node.dataset, value);
    else if (key in node) node[key] = value;
    else node.setAttribute(key, value);
  });
  node.append(...children);
  return node;
}

// A link to an equation of the math notes, e.g. "eq. (7)".
export function equationLink(number) {
  return element("a", { href: `/notes#eq-${number}`, target: "_blank", className: "eq", textContent: `eq. (${number})` });
}
