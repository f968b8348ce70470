"""Takedown notices as text: the templates under notice_templates/ (one per legal basis
and language: `take_it_down.en.txt`, `dsa_art16.ko.txt`, ...), filled from a notice's
fields (takedown/notices.py). Plain text, for email or to paste into a platform's form;
never an attachment."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Final

from babel import Locale
from jinja2 import Environment, PackageLoader, StrictUndefined

from shieldwall.takedown.notices import NoticeFields

ROLES: Final = {
    "en": {"guardian": "parent or guardian", "representative": "authorised representative"},
    "es": {"guardian": "madre, padre o tutor legal", "representative": "representante autorizado"},
    "ko": {"guardian": "부모 또는 법정 보호자", "representative": "권한을 위임받은 대리인"},
}


@dataclass(frozen=True)
class NoticeText:
    """A notice ready to send or paste: its subject line and its body."""

    subject: str
    body: str


@functools.cache
def _templates() -> Environment:
    return Environment(
        loader=PackageLoader("shieldwall.integrations", "notice_templates"),
        autoescape=False,  # plain text, never HTML
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def notice_text(fields: NoticeFields) -> NoticeText:
    """The notice's subject and body in its language."""
    template = _templates().get_template(f"{fields.basis.value}.{fields.language}.txt")
    text = template.render(
        platform=fields.platform,
        location=fields.location,
        reference=fields.reference,
        signature=fields.signature,
        on_behalf=fields.on_behalf,
        role=ROLES[fields.language].get(fields.role, ""),
        minor=fields.minor,
        synthetic=fields.synthetic,
        country_name=Locale(fields.language).territories.get(fields.country, fields.country),
        submitter_name=fields.submitter_name,
        submitter_email=fields.submitter_email,
        contact=fields.contact,
        signed_on=fields.signed_on.strftime("%Y-%m-%d %H:%M UTC"),
    )
    head, _, body = text.partition("\n\n")
    return NoticeText(
        head.removeprefix("Subject:").removeprefix("Asunto:").removeprefix("제목:").strip(), body
    )


def notice_subject_and_body(fields: NoticeFields) -> tuple[str, str]:
    """The NoticeWriter the notice service uses."""
    text = notice_text(fields)
    return text.subject, text.body
