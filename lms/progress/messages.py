"""What the pages say about a form value that was not accepted (``lms.progress.services.InputError``)."""

from __future__ import annotations

from typing import Any

from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l

from lms.progress.models import COMMENT_MAX, LINK_MAX, TEXT_MAX
from lms.progress.services import InputError


class _Number:
    """A number written the way the page's language writes it ("2.000" / "2,000") when the message is shown."""

    def __init__(self, value: int) -> None:
        self.value = value

    def __str__(self) -> str:
        return str(format_decimal(self.value, format="#,##0"))


INPUT_MESSAGES: dict[tuple[str, str], Any] = {
    ("link", "empty"): _l("Bitte gib einen Link ein."),
    ("link", "too_long"): _l("Der Link ist zu lang: höchstens %(max)s Zeichen.", max=_Number(LINK_MAX)),
    ("link", "invalid"): _l(
        "Das ist kein gültiger Link. Er beginnt mit https:// oder http://, "
        "zum Beispiel https://www.example.org/mein-video."
    ),
    ("text", "empty"): _l("Bitte schreib deinen Text in das Feld."),
    ("text", "too_long"): _l("Dein Text ist zu lang: höchstens %(max)s Zeichen.", max=_Number(TEXT_MAX)),
    ("checklist", "incomplete"): _l("Bitte hake alle Punkte der Checkliste ab. Erst dann kannst du abgeben."),
    ("comment", "empty"): _l("Bitte schreib einen Kommentar: Was soll die*der Botschafter*in noch ändern?"),
    ("comment", "too_long"): _l("Der Kommentar ist zu lang: höchstens %(max)s Zeichen.", max=_Number(COMMENT_MAX)),
}


def input_message(error: InputError) -> Any:
    """A readable message for the field and reason of `error`."""
    return INPUT_MESSAGES.get((error.field, error.code), _l("Bitte prüfe deine Eingabe."))
