"""Notices as PDF: the text of the notice in every template language, readable back out
of the file; CJK text without a CJK font is refused rather than printed as empty boxes."""

from __future__ import annotations

import io

import pypdf
import pytest

from shieldwall.errors import UnavailableError
from shieldwall.integrations import notice_pdf as module
from shieldwall.integrations.notice_pdf import cjk_font, needs_cjk, notice_pdf


def text_of(pdf: bytes) -> str:
    pages = pypdf.PdfReader(io.BytesIO(pdf)).pages
    text = " ".join(page.extract_text() for page in pages)
    return " ".join(text.replace("\x00", "").split())  # pypdf marks CID runs with NULs


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("Removal request — SW-AB12-CD34", "Location: https://examplegram.example/p/1"),
        ("Notificación de contenido ilícito", "Ubicación: https://formgram.example/v/ñ"),
        (
            "불법 콘텐츠 신고",
            "위치: https://chat.example/m/7\n\n이 신고에는 이미지가 첨부되지 않습니다.",
        ),
    ],
)
def test_the_notice_reads_back_from_the_pdf(subject: str, body: str) -> None:
    assert cjk_font() is not None, "install fonts-noto-cjk (.ci/run does)"
    pdf = notice_pdf(subject, body)
    assert pdf.startswith(b"%PDF-")
    assert pypdf.PdfReader(io.BytesIO(pdf)).metadata.title == subject  # type: ignore[union-attr]
    text = text_of(pdf).replace(" ", "")
    for line in (subject, *body.splitlines()):
        assert line.replace(" ", "") in text


def test_without_a_cjk_font_korean_is_refused_and_latin_still_works(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(module, "cjk_font", lambda: None)
    with pytest.raises(UnavailableError, match="fonts-noto-cjk"):
        notice_pdf("불법 콘텐츠 신고", "본문")
    assert "Removal request" in text_of(notice_pdf("Removal request", "Body"))
    assert needs_cjk("신고")
    assert needs_cjk("削除")
    assert not needs_cjk("señal — ü")
