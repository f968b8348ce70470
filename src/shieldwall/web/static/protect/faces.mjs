// Face templates made on the person's device, exactly as the server makes them
// (shieldwall/detection/faces.py: OpenCV's FaceDetectorYN and FaceRecognizerSF), with
// onnxruntime-web on the models the service serves from its installed packages.
//
// The steps, each reproducing OpenCV's:
// 1. the picture reduced to at most 640 pixels on its long side by area averaging
//    (cv2.resize INTER_AREA), as BGR;
// 2. YuNet on the picture padded with black to a multiple of 32 on each side; its outputs
//    decoded per stride (8, 16, 32) and overlapping boxes suppressed (cv2.dnn.NMSBoxes);
// 3. faces kept at confidence >= 0.8 and at least 24 pixels wide;
// 4. each face aligned by the similarity transform from its five landmarks to SFace's
//    reference points and warped to 112x112 (alignCrop: warpAffine, bilinear);
// 5. SFace on the crop as RGB: 128 numbers, made unit length.
// Nothing here sends anything: the caller sends only the templates.

import * as ort from "/assets/onnxruntime-web/ort.wasm.min.mjs";

export const DETECTION_SIDE = 640;
export const MIN_CONFIDENCE = 0.8;
export const MIN_FACE = 24;
const NMS_THRESHOLD = 0.3;
const TOP_K = 50;
const STRIDES = [8, 16, 32];
const CROP = 112;
// SFace's reference landmarks in the 112x112 crop, and their mean (as OpenCV writes them).
const REFERENCE = [
  [38.2946, 51.6963],
  [73.5318, 51.5014],
  [56.0252, 71.7366],
  [41.5493, 92.3655],
  [70.7299, 92.2041],
];
const REFERENCE_MEAN = [56.0262, 71.9008];

ort.env.wasm.wasmPaths = "/assets/onnxruntime-web/";
ort.env.wasm.numThreads = 1; // threads would need cross-origin isolation; one is enough
ort.env.wasm.proxy = false;

/** Loads both models once; `templates(bitmap)` then gives the faces of a picture. */
export class FaceTemplates {
  constructor() {
    this.detector = null;
    this.recogniser = null;
  }

  async load() {
    const options = { executionProviders: ["wasm"], graphOptimizationLevel: "all" };
    [this.detector, this.recogniser] = await Promise.all([
      ort.InferenceSession.create("/assets/models/face-detector.onnx", options),
      ort.InferenceSession.create("/assets/models/face-recogniser.onnx", options),
    ]);
  }

  /** The faces of an ImageBitmap (or canvas), most confident first, each with its box,
   * landmarks, confidence (in the picture's own pixels) and unit-length template. */
  async faces(source) {
    const { image, scale } = lookedAt(source);
    const found = await this.detect(image);
    const faces = [];
    for (const row of found) {
      const crop = alignCrop(image, row);
      const template = await this.template(crop);
      if (!template) continue;
      const back = row.slice(0, 14).map((v) => v / scale);
      faces.push({ box: back.slice(0, 4), landmarks: back.slice(4, 14), confidence: row[14], template });
    }
    return faces;
  }

  async detect(image) {
    const { width, height, bgr } = image;
    const padW = Math.ceil(width / 32) * 32;
    const padH = Math.ceil(height / 32) * 32;
    const plane = padW * padH;
    const input = new Float32Array(3 * plane); // zeros: the black padding
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const from = (y * width + x) * 3;
        const to = y * padW + x;
        input[to] = bgr[from];
        input[plane + to] = bgr[from + 1];
        input[2 * plane + to] = bgr[from + 2];
      }
    }
    const outputs = await this.detector.run({ input: new ort.Tensor("float32", input, [1, 3, padH, padW]) });
    const rows = decode(outputs, padW, padH);
    return suppress(rows).filter((row) => row[14] >= MIN_CONFIDENCE && row[2] >= MIN_FACE);
  }

  async template(crop) {
    const plane = CROP * CROP;
    const input = new Float32Array(3 * plane);
    for (let i = 0; i < plane; i++) {
      input[i] = crop[i * 3 + 2]; // R (the crop is BGR; SFace reads RGB)
      input[plane + i] = crop[i * 3 + 1];
      input[2 * plane + i] = crop[i * 3];
    }
    const output = await this.recogniser.run({ data: new ort.Tensor("float32", input, [1, 3, CROP, CROP]) });
    const feature = Array.from(output.fc1.data);
    const norm = Math.hypot(...feature);
    return norm > 0 ? feature.map((v) => v / norm) : null;
  }
}

/** The picture's pixels as BGR bytes, reduced to at most DETECTION_SIDE on its long side
 * by area averaging (cv2.INTER_AREA); the scale to undo. */
export function lookedAt(source) {
  const width = source.width;
  const height = source.height;
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.drawImage(source, 0, 0);
  const rgba = context.getImageData(0, 0, width, height).data;
  const longest = Math.max(width, height);
  if (longest <= DETECTION_SIDE) {
    const bgr = new Uint8Array(width * height * 3);
    for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
      bgr[j] = rgba[i + 2];
      bgr[j + 1] = rgba[i + 1];
      bgr[j + 2] = rgba[i];
    }
    return { image: { width, height, bgr }, scale: 1 };
  }
  const scale = DETECTION_SIDE / longest;
  const outW = Math.max(1, Math.round(width * scale));
  const outH = Math.max(1, Math.round(height * scale));
  return { image: { width: outW, height: outH, bgr: areaReduce(rgba, width, height, outW, outH) }, scale };
}

/** OpenCV's area table for one axis: for each output index, [source index, weight]s. */
function areaTable(size, outSize) {
  const step = size / outSize;
  const table = [];
  for (let d = 0; d < outSize; d++) {
    const from = d * step;
    const to = from + step;
    const cell = Math.min(step, size - from);
    let first = Math.ceil(from);
    let last = Math.min(Math.floor(to), size - 1);
    first = Math.min(first, last);
    const parts = [];
    if (first - from > 1e-3) parts.push([first - 1, (first - from) / cell]);
    for (let s = first; s < last; s++) parts.push([s, 1 / cell]);
    if (to - last > 1e-3) parts.push([last, Math.min(Math.min(to - last, 1), cell) / cell]);
    table.push(parts);
  }
  return table;
}

function areaReduce(rgba, width, height, outW, outH) {
  const across = areaTable(width, outW);
  const down = areaTable(height, outH);
  const rows = new Float32Array(height * outW * 3); // each source row reduced across
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < outW; x++) {
      let b = 0, g = 0, r = 0;
      for (const [s, w] of across[x]) {
        const at = (y * width + s) * 4;
        r += rgba[at] * w;
        g += rgba[at + 1] * w;
        b += rgba[at + 2] * w;
      }
      const to = (y * outW + x) * 3;
      rows[to] = b;
      rows[to + 1] = g;
      rows[to + 2] = r;
    }
  }
  const bgr = new Uint8Array(outW * outH * 3);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW * 3; x++) {
      let sum = 0;
      for (const [s, w] of down[y]) sum += rows[s * outW * 3 + x] * w;
      bgr[y * outW * 3 + x] = Math.min(255, Math.max(0, Math.round(sum)));
    }
  }
  return bgr;
}

/** YuNet's outputs as OpenCV's rows: x, y, w, h, five landmarks, score. */
function decode(outputs, padW, padH) {
  const rows = [];
  STRIDES.forEach((stride) => {
    const cols = Math.floor(padW / stride);
    const lines = Math.floor(padH / stride);
    const cls = outputs["cls_" + stride].data;
    const obj = outputs["obj_" + stride].data;
    const bbox = outputs["bbox_" + stride].data;
    const kps = outputs["kps_" + stride].data;
    for (let r = 0; r < lines; r++) {
      for (let c = 0; c < cols; c++) {
        const i = r * cols + c;
        const clamp = (v) => Math.min(1, Math.max(0, v));
        const score = Math.sqrt(clamp(cls[i]) * clamp(obj[i]));
        if (score < MIN_CONFIDENCE) continue;
        const cx = (c + bbox[i * 4]) * stride;
        const cy = (r + bbox[i * 4 + 1]) * stride;
        const w = Math.exp(bbox[i * 4 + 2]) * stride;
        const h = Math.exp(bbox[i * 4 + 3]) * stride;
        const row = [cx - w / 2, cy - h / 2, w, h];
        for (let n = 0; n < 5; n++) {
          row.push((kps[i * 10 + 2 * n] + c) * stride, (kps[i * 10 + 2 * n + 1] + r) * stride);
        }
        row.push(score);
        rows.push(row);
      }
    }
  });
  return rows;
}

/** cv2.dnn.NMSBoxes on whole-pixel boxes: the most confident first, dropping any box
 * overlapping a kept one by more than NMS_THRESHOLD (intersection over union). */
function suppress(rows) {
  const order = rows
    .map((row, index) => ({ row, index }))
    .filter(({ row }) => row[14] > MIN_CONFIDENCE)
    .sort((a, b) => b.row[14] - a.row[14] || a.index - b.index)
    .slice(0, TOP_K);
  const box = (row) => row.slice(0, 4).map((v) => Math.trunc(v));
  const kept = [];
  for (const { row } of order) {
    const [ax, ay, aw, ah] = box(row);
    const overlaps = kept.some((other) => {
      const [bx, by, bw, bh] = box(other);
      const w = Math.min(ax + aw, bx + bw) - Math.max(ax, bx);
      const h = Math.min(ay + ah, by + bh) - Math.max(ay, by);
      const both = w > 0 && h > 0 ? w * h : 0;
      const union = aw * ah + bw * bh - both;
      return union > 0 && both / union > NMS_THRESHOLD;
    });
    if (!overlaps) kept.push(row);
  }
  return kept;
}

/** The similarity transform (rotation, uniform scale, shift) taking the five landmarks
 * closest to SFace's reference points: [a, -b, tx; b, a, ty]. */
export function similarityTransform(landmarks) {
  const points = [0, 1, 2, 3, 4].map((k) => [landmarks[2 * k], landmarks[2 * k + 1]]);
  const mean = [0, 1].map((axis) => points.reduce((sum, p) => sum + p[axis], 0) / 5);
  let dot = 0, cross = 0, spread = 0;
  points.forEach(([x, y], k) => {
    const sx = x - mean[0], sy = y - mean[1];
    const dx = REFERENCE[k][0] - REFERENCE_MEAN[0], dy = REFERENCE[k][1] - REFERENCE_MEAN[1];
    dot += sx * dx + sy * dy;
    cross += sx * dy - sy * dx;
    spread += sx * sx + sy * sy;
  });
  const a = dot / spread, b = cross / spread;
  const tx = REFERENCE_MEAN[0] - (a * mean[0] - b * mean[1]);
  const ty = REFERENCE_MEAN[1] - (b * mean[0] + a * mean[1]);
  return [a, -b, tx, b, a, ty];
}

/** The 112x112 BGR crop of a face (warpAffine, bilinear, black outside the picture). */
export function alignCrop(image, row) {
  const [a, c, tx, b, d, ty] = similarityTransform(row.slice(4, 14));
  const det = a * d - c * b; // the inverse map: crop pixel -> picture pixel
  const ia = d / det, ic = -c / det, ib = -b / det, id = a / det;
  const itx = -(ia * tx + ic * ty), ity = -(ib * tx + id * ty);
  const { width, height, bgr } = image;
  const crop = new Uint8Array(CROP * CROP * 3);
  const pixel = (x, y, channel) =>
    x >= 0 && y >= 0 && x < width && y < height ? bgr[(y * width + x) * 3 + channel] : 0;
  for (let y = 0; y < CROP; y++) {
    for (let x = 0; x < CROP; x++) {
      // OpenCV places the source point on a 1/32-pixel grid.
      const sx = Math.round((ia * x + ic * y + itx) * 32) / 32;
      const sy = Math.round((ib * x + id * y + ity) * 32) / 32;
      const x0 = Math.floor(sx), y0 = Math.floor(sy);
      const fx = sx - x0, fy = sy - y0;
      for (let channel = 0; channel < 3; channel++) {
        const top = pixel(x0, y0, channel) * (1 - fx) + pixel(x0 + 1, y0, channel) * fx;
        const bottom = pixel(x0, y0 + 1, channel) * (1 - fx) + pixel(x0 + 1, y0 + 1, channel) * fx;
        crop[(y * CROP + x) * 3 + channel] = Math.round(top * (1 - fy) + bottom * fy);
      }
    }
  }
  return crop;
}
