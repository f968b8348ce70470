"""The face models rewritten for onnxruntime (and so onnxruntime-web): they load, keep
every weight (SFace gives OpenCV's own template), and YuNet takes any picture size."""

from __future__ import annotations

import numpy as np
import onnxruntime  # type: ignore[import-untyped]
import pytest
import skimage.data

from shieldwall.detection.browser_models import BROWSER_MODELS, browser_model
from shieldwall.detection.faces import FaceAnalyser, model_paths


def _session(name: str) -> onnxruntime.InferenceSession:
    content = browser_model(name).content
    return onnxruntime.InferenceSession(content, providers=["CPUExecutionProvider"])


def test_sface_in_onnxruntime_gives_opencvs_template() -> None:
    import cv2

    recogniser = cv2.FaceRecognizerSF.create(model_paths()[1], "")
    astronaut = cv2.cvtColor(skimage.data.astronaut(), cv2.COLOR_RGB2BGR)
    detector = cv2.FaceDetectorYN.create(model_paths()[0], "", (512, 512), 0.8, 0.3, 50)
    _, faces = detector.detect(astronaut)
    crop = recogniser.alignCrop(astronaut, faces[0])
    expected = np.asarray(recogniser.feature(crop), np.float32).reshape(-1)
    blob = cv2.dnn.blobFromImage(crop, 1.0, (112, 112), (0, 0, 0), swapRB=True, crop=False)
    [found] = _session("face-recogniser.onnx").run(None, {"data": blob})
    found = found.reshape(-1)
    cosine = float(found @ expected / np.linalg.norm(found) / np.linalg.norm(expected))
    assert cosine > 0.99999


def test_yunet_takes_a_picture_padded_to_a_multiple_of_32() -> None:
    session = _session("face-detector.onnx")
    assert [i.name for i in session.get_inputs()] == ["input"]  # no weights as inputs
    astronaut = skimage.data.astronaut()[:, :, ::-1].astype(np.float32)  # BGR
    picture = np.zeros((1, 3, 512, 544), np.float32)  # 544 = 512 padded past one more cell
    picture[0, :, :, :512] = astronaut.transpose(2, 0, 1)
    outputs = dict(
        zip(
            [o.name for o in session.get_outputs()],
            session.run(None, {"input": picture}),
            strict=True,
        )
    )
    cells = (512 // 8) * (544 // 8)
    assert outputs["cls_8"].shape == (1, cells, 1)
    score = np.sqrt(np.clip(outputs["cls_8"], 0, 1) * np.clip(outputs["obj_8"], 0, 1)).reshape(-1)
    best = int(score.argmax())
    row, column = divmod(best, 544 // 8)
    [face] = FaceAnalyser().faces(skimage.data.astronaut())
    left, top, width, height = face.box
    assert score[best] > 0.8
    assert left <= column * 8 <= left + width
    assert top <= row * 8 <= top + height


@pytest.mark.parametrize("name", sorted(BROWSER_MODELS))
def test_a_model_is_made_once_per_process(name: str) -> None:
    assert browser_model(name) is browser_model(name)
    assert len(browser_model(name).sha256) == 64
