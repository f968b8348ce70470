"""Face templates made in the browser (the enrolment page's faces.mjs on onnxruntime-web)
against the server's (OpenCV's FaceRecognizerSF, detection/faces.py) on the same photos,
and the enrolment time per photo in the browser.

A real `shieldwall serve` serves the page's scripts, onnxruntime-web and the rewritten
models; headless Chromium (one WebAssembly thread, as the page runs) makes the templates
of each photo, which the bench hands to the page from memory. Photos:
- every face photo of `../shared/data/faces` set on a grey margin as bench/face_roc.py does
  (PNG, 200-330 px: no reduction before detection);
- the first `--large` of them enlarged to 1600 px and saved as JPEG (quality 92): the page
  reduces them to 640 px by area averaging as the server does, and decodes the JPEG itself;
- the first `--scenes` BSDS500 photos (no faces: both sides should find none).
Prints how often both sides find the same number of faces, the cosine similarity of the
first face's templates (min, 1st percentile, mean; the issue asks >= 0.98), and the browser's
time per photo (detection, alignment and template; the models loaded once before).

    .venv/bin/python bench/enrol_browser.py [--large 100] [--scenes 50]
"""

from __future__ import annotations

import argparse
import io
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from face_roc import DEFAULT_FACES, SUFFIXES, prepared
from playwright.sync_api import Route, sync_playwright

from shieldwall.detection.faces import FaceAnalyser

DEFAULT_SCENES = Path(__file__).resolve().parents[2] / "shared" / "data" / "photos-bsds500"
CHROMIUM = os.environ.get("SHIELDWALL_CHROMIUM", "/usr/bin/chromium")

RUN_IN_PAGE = """async (names) => {
  const { FaceTemplates } = await import('/protect/static/faces.mjs');
  const faces = new FaceTemplates();
  const loading = performance.now();
  await faces.load();
  const loaded = performance.now() - loading;
  const results = [];
  for (const name of names) {
    const blob = await (await fetch('/bench-photo/' + name)).blob();
    const started = performance.now();
    const bitmap = await createImageBitmap(blob, { imageOrientation: 'from-image' });
    const found = await faces.faces(bitmap);
    const ms = performance.now() - started;
    results.push({ name, ms, templates: found.map((f) => f.template) });
  }
  return { loaded, results };
}"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _photos(faces_dir: Path, scenes_dir: Path, large: int, scenes: int) -> dict[str, bytes]:
    found = sorted(p for p in faces_dir.rglob("*") if p.suffix.lower() in SUFFIXES)
    photos: dict[str, bytes] = {}
    for at, path in enumerate(found):
        image = Image.fromarray(prepared(path))
        photos[f"face-{at:03d}.png"] = _encoded(image, "PNG")
        if at < large:
            factor = 1600 / max(image.size)
            bigger = image.resize(
                (round(image.width * factor), round(image.height * factor)),
                Image.Resampling.BICUBIC,
            )
            photos[f"large-{at:03d}.jpg"] = _encoded(bigger, "JPEG")
    for at, path in enumerate(sorted(scenes_dir.rglob("*.jpg"))[:scenes]):
        photos[f"scene-{at:03d}.jpg"] = path.read_bytes()
    return photos


def _encoded(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **({"quality": 92} if fmt == "JPEG" else {}))
    return out.getvalue()


def _serve(home: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**os.environ, "SHIELDWALL_HOME": str(home)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "shieldwall",
            "serve",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{url}/status/ready", timeout=2).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    raise SystemExit("the server did not start")


def _in_browser(url: str, photos: dict[str, bytes]) -> tuple[float, list[dict[str, object]]]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        # CSP bypassed only so that the bench can call the page's module from evaluate().
        page = browser.new_context(bypass_csp=True).new_page()

        def photo(route: Route) -> None:
            route.fulfill(body=photos[route.request.url.rsplit("/", 1)[1]])

        page.route("**/bench-photo/*", photo)
        page.goto(f"{url}/protect/enrol")
        answer = page.evaluate(RUN_IN_PAGE, list(photos))
        browser.close()
    return float(answer["loaded"]), list(answer["results"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--faces", type=Path, default=DEFAULT_FACES)
    parser.add_argument("--scenes-dir", type=Path, default=DEFAULT_SCENES)
    parser.add_argument("--large", type=int, default=100)
    parser.add_argument("--scenes", type=int, default=50)
    args = parser.parse_args()
    if not args.faces.is_dir() or not args.scenes_dir.is_dir():
        print("this bench needs ../shared/data (faces and photos-bsds500)")
        return 2
    photos = _photos(args.faces, args.scenes_dir, args.large, args.scenes)
    with tempfile.TemporaryDirectory() as home:
        process, url = _serve(Path(home))
        try:
            loaded, results = _in_browser(url, photos)
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=30)
    analyser = FaceAnalyser()
    report: dict[str, list[float]] = {"face": [], "large": [], "scene": []}
    times: dict[str, list[float]] = {"face": [], "large": [], "scene": []}
    same_count: dict[str, list[bool]] = {"face": [], "large": [], "scene": []}
    for result in results:
        name = str(result["name"])
        kind = name.split("-", 1)[0]
        pixels = np.asarray(Image.open(io.BytesIO(photos[name])).convert("RGB"))
        server = analyser.faces(pixels)
        made: list[list[float]] = result["templates"]  # type: ignore[assignment]
        browser = [np.asarray(t, np.float32) for t in made]
        times[kind].append(float(result["ms"]))  # type: ignore[arg-type]
        same_count[kind].append(len(server) == len(browser))
        if server and browser:
            report[kind].append(float(server[0].template @ browser[0]))
    print(f"models loaded in the browser in {loaded:.0f} ms (runtime, both models, first use)")
    print(
        "| photos | count | same number of faces | cosine min | p1 | mean | < 0.98 |"
        " ms/photo mean | p99 |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for kind, label in (
        ("face", "faces, 200-330 px PNG"),
        ("large", "faces enlarged to 1600 px, JPEG"),
        ("scene", "BSDS500 scenes, JPEG"),
    ):
        cos = np.asarray(report[kind]) if report[kind] else np.asarray([np.nan])
        ms = np.asarray(times[kind])
        print(
            f"| {label} | {len(ms)} | {sum(same_count[kind])} | {np.nanmin(cos):.4f} |"
            f" {np.nanpercentile(cos, 1):.4f} | {np.nanmean(cos):.5f} |"
            f" {int(np.sum(cos < 0.98))} | {ms.mean():.0f} | {np.percentile(ms, 99):.0f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
