"""The short notices the guard posts in a group after removing something. They say what
happened and why in general terms, never what the image showed or who posted it, and they
are posted without a notification sound. The language is the group's, set by its admins
(`telegram_language`): the Bot API does not say what language a group speaks."""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class Notice(StrEnum):
    """Why something was removed."""

    BLOCKED = "blocked"  # the image just posted matches confirmed material
    SWEPT = "swept"  # earlier posts matched material confirmed since
    UNCHECKED = "unchecked"  # fail-closed: the image could not be checked


_TEXTS: Final[dict[str, dict[Notice, str]]] = {
    "en": {
        Notice.BLOCKED: "An image was removed from this chat because it matches material "
        "reported as shared without the consent of the person shown.",
        Notice.SWEPT: "Earlier posts in this chat were removed because they match material "
        "reported as shared without the consent of the person shown.",
        Notice.UNCHECKED: "An image was removed because it could not be checked just now. "
        "Please try sending it again later.",
    },
    "es": {
        Notice.BLOCKED: "Se ha eliminado una imagen de este chat porque coincide con "
        "material denunciado por compartirse sin el consentimiento de la persona que aparece.",
        Notice.SWEPT: "Se han eliminado publicaciones anteriores de este chat porque "
        "coinciden con material denunciado por compartirse sin el consentimiento de la "
        "persona que aparece.",
        Notice.UNCHECKED: "Se ha eliminado una imagen porque no se ha podido comprobar en "
        "este momento. Vuelve a enviarla más tarde.",
    },
    "ko": {
        Notice.BLOCKED: "당사자의 동의 없이 공유된 것으로 신고된 자료와 일치하여 이 채팅방에서 "
        "이미지를 삭제했습니다.",
        Notice.SWEPT: "당사자의 동의 없이 공유된 것으로 신고된 자료와 일치하여 이 채팅방의 "
        "이전 게시물을 삭제했습니다.",
        Notice.UNCHECKED: "지금은 이미지를 확인할 수 없어 삭제했습니다. 잠시 후 다시 보내 주세요.",
    },
}


def notice_text(notice: Notice, language: str) -> str:
    """The notice in the group's language (English if there is no translation)."""
    return _TEXTS.get(language, _TEXTS["en"])[notice]
