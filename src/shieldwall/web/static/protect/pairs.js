// Pair windows in the browser, the same ones `shieldwall bank add` stores (the server's
// signals/pairs.py is the reference): squares placed by two of the picture's landmarks, so
// that a zoomed-in crop of a reported image, cut anywhere, still matches. The parameters
// come from the region table's `pairs` section (one definition shared with the server).
//
// Landmarks are extrema of a difference-of-Gaussians scale space on the working luminance,
// averaged down by a whole factor to at most `detection_long_side`; the strongest, spread
// apart, are paired when they lie between `span` short sides apart, and each pair's square
// (centred between them, as wide as they are apart) is hashed on PDQ's 64x64 grid of cell
// means, like a band.
"use strict";

(function (root) {
  // Python's round(), as regions.js has it (loaded after this file, used when hashing).
  const pyRound = (x) => root.ShieldwallRegions.pyRound(x);

  // pairs._kernel: Gaussian weights over 3 sigma each side, summing to one, as float32.
  function kernel(sigma) {
    const radius = Math.max(1, Math.ceil(3 * sigma));
    const weights = new Float64Array(2 * radius + 1);
    let total = 0;
    for (let k = -radius; k <= radius; k++) total += weights[k + radius] = Math.exp(-(k * k) / (2 * sigma * sigma));
    return Float32Array.from(weights, (w) => w / total);
  }

  // Mirror an index into [0, n) without repeating the edge (OpenCV's BORDER_REFLECT_101).
  function mirror(i, n) {
    if (n === 1) return 0;
    while (i < 0 || i >= n) i = i < 0 ? -i : 2 * n - 2 - i;
    return i;
  }

  // pairs._blur: separable Gaussian blur, rows then columns (the mirror only at the edges).
  function blur(image, width, height, sigma) {
    const weights = kernel(sigma);
    const radius = (weights.length - 1) / 2;
    const across = new Float32Array(width * height);
    for (let y = 0; y < height; y++) {
      const row = y * width;
      for (let x = 0; x < width; x++) {
        let total = 0;
        if (x >= radius && x + radius < width) {
          for (let k = -radius; k <= radius; k++) total += weights[k + radius] * image[row + x + k];
        } else {
          for (let k = -radius; k <= radius; k++) total += weights[k + radius] * image[row + mirror(x + k, width)];
        }
        across[row + x] = total;
      }
    }
    const out = new Float32Array(width * height);
    for (let y = 0; y < height; y++) {
      const inside = y >= radius && y + radius < height;
      for (let x = 0; x < width; x++) {
        let total = 0;
        if (inside) {
          for (let k = -radius; k <= radius; k++) total += weights[k + radius] * across[(y + k) * width + x];
        } else {
          for (let k = -radius; k <= radius; k++) total += weights[k + radius] * across[mirror(y + k, height) * width + x];
        }
        out[y * width + x] = total;
      }
    }
    return out;
  }

  // pairs.detection_image: the working luminance (0-1) averaged down by a whole factor.
  function detectionImage(image, longSide) {
    const { luma, width, height } = image;
    const factor = Math.max(1, Math.ceil(Math.max(width, height) / longSide));
    const w = Math.floor(width / factor);
    const h = Math.floor(height / factor);
    const out = new Float32Array(w * h);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let total = 0;
        for (let dy = 0; dy < factor; dy++) {
          for (let dx = 0; dx < factor; dx++) total += luma[(y * factor + dy) * width + x * factor + dx];
        }
        out[y * w + x] = total / (factor * factor) / 255;
      }
    }
    return { pixels: out, width: w, height: h, factor: factor };
  }

  // Whether `value` at index i of plane d is at least as large as (sign 1) or as small as
  // (sign -1) all 26 neighbours in scale space: its own plane's 8 first (_dogscan.c).
  function isExtreme(dog, d, width, i, value, sign) {
    for (const plane of [dog[d], dog[d - 1], dog[d + 1]]) {
      for (let dy = -width; dy <= width; dy += width) {
        for (let dx = -1; dx <= 1; dx++) {
          if (plane === dog[d] && dy === 0 && dx === 0) continue;
          const other = plane[i + dy + dx];
          if (sign > 0 ? other > value : other < value) return false;
        }
      }
    }
    return true;
  }

  // One octave's landmarks (signals/_dogscan.c): rows of x, y, level offset, response in
  // this octave's pixels.
  function octaveLandmarks(dog, width, height, params) {
    const floor = 0.8 * params.contrast;
    const edge = params.edge_ratio;
    const found = [];
    for (let level = 1; level < dog.length - 1; level++) {
      const here = dog[level];
      const below = dog[level - 1];
      const above = dog[level + 1];
      for (let y = 1; y < height - 1; y++) {
        for (let x = 1; x < width - 1; x++) {
          const i = y * width + x;
          const value = here[i];
          const sign = value > floor ? 1 : value < -floor ? -1 : 0;
          if (sign === 0 || !isExtreme(dog, level, width, i, value, sign)) continue;
          const dx = (here[i + 1] - here[i - 1]) / 2;
          const dy = (here[i + width] - here[i - width]) / 2;
          const ds = (above[i] - below[i]) / 2;
          const dxx = here[i + 1] + here[i - 1] - 2 * value;
          const dyy = here[i + width] + here[i - width] - 2 * value;
          const dss = above[i] + below[i] - 2 * value;
          const dxy = (here[i + width + 1] - here[i + width - 1] - here[i - width + 1] + here[i - width - 1]) / 4;
          const trace = dxx + dyy;
          const det = dxx * dyy - dxy * dxy;
          if (!(det > 0 && trace * trace * edge < (edge + 1) ** 2 * det)) continue;
          const clip = (v) => Math.min(0.5, Math.max(-0.5, v));
          const ox = clip(dxx !== 0 ? -dx / dxx : 0);
          const oy = clip(dyy !== 0 ? -dy / dyy : 0);
          const os = clip(dss !== 0 ? -ds / dss : 0);
          const response = Math.abs(value + 0.5 * (dx * ox + dy * oy + ds * os));
          if (response >= params.contrast) found.push([x + ox, y + oy, level + os, response]);
        }
      }
    }
    return found;
  }

  // pairs.landmarks: the `count` strongest landmarks, spread apart, in working pixels.
  async function landmarks(image, params, count, slices) {
    const detection = detectionImage(image, params.detection_long_side);
    const step = 2 ** (1 / params.intervals);
    let { width, height } = detection;
    let plane = blur(detection.pixels, width, height, Math.sqrt(params.sigma0 ** 2 - params.input_blur ** 2));
    const found = [];
    for (let octave = 0; Math.min(width, height) >= params.min_octave_side; octave++) {
      const levels = [plane];
      for (let index = 1; index < params.intervals + 3; index++) {
        await slices.yieldIfDue();
        const before = params.sigma0 * step ** (index - 1);
        levels.push(blur(levels[levels.length - 1], width, height, before * Math.sqrt(step * step - 1)));
      }
      const dog = [];
      for (let k = 0; k + 1 < levels.length; k++) {
        dog.push(Float32Array.from(levels[k + 1], (v, i) => v - levels[k][i]));
      }
      await slices.yieldIfDue();
      const size = 2 ** octave;
      for (const [x, y, level, response] of octaveLandmarks(dog, width, height, params)) {
        // Each octave keeps every other pixel of the one before: pixel i is 2i there.
        found.push([x * size, y * size, params.sigma0 * step ** level * size, response]);
      }
      const source = levels[params.intervals];
      const halfWidth = Math.ceil(width / 2);
      const halfHeight = Math.ceil(height / 2);
      plane = new Float32Array(halfWidth * halfHeight);
      for (let y = 0; y < halfHeight; y++) {
        for (let x = 0; x < halfWidth; x++) plane[y * halfWidth + x] = source[2 * y * width + 2 * x];
      }
      [width, height] = [halfWidth, halfHeight];
    }
    found.sort((a, b) => b[3] - a[3] || a[0] - b[0] || a[1] - b[1]);
    const factor = detection.factor;
    const apart = params.spread * Math.min(image.width, image.height);
    const kept = [];
    for (const [x, y, sigma, response] of found) {
      const point = [(x + 0.5) * factor - 0.5, (y + 0.5) * factor - 0.5, sigma * factor, response];
      if (kept.every((k) => Math.hypot(point[0] - k[0], point[1] - k[1]) >= apart)) {
        kept.push(point);
        if (kept.length === count) break;
      }
    }
    return kept;
  }

  // pairs.pairs_of: pairs of landmarks `span` short sides apart, strongest first, each
  // with its square window as a box of fractions of the working image.
  function pairsOf(points, width, height, span) {
    const short = Math.min(width, height);
    const scored = [];
    for (let i = 0; i < points.length; i++) {
      for (let j = i + 1; j < points.length; j++) {
        const [p, q] = [points[i], points[j]].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        const pair = [p[0] / short, p[1] / short, q[0] / short, q[1] / short];
        const length = Math.hypot(pair[2] - pair[0], pair[3] - pair[1]);
        if (length >= span[0] && length <= span[1]) {
          scored.push({ strength: Math.min(points[i][3], points[j][3]), i: i, j: j, pair: pair, length: length });
        }
      }
    }
    scored.sort((a, b) => b.strength - a.strength || a.i - b.i || a.j - b.j);
    return scored;
  }

  // Pair.window: the pair's square as fractions of the picture, or null if not inside.
  function windowOf(pair, length, width, height) {
    const short = Math.min(width, height);
    const centreX = ((pair[0] + pair[2]) / 2) * short;
    const centreY = ((pair[1] + pair[3]) / 2) * short;
    const half = (length * short) / 2;
    const box = [(centreX - half) / width, (centreY - half) / height, (centreX + half) / width, (centreY + half) / height];
    if (box[0] < 0 || box[1] < 0 || box[2] > 1 || box[3] > 1 || half <= 0) return null;
    return box;
  }

  // The pair windows the bank keeps for a picture: [{name, box}] (box in fractions), in the
  // order the server hashes them; the caller hashes them and keeps the detailed ones.
  async function pairWindows(image, params, slices) {
    const points = await landmarks(image, params, params.landmarks, slices);
    const windows = [];
    for (const { pair } of pairsOf(points, image.width, image.height, params.span)) {
      // Placed where its name says (landmarks rounded to thousandths), as a lookup will.
      const named = pair.map((v) => pyRound(v * params.unit));
      const rounded = named.map((v) => v / params.unit);
      const length = Math.hypot(rounded[2] - rounded[0], rounded[3] - rounded[1]);
      const box = windowOf(rounded, length, image.width, image.height);
      if (box) windows.push({ name: params.prefix + named.join("-"), box: box });
    }
    return windows;
  }

  root.ShieldwallPairs = { pairWindows: pairWindows };
})(typeof window !== "undefined" ? window : globalThis);
