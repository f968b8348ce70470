"""Takedown notices as PDF, for platforms whose web form takes an upload (or for a support
centre's file): the same subject and body as the text notice, on A4, text only, never an
image of the content.

Latin text is set in DejaVu Sans, which ships inside matplotlib; Korean (and other CJK) text
needs a CJK font on the machine: Noto Sans CJK (Debian `fonts-noto-cjk`) or Nanum
(`fonts-nanum`). Without one, a notice holding CJK text is refused with a clear error
(UnavailableError) instead of a PDF full of empty boxes; the text export still works.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import matplotlib
from fpdf import FPDF

from shieldwall.errors import UnavailableError

CJK_FONTS: Final = (
    # (path, index of the Korean face in a collection)
    (Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"), 1),
    (Path("/usr/share/fonts/opentype/noto/NotoSansCJKkr-Regular.otf"), 0),
    (Path("/usr/share/fonts/truetype/nanum/NanumGothic.ttf"), 0),
    (Path("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc"), 1),  # Fedora, Arch
)
"""Where CJK fonts live on common Linux distributions, the first found is used."""
_MARGIN_MM: Final = 20
_LINE_MM: Final = 5.5


@dataclass(frozen=True)
class CjkFont:
    """A font file with Korean glyphs, and the face to use in it."""

    path: Path
    index: int


@functools.cache
def cjk_font() -> CjkFont | None:
    """The first CJK font installed on this machine, if any."""
    for path, index in CJK_FONTS:
        if path.is_file():
            return CjkFont(path, index)
    return None


def latin_font() -> Path:
    """DejaVu Sans, from matplotlib's own data."""
    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"


def needs_cjk(text: str) -> bool:
    """Whether the text holds Hangul, kana or CJK ideographs."""
    return any(
        "\u1100" <= ch <= "\u11ff"
        or "\u3000" <= ch <= "\u9fff"
        or "\uac00" <= ch <= "\ud7af"
        or "\uf900" <= ch <= "\ufaff"
        for ch in text
    )


def notice_pdf(subject: str, body: str) -> bytes:
    """The notice on A4: the subject as a heading, then the body line by line."""
    cjk = cjk_font()
    if cjk is None and needs_cjk(subject + body):
        raise UnavailableError(
            "no CJK font is installed for this notice's language (install fonts-noto-cjk); "
            "export it as text instead"
        )
    pdf = FPDF(format="A4")
    pdf.set_margins(_MARGIN_MM, _MARGIN_MM, _MARGIN_MM)
    pdf.set_auto_page_break(auto=True, margin=_MARGIN_MM)
    pdf.set_title(subject)
    pdf.set_creator("Shieldwall")
    pdf.add_font("latin", fname=latin_font())
    if cjk is not None:
        pdf.add_font("cjk", fname=cjk.path, collection_font_number=cjk.index)
        pdf.set_fallback_fonts(["cjk"])
    pdf.add_page()
    pdf.set_font("latin", size=13)
    pdf.multi_cell(0, _LINE_MM * 1.3, subject, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(_LINE_MM)
    pdf.set_font("latin", size=10.5)
    for line in body.splitlines():
        if line.strip():
            pdf.multi_cell(0, _LINE_MM, line, new_x="LMARGIN", new_y="NEXT")
        else:
            pdf.ln(_LINE_MM * 0.6)
    return bytes(pdf.output())
