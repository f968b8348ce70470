// PDQ perceptual hash in the browser, written from the published algorithm (Meta's
// "The TMK+PDQF and PDQ algorithms" paper): luminance, two passes of Jarosz box filters,
// a 64x64 sample grid, a 16x16 DCT, bits above the median, and a quality from gradients.
// The result is the same 64-hex text the server prints (`shieldwall hash`), to within a few
// bits for decoders that differ slightly. Nothing here sends anything anywhere.
"use strict";

(function (root) {
  const GRID = 64;
  const SIDE = 16;

  // Rows 1..16 of the 64-point DCT-II (the constant row 0 is skipped), scaled as PDQ does.
  const DCT = (function () {
    const matrix = new Float64Array(SIDE * GRID);
    const scale = Math.sqrt(2 / GRID);
    for (let i = 0; i < SIDE; i++) {
      for (let j = 0; j < GRID; j++) {
        matrix[i * GRID + j] = scale * Math.cos((Math.PI / 2 / GRID) * (i + 1) * (2 * j + 1));
      }
    }
    return matrix;
  })();

  function luminance(rgba, count) {
    const luma = new Float64Array(count);
    for (let p = 0, q = 0; p < count; p++, q += 4) {
      luma[p] = 0.299 * rgba[q] + 0.587 * rgba[q + 1] + 0.114 * rgba[q + 2];
    }
    return luma;
  }

  // The filter window along a side: about the side over 128, at least 1.
  function windowSize(length) {
    return Math.floor((length + 2 * GRID - 1) / (2 * GRID));
  }

  // One box-filter pass along `count` lines of `length` values, `stride` apart within a
  // line and `step` apart between lines. Near the ends only the values inside are
  // averaged; an even window reaches one value further forward than back.
  function boxPass(values, length, count, stride, step, window) {
    const half = Math.floor((window + 2) / 2);
    const back = window - half;
    const line = new Float64Array(length);
    const sums = new Float64Array(length + 1);
    for (let n = 0; n < count; n++) {
      const base = n * step;
      for (let k = 0; k < length; k++) line[k] = values[base + k * stride];
      for (let k = 0; k < length; k++) sums[k + 1] = sums[k] + line[k];
      for (let k = 0; k < length; k++) {
        const low = Math.max(k - back, 0);
        const high = Math.min(k + half - 1, length - 1);
        values[base + k * stride] = (sums[high + 1] - sums[low]) / (high - low + 1);
      }
    }
  }

  function grid64(luma, width, height) {
    const rowsWindow = windowSize(width);
    const colsWindow = windowSize(height);
    for (let pass = 0; pass < 2; pass++) {
      boxPass(luma, width, height, 1, width, rowsWindow); // along each row
      boxPass(luma, height, width, width, 1, colsWindow); // along each column
    }
    const grid = new Float64Array(GRID * GRID);
    for (let i = 0; i < GRID; i++) {
      const y = Math.floor(((i + 0.5) * height) / GRID);
      for (let j = 0; j < GRID; j++) {
        const x = Math.floor(((j + 0.5) * width) / GRID);
        grid[i * GRID + j] = luma[y * width + x];
      }
    }
    return grid;
  }

  function quality(grid) {
    let sum = 0;
    for (let i = 0; i < GRID - 1; i++) {
      for (let j = 0; j < GRID; j++) {
        sum += Math.abs(Math.trunc(((grid[i * GRID + j] - grid[(i + 1) * GRID + j]) * 100) / 255));
      }
    }
    for (let i = 0; i < GRID; i++) {
      for (let j = 0; j < GRID - 1; j++) {
        sum += Math.abs(Math.trunc(((grid[i * GRID + j] - grid[i * GRID + j + 1]) * 100) / 255));
      }
    }
    return Math.min(100, Math.floor(sum / 90));
  }

  function dct16(grid) {
    const half = new Float64Array(SIDE * GRID); // DCT * grid
    for (let i = 0; i < SIDE; i++) {
      for (let j = 0; j < GRID; j++) {
        let total = 0;
        for (let k = 0; k < GRID; k++) total += DCT[i * GRID + k] * grid[k * GRID + j];
        half[i * GRID + j] = total;
      }
    }
    const out = new Float64Array(SIDE * SIDE); // (DCT * grid) * DCT^T
    for (let i = 0; i < SIDE; i++) {
      for (let j = 0; j < SIDE; j++) {
        let total = 0;
        for (let k = 0; k < GRID; k++) total += half[i * GRID + k] * DCT[j * GRID + k];
        out[i * SIDE + j] = total;
      }
    }
    return out;
  }

  // Bits above the median, written as the server writes them: the last coefficient first,
  // most significant bit first within each hex digit.
  function toHex(coefficients) {
    const sorted = Array.from(coefficients).sort((a, b) => a - b);
    const median = sorted[SIDE * SIDE / 2 - 1];
    let hex = "";
    for (let digit = 0; digit < 64; digit++) {
      let value = 0;
      for (let b = 0; b < 4; b++) {
        const index = SIDE * SIDE - 1 - (digit * 4 + b);
        value = (value << 1) | (coefficients[index] > median ? 1 : 0);
      }
      hex += value.toString(16);
    }
    return hex;
  }

  // PDQ of a 64x64 luminance grid (row by row): what PDQ hashes after its blur and sampling.
  function pdqFromGrid(grid) {
    return { hash: toHex(dct16(grid)), quality: quality(grid) };
  }

  // PDQ of RGBA pixels (an ImageData's data) of an image `width` x `height`.
  function pdqFromRgba(rgba, width, height) {
    const luma = luminance(rgba, width * height);
    return pdqFromGrid(grid64(luma, width, height));
  }

  // pdqFromGrid serves regions.js, which builds its grids from a reduced image.
  root.ShieldwallPdq = { pdqFromRgba: pdqFromRgba, pdqFromGrid: pdqFromGrid, GRID: GRID };
})(typeof window !== "undefined" ? window : globalThis);
