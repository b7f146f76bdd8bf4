// digitnet.js: a digitnet network in plain JavaScript, no libraries, no server.
// It loads the weights `digitnet export --web` wrote, frames a drawing as MNIST digits are framed
// (src/digitnet/preprocess.py, step for step) and runs the forward pass of Network.infer and the
// softmax (notes eq. (1)-(3)). Equation numbers refer to the math notes, docs/my_note.md.
// Arithmetic is float64 on the float32 weights; the Python computes in float32, and the two agree
// to about 1e-6 in each probability (the export's tests check 1e-5 on MNIST test digits).
"use strict";

const MANIFEST_FORMAT = "digitnet-web";
const LANCZOS_SUPPORT = 3; // Pillow's Lanczos filter: sinc windowed by sinc over [-3, 3)

// ------------------------------------------------------------------------------ loading the model

async function fetchOk(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response;
}

// model.json says what the network is and where each tensor lies in weights.bin (float32,
// little-endian, row by row: W is (n_in, n_out) as in NumPy, so W[i][j] is at i * n_out + j).
async function loadModel(manifestUrl) {
  const manifest = await (await fetchOk(manifestUrl)).json();
  if (manifest.format !== MANIFEST_FORMAT) throw new Error(`${manifestUrl} is not a digitnet web export`);
  const { architecture } = manifest.model;
  if (!(architecture.activation in ACTIVATIONS)) {
    throw new Error(`activation ${architecture.activation} is not one this page knows`);
  }
  const weightsUrl = new URL(manifest.weights.file, new URL(manifestUrl, document.baseURI));
  const buffer = await (await fetchOk(weightsUrl)).arrayBuffer();
  if (buffer.byteLength !== manifest.weights.bytes) {
    throw new Error(`${manifest.weights.file} has ${buffer.byteLength} bytes, model.json says ${manifest.weights.bytes}`);
  }
  const tensors = {};
  for (const tensor of manifest.weights.tensors) tensors[tensor.name] = readFloat32(buffer, tensor);
  const sizes = architecture.layer_sizes;
  const layers = sizes.slice(1).map((nOut, index) => ({
    nIn: sizes[index],
    nOut,
    W: tensors[`dense${index}.W`],
    b: tensors[`dense${index}.b`],
  }));
  const calibration = manifest.model.calibration;
  return {
    manifest,
    layers,
    activation: architecture.activation,
    leakySlope: architecture.leaky_relu_slope,
    temperature: calibration ? calibration.temperature : 1,
    classNames: manifest.model.dataset.class_names,
    preprocessing: manifest.preprocessing,
  };
}

function readFloat32(buffer, tensor) {
  // a DataView reads little-endian whatever the machine's own byte order
  const count = tensor.shape.reduce((product, side) => product * side, 1);
  const view = new DataView(buffer, tensor.offset, 4 * count);
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) values[i] = view.getFloat32(4 * i, true);
  return values;
}

// ------------------------------------------------------------------ preprocessing (preprocess.py)

// Ink image (side x side, row by row, in [0, 1], 1 = ink) -> the network's 28x28 input, framed as
// MNIST digits are (LeCun et al., 1998), as mnist_preprocess does: crop to the ink's bounding box,
// scale the longer side to 20 pixels keeping the aspect, centre of mass at the centre of 28x28.
function mnistPreprocess(ink, side, settings) {
  const { image_size: imageSize, fit_size: fitSize, ink_threshold: threshold } = settings;
  const box = inkBoundingBox(ink, side, Math.fround(threshold));
  if (box === null) return new Float32Array(imageSize * imageSize); // no ink: a black image
  const height = box.bottom - box.top + 1;
  const width = box.right - box.left + 1;
  const cropped = new Float32Array(height * width);
  for (let row = 0; row < height; row++) {
    for (let col = 0; col < width; col++) cropped[row * width + col] = ink[(box.top + row) * side + box.left + col];
  }
  const fitted = resizeToFit({ pixels: cropped, height, width }, fitSize);
  return placeByCentreOfMass(fitted, imageSize);
}

// The rows and columns that hold a pixel above the threshold (float32 compare, as NumPy's).
function inkBoundingBox(ink, side, threshold) {
  let top = side, bottom = -1, left = side, right = -1;
  for (let row = 0; row < side; row++) {
    for (let col = 0; col < side; col++) {
      if (ink[row * side + col] > threshold) {
        top = Math.min(top, row);
        bottom = Math.max(bottom, row);
        left = Math.min(left, col);
        right = Math.max(right, col);
      }
    }
  }
  return bottom < 0 ? null : { top, bottom, left, right };
}

// Python's round(): halves go to the even neighbour (round(6.5) == 6), unlike Math.round.
function roundHalfToEven(x) {
  const floor = Math.floor(x);
  const fraction = x - floor;
  if (fraction !== 0.5) return Math.round(x);
  return floor % 2 === 0 ? floor : floor + 1;
}

// Scale so the longer side is `size` pixels (resize_to_fit), with Pillow's anti-aliased Lanczos
// resampling of float images, then clip to [0, 1].
function resizeToFit(image, size) {
  const scale = size / Math.max(image.height, image.width);
  const width = Math.max(1, roundHalfToEven(image.width * scale));
  const height = Math.max(1, roundHalfToEven(image.height * scale));
  const resized = lanczosResize(image, height, width);
  for (let i = 0; i < resized.pixels.length; i++) resized.pixels[i] = Math.min(1, Math.max(0, resized.pixels[i]));
  return resized;
}

// Pillow's two-pass resampling (libImaging/Resample.c): rows first, then columns, each pass a
// weighted sum in float64 stored as float32; a pass whose size does not change is skipped.
function lanczosResize(image, height, width) {
  const across = width === image.width ? image : resamplePass(image, width, true);
  return height === across.height ? across : resamplePass(across, height, false);
}

function resamplePass(image, outSize, alongRows) {
  const inSize = alongRows ? image.width : image.height;
  const coefficients = lanczosCoefficients(inSize, outSize);
  const height = alongRows ? image.height : outSize;
  const width = alongRows ? outSize : image.width;
  const pixels = new Float32Array(height * width);
  for (let row = 0; row < height; row++) {
    for (let col = 0; col < width; col++) {
      const { first, weights } = coefficients[alongRows ? col : row];
      let sum = 0;
      for (let k = 0; k < weights.length; k++) {
        const source = alongRows ? row * image.width + first + k : (first + k) * image.width + col;
        sum += image.pixels[source] * weights[k];
      }
      pixels[row * width + col] = sum; // a Float32Array rounds to float32, as Pillow's mode "F"
    }
  }
  return { pixels, height, width };
}

// For each output pixel: the first input pixel it reads and the normalised filter weights, as
// Pillow's precompute_coeffs: the filter is stretched by the scale when shrinking (anti-aliasing).
function lanczosCoefficients(inSize, outSize) {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = LANCZOS_SUPPORT * filterScale;
  const inverseFilterScale = 1 / filterScale;
  const rows = [];
  for (let out = 0; out < outSize; out++) {
    const centre = (out + 0.5) * scale;
    const first = Math.max(0, Math.trunc(centre - support + 0.5));
    const end = Math.min(inSize, Math.trunc(centre + support + 0.5));
    const weights = [];
    let total = 0;
    for (let i = first; i < end; i++) {
      const weight = lanczos((i - centre + 0.5) * inverseFilterScale);
      weights.push(weight);
      total += weight;
    }
    rows.push({ first, weights: weights.map((weight) => (total !== 0 ? weight / total : weight)) });
  }
  return rows;
}

function lanczos(x) {
  return -LANCZOS_SUPPORT <= x && x < LANCZOS_SUPPORT ? sinc(x) * sinc(x / LANCZOS_SUPPORT) : 0;
}

function sinc(x) {
  if (x === 0) return 1;
  const angle = x * Math.PI;
  return Math.sin(angle) / angle;
}

// Put the image in a size x size canvas so its intensity-weighted centre is at the middle
// (place_by_centre_of_mass); a lopsided digit that sticks out is clipped.
function placeByCentreOfMass(image, size) {
  const { pixels, height, width } = image;
  let total = 0, rowMoment = 0, colMoment = 0;
  for (let row = 0; row < height; row++) {
    for (let col = 0; col < width; col++) {
      const value = pixels[row * width + col];
      total += value;
      rowMoment += row * value;
      colMoment += col * value;
    }
  }
  const top = roundHalfToEven((size - 1) / 2 - rowMoment / total);
  const left = roundHalfToEven((size - 1) / 2 - colMoment / total);
  const canvas = new Float32Array(size * size);
  for (let row = Math.max(0, -top); row < height && row + top < size; row++) {
    for (let col = Math.max(0, -left); col < width && col + left < size; col++) {
      canvas[(row + top) * size + col + left] = pixels[row * width + col];
    }
  }
  return canvas;
}

// ---------------------------------------------------------------- the forward pass (network.py)

// The hidden activations, notes eq. (2)-(2d), one number at a time.
const ACTIVATIONS = {
  relu: (z) => (z > 0 ? z : 0), // eq. (2): max(0, z)
  leaky_relu: (z, slope) => (z > 0 ? z : slope * z), // eq. (2b): z for z > 0, else slope * z
  sigmoid: (z) => 0.5 * (1 + Math.tanh(0.5 * z)), // eq. (2c), as (1 + tanh(z/2)) / 2: exp(-z) would overflow
  tanh: (z) => Math.tanh(z), // eq. (2d)
};

// One input (784 numbers in [0, 1]) -> each hidden layer's activations, the logits, and the
// class probabilities: Network.infer followed by the softmax of predict_proba.
function infer(model, input) {
  const activation = ACTIVATIONS[model.activation];
  const hidden = [];
  let a = input;
  for (const layer of model.layers.slice(0, -1)) {
    const z = dense(a, layer);
    a = z.map((value) => activation(value, model.leakySlope));
    hidden.push(a);
  }
  const logits = dense(a, model.layers[model.layers.length - 1]);
  // temperature scaling: logits / T before the softmax (T = 1 when the model was not calibrated)
  const probabilities = softmax(logits.map((z) => z / model.temperature));
  return { hidden, logits, probabilities };
}

// notes eq. (1) for one row: z_j = b_j + sum_i x_i W_ij, with W stored row by row (n_in, n_out).
function dense(x, layer) {
  const z = Float64Array.from(layer.b);
  for (let i = 0; i < layer.nIn; i++) {
    const xi = x[i];
    if (xi === 0) continue; // most of a digit's pixels are background: their row adds nothing
    const row = i * layer.nOut;
    for (let j = 0; j < layer.nOut; j++) z[j] += xi * layer.W[row + j];
  }
  return z;
}

// notes eq. (3): p_c = exp(z_c - m) / sum_j exp(z_j - m) with m the largest logit, so no exp overflows.
function softmax(logits) {
  const m = Math.max(...logits);
  const exps = logits.map((z) => Math.exp(z - m));
  const sum = exps.reduce((total, value) => total + value, 0);
  return exps.map((value) => value / sum);
}
