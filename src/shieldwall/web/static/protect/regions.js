// Region PDQ hashes in the browser, the same ones `shieldwall bank add` stores (the server's
// signals/regions.py and normalise/views.py are the reference), so that a cropped or partly
// covered copy of a reported image still matches. The regions come from the page's own
// origin (/protect/regions.json, one definition shared with the server); nothing here sends
// anything anywhere.
//
// As on the server, the image is first reduced by block averaging to the working size the
// server would look at it (a JPEG decoded at 1/2, 1/4 or 1/8 scale, then halved to about
// 768 pixels on its long side), and each region is cut from that at the same pixels:
// - a window (crop, zoom, cut, aspect crop) is hashed as PDQ hashes the cropped region at
//   full size: each of the 64x64 grid values PDQ samples after its two box-filter passes is
//   a fixed weighted sum of full-size pixels, read here from the blocks' means
//   (signals/pdq_pixels.py);
// - a band is hashed on PDQ's own 64x64 grid of cell means (RegionHasher.pdq_area);
// - so is a pair window, placed by two of the picture's landmarks (pairs.js).
"use strict";

(function (root) {
  const GRID = 64;
  // The server's reduction, as the region table states it (these are its defaults).
  const WORKING_LONG_SIDE = 768; // normalise/views.py
  const MIN_SHORT_SIDE = 512; // media/limits.py: the server's reduced decode keeps this
  const DRAFT_SCALES = [8, 4, 2]; // the DCT scales libjpeg decodes at

  const ceilDiv = (a, b) => Math.floor((a + b - 1) / b);

  // Python's round(): halves go to the even neighbour (Box.pixels uses it).
  function pyRound(x) {
    const floor = Math.floor(x);
    const rest = x - floor;
    if (rest > 0.5) return floor + 1;
    if (rest < 0.5) return floor;
    return floor % 2 === 0 ? floor : floor + 1;
  }

  // The size the server's decode has (media/decode.py) and the size it works on
  // (views.working_pixels), and the whole-pixel block that makes one working pixel here.
  function serverSizes(width, height, jpeg, table) {
    const minShort = (table && table.min_short_side) || MIN_SHORT_SIDE;
    const workingLong = (table && table.working_long_side) || WORKING_LONG_SIDE;
    let w = width;
    let h = height;
    let factor = 1;
    if (jpeg) {
      const scale = DRAFT_SCALES.find((s) => ceilDiv(Math.min(w, h), s) >= minShort) || 1;
      [w, h, factor] = [ceilDiv(w, scale), ceilDiv(h, scale), scale];
    }
    const reduce = Math.max(1, Math.floor(Math.min(w, h) / minShort));
    [w, h, factor] = [ceilDiv(w, reduce), ceilDiv(h, reduce), factor * reduce];
    const decoded = { width: w, height: h };
    const working = ceilDiv(Math.max(w, h), workingLong);
    if (working >= 2) {
      [w, h, factor] = [Math.max(1, Math.floor(w / working)), Math.max(1, Math.floor(h / working)), factor * working];
    }
    return { decoded: decoded, width: w, height: h, block: factor };
  }

  // Luminance block means: `block` x `block` full-size pixels make one working pixel
  // (pixels past the last whole block join it, as the server's reductions spread them).
  async function reduceLuma(rgba, width, height, sizes, slices) {
    const { width: w, height: h, block } = sizes;
    const sums = new Float64Array(w * h);
    const counts = new Float64Array(w * h);
    for (let y = 0; y < height; y++) {
      if (y % 64 === 0) await slices.yieldIfDue();
      const row = Math.min(Math.floor(y / block), h - 1) * w;
      let q = y * width * 4;
      for (let x = 0; x < width; x++, q += 4) {
        const cell = row + Math.min(Math.floor(x / block), w - 1);
        sums[cell] += 0.299 * rgba[q] + 0.587 * rgba[q + 1] + 0.114 * rgba[q + 2];
        counts[cell] += 1;
      }
    }
    const luma = new Float32Array(w * h);
    for (let i = 0; i < luma.length; i++) luma[i] = counts[i] ? sums[i] / counts[i] : 0;
    return luma;
  }

  // Box.pixels: a box of fractions as whole working pixels, never empty.
  function boxPixels(box, width, height) {
    const left = Math.min(pyRound(box[0] * width), width - 1);
    const top = Math.min(pyRound(box[1] * height), height - 1);
    const right = Math.max(pyRound(box[2] * width), left + 1);
    const bottom = Math.max(pyRound(box[3] * height), top + 1);
    return [left, top, right, bottom];
  }

  // Weights of full-size pixels in each of the 64 grid points along one side of `full`
  // pixels: PDQ's two box-filter passes, then its sample points (pdq_pixels._full_taps).
  function fullTaps(full) {
    const window = Math.floor((full + 2 * GRID - 1) / (2 * GRID));
    const half = Math.floor((window + 2) / 2);
    const low = (i) => Math.max(i - (window - half), 0);
    const high = (i) => Math.min(i + half - 1, full - 1);
    const count = (i) => high(i) - low(i) + 1;
    const taps = [];
    for (let g = 0; g < GRID; g++) {
      const centre = Math.trunc(((g + 0.5) * full) / GRID);
      const start = low(low(centre));
      const steps = new Float64Array(high(high(centre)) - start + 2);
      for (let p = low(centre); p <= high(centre); p++) {
        const share = 1 / (count(centre) * count(p));
        steps[low(p) - start] += share;
        steps[high(p) + 1 - start] -= share;
      }
      const weights = new Float64Array(steps.length - 1);
      let running = 0;
      for (let k = 0; k < weights.length; k++) weights[k] = running += steps[k];
      taps.push({ start: start, weights: weights });
    }
    return taps;
  }

  // The same weights gathered per working pixel of a region `reduced` pixels long whose
  // pixel k covers full-size pixels [edges[k], edges[k + 1]).
  const tapCache = new Map();
  function blockTaps(full, reduced, block) {
    const key = full + ":" + reduced + ":" + block;
    if (tapCache.has(key)) return tapCache.get(key);
    const taps = fullTaps(full).map(({ start, weights }) => {
      const first = Math.min(Math.floor(start / block), reduced - 1);
      const last = Math.min(Math.floor((start + weights.length - 1) / block), reduced - 1);
      const gathered = new Float64Array(last - first + 1);
      for (let k = 0; k < weights.length; k++) {
        gathered[Math.min(Math.floor((start + k) / block), reduced - 1) - first] += weights[k];
      }
      return { first: first, weights: gathered };
    });
    if (tapCache.size > 256) tapCache.clear();
    tapCache.set(key, taps);
    return taps;
  }

  // Full-size pixels a run of working pixels [from, to) stands for along a side.
  function fullSpan(from, to, side, block, fullSide) {
    return (to === side ? fullSide : to * block) - from * block;
  }

  // The 64x64 grid PDQ samples from the full-size region under `box` (working pixels).
  function windowGrid(image, box) {
    const [left, top, right, bottom] = box;
    const { luma, width, block } = image;
    const cols = blockTaps(fullSpan(left, right, width, block, image.fullWidth), right - left, block);
    const rows = blockTaps(fullSpan(top, bottom, image.height, block, image.fullHeight), bottom - top, block);
    const across = right - left;
    const blurred = new Float64Array(GRID * across); // each grid row, across the region
    rows.forEach(({ first, weights }, i) => {
      for (let k = 0; k < weights.length; k++) {
        const base = (top + first + k) * width + left;
        const weight = weights[k];
        for (let x = 0; x < across; x++) blurred[i * across + x] += weight * luma[base + x];
      }
    });
    const grid = new Float64Array(GRID * GRID);
    for (let i = 0; i < GRID; i++) {
      cols.forEach(({ first, weights }, j) => {
        let total = 0;
        for (let k = 0; k < weights.length; k++) total += weights[k] * blurred[i * across + first + k];
        grid[i * GRID + j] = total;
      });
    }
    return grid;
  }

  // Summed-area table of the working luminance, one row and column of zeros first.
  function integral(image) {
    const { luma, width, height } = image;
    const table = new Float64Array((width + 1) * (height + 1));
    for (let y = 0; y < height; y++) {
      let run = 0;
      for (let x = 0; x < width; x++) {
        run += luma[y * width + x];
        table[(y + 1) * (width + 1) + x + 1] = table[y * (width + 1) + x + 1] + run;
      }
    }
    return table;
  }

  // First and one-past-last pixel of each of the 64 cells across [start, stop), never empty.
  function cellEdges(start, stop) {
    const first = new Int32Array(GRID);
    const last = new Int32Array(GRID);
    for (let i = 0; i < GRID; i++) {
      first[i] = start + Math.floor((i * (stop - start)) / GRID);
      last[i] = Math.max(start + Math.floor(((i + 1) * (stop - start)) / GRID), first[i] + 1);
    }
    return [first, last];
  }

  // The mean of each of 64x64 cells of a box (regions._cell_means).
  function bandGrid(image, box) {
    const table = image.integral || (image.integral = integral(image));
    const stride = image.width + 1;
    const [x0, x1] = cellEdges(box[0], box[2]);
    const [y0, y1] = cellEdges(box[1], box[3]);
    const grid = new Float32Array(GRID * GRID);
    for (let i = 0; i < GRID; i++) {
      for (let j = 0; j < GRID; j++) {
        const sum =
          table[y1[i] * stride + x1[j]] - table[y1[i] * stride + x0[j]] -
          table[y0[i] * stride + x1[j]] + table[y0[i] * stride + x0[j]];
        grid[i * GRID + j] = sum / ((y1[i] - y0[i]) * (x1[j] - x0[j]));
      }
    }
    return grid;
  }

  // regions.aspect_regions: centred crops to the shapes apps use, when they cut enough.
  function aspectWindows(aspects, width, height) {
    const windows = [];
    for (const [across, down] of aspects.shapes) {
      const ratio = across / down / (width / height);
      const [spanX, spanY] = ratio < 1 ? [ratio, 1] : [1, 1 / ratio];
      const least = Math.min(spanX, spanY);
      if (least <= 1 - aspects.min_cut && least >= aspects.min_span) {
        const box = [(1 - spanX) / 2, (1 - spanY) / 2, (1 + spanX) / 2, (1 + spanY) / 2];
        windows.push({ name: aspects.prefix + across + "x" + down, box: box });
      }
    }
    return windows;
  }

  // Hand the page back its turn (input, painting) between slices of work; a message port,
  // unlike a timer, is not slowed to once a second in a background tab.
  function pause() {
    return new Promise((resolve) => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => resolve();
      channel.port2.postMessage(null);
    });
  }

  // Work in slices of about `budget` ms, handing the page back its turn between them.
  function slicer(budget) {
    let since = performance.now();
    return {
      async yieldIfDue() {
        if (performance.now() - since > budget) {
          await pause();
          since = performance.now();
        }
      },
    };
  }

  // A working view of RGBA pixels: the reduced luminance and how it maps to full size.
  async function workingImage(rgba, width, height, jpeg, slices, table) {
    const sizes = serverSizes(width, height, jpeg, table);
    return {
      luma: await reduceLuma(rgba, width, height, sizes, slices),
      width: sizes.width,
      height: sizes.height,
      block: sizes.block,
      fullWidth: width,
      fullHeight: height,
      decoded: sizes.decoded,
      integral: null,
    };
  }

  // PDQ of the whole image and of its regions: {pdq: {hash, quality}, regions: [{variant,
  // pdq, quality}]} keeping regions of quality >= the table's floor, as the bank does.
  // `jpeg` says whether the server would decode it as a JPEG (at a reduced DCT scale).
  async function hashImage(rgba, width, height, table, jpeg, budgetMs) {
    const slices = slicer(budgetMs === undefined ? 12 : budgetMs);
    const image = await workingImage(rgba, width, height, jpeg, slices, table);
    const pdq = root.ShieldwallPdq;
    const whole = pdq.pdqFromGrid(windowGrid(image, [0, 0, image.width, image.height]));
    const regions = [];
    if (!table || Math.min(image.decoded.width, image.decoded.height) < table.min_side) {
      return { pdq: whole, regions: regions };
    }
    const jobs = [
      ...[...table.windows, ...aspectWindows(table.aspects, width, height)].map((w) => [w, windowGrid]),
      ...table.bands.map((band) => [band, bandGrid]),
    ];
    for (const [region, gridOf] of jobs) {
      await slices.yieldIfDue();
      const hashed = pdq.pdqFromGrid(gridOf(image, boxPixels(region.box, image.width, image.height)));
      if (hashed.quality >= table.min_quality && regions.length < table.max_regions) {
        regions.push({ variant: region.name, pdq: hashed.hash, quality: hashed.quality });
      }
    }
    if (table.pairs && root.ShieldwallPairs) {
      const pairs = [];
      for (const pair of await root.ShieldwallPairs.pairWindows(image, table.pairs, slices)) {
        if (pairs.length >= table.pairs.max_pairs) break;
        await slices.yieldIfDue();
        const hashed = pdq.pdqFromGrid(bandGrid(image, boxPixels(pair.box, image.width, image.height)));
        if (hashed.quality >= table.min_quality) {
          pairs.push({ variant: pair.name, pdq: hashed.hash, quality: hashed.quality });
        }
      }
      regions.push(...pairs);
    }
    return { pdq: whole, regions: regions };
  }

  // The region table, fetched once from the page's own origin; null when unavailable (the
  // whole-image hash and the digests still protect the image; the next image asks again).
  let tablePromise = null;
  function loadTable() {
    tablePromise =
      tablePromise ||
      fetch("/protect/regions.json", { credentials: "omit" })
        .then((response) => (response.ok ? response.json() : null))
        .catch(() => null)
        .then((table) => {
          if (!table) tablePromise = null;
          return table;
        });
    return tablePromise;
  }

  root.ShieldwallRegions = {
    hashImage: hashImage,
    loadTable: loadTable,
    serverSizes: serverSizes,
    pyRound: pyRound,
  };
})(typeof window !== "undefined" ? window : globalThis);
