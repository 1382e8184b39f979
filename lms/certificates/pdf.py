"""The certificate as a PDF (A4, German like the programme): tier, name, modules with their DigComp 2.2
competences and levels, attended live tutorials, date, chamber, the award id and the verification URL with a QR
code.

fpdf2 writes the PDF and segno the QR code (both pure Python from PyPI). The font is DejaVu Sans, shipped in
``lms/certificates/fonts/`` (licence beside it): a Unicode TTF, so names in any Latin, Greek or Cyrillic
spelling print; fpdf2 embeds only the glyphs used. Nothing is fetched at run time.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from zoneinfo import ZoneInfo

import segno
from babel.dates import format_date
from fpdf import FPDF

from lms.certificates.queries import Certificate

FONTS = Path(__file__).resolve().parent / "fonts"
FONT = "DejaVuSans"
INK = (29, 35, 39)
MUTED = (74, 85, 96)
ACCENT = (11, 92, 173)
RULE = (213, 219, 225)
PAGE_W, PAGE_H = 210.0, 297.0
MARGIN = 20.0
FOOTER_H = 46.0


def level_band(level: int) -> str:
    return {1: "grundlegend", 2: "grundlegend", 3: "selbstständig", 4: "selbstständig"}.get(
        level, "fortgeschritten" if level <= 6 else "hoch spezialisiert"
    )


def render(cert: Certificate, verify_url: str, timezone: str = "Europe/Berlin") -> bytes:
    """The certificate's PDF."""
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=MARGIN)
    pdf.add_font(FONT, "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_lang("de")
    pdf.set_title(f"Zertifikat: {cert.tier_title}")
    pdf.set_author(cert.chamber_name)
    pdf.set_subject("medienwerk – Qualifizierung der Botschafter*innen des Handwerks")
    pdf.set_creator("medienwerk")
    pdf.set_creation_date(cert.issued_at.astimezone(dt.UTC))
    pdf.add_page()
    width = PAGE_W - 2 * MARGIN

    # a calm band on top, the programme's name, the title
    pdf.set_fill_color(*ACCENT)
    pdf.rect(0, 0, PAGE_W, 7, style="F")
    pdf.set_y(15)
    _text(pdf, 9.5, MUTED, "medienwerk · Botschafter*innen des Handwerks", width)
    pdf.ln(5)
    _text(pdf, 24, INK, "Zertifikat", width, bold=True, height=11)
    pdf.ln(1)
    _text(pdf, 10, MUTED, "Qualifizierungsstufe", width, height=5)
    _text(pdf, 18, ACCENT, cert.tier_title, width, bold=True, height=8.5)
    pdf.ln(3)
    if cert.name:
        _text(pdf, 10, MUTED, "erreicht von", width, height=5)
        _text(pdf, 16, INK, cert.name, width, bold=True, height=7.5)
        pdf.ln(3)
    intro = (
        f"hat im Qualifizierungsprogramm medienwerk der Kammer „{cert.chamber_name}“ alle Lerneinheiten, "
        "Selbstchecks und Praxisaufgaben der folgenden Module abgeschlossen"
    )
    intro += f" und {_tutorials(cert.tutorials_attended)} besucht." if cert.tutorials_attended else "."
    _text(pdf, 10, INK, intro, width, height=5.2)
    pdf.ln(4)

    # modules with their competences
    _rule(pdf)
    pdf.ln(3)
    _text(pdf, 11, INK, "Module und Kompetenzen nach DigComp 2.2", width, bold=True, height=5.6)
    _text(pdf, 8, MUTED, "In Klammern: die Kompetenzstufe (1 bis 8), auf die das Modul zielt.", width, height=4)
    pdf.ln(1.5)
    for number, module in enumerate(cert.modules, start=1):
        if pdf.get_y() > PAGE_H - MARGIN - 18:
            pdf.add_page()
        _text(pdf, 9.5, INK, f"{number}. {module.title} (Version {module.version})", width, bold=True, height=4.8)
        competences = " · ".join(f"{c.id} {c.label}\u00a0({c.level})" for c in module.competences)
        if competences:
            _text(pdf, 8, MUTED, competences, width, height=3.8)
        pdf.ln(1.4)
    _text(
        pdf,
        9.5,
        INK,
        f"Besuchte Live-Tutorials in BigBlueButton: {cert.tutorials_attended}",
        width,
        height=4.8,
    )

    # date, chamber, id, verification
    if pdf.get_y() > PAGE_H - MARGIN - FOOTER_H:
        pdf.add_page()
    top = max(pdf.get_y() + 6, PAGE_H - MARGIN - FOOTER_H)
    pdf.set_y(top)
    _rule(pdf)
    qr_size = 34.0
    text_w = width - qr_size - 6
    pdf.set_y(top + 4)
    issued = format_date(cert.issued_at.astimezone(ZoneInfo(timezone)).date(), "long", locale="de")
    column = text_w * 0.4
    _text(pdf, 8, MUTED, "Ausgestellt am", column, height=4)
    _text(pdf, 10, INK, issued, column, bold=True, height=5.2)
    pdf.set_y(top + 4)
    _text(pdf, 8, MUTED, "Ausstellende Kammer", text_w - column, x=MARGIN + column, height=4)
    _text(pdf, 10, INK, cert.chamber_name, text_w - column, x=MARGIN + column, bold=True, height=5.2)
    pdf.ln(1.5)
    _text(pdf, 8, MUTED, "Zertifikat-Nr.", text_w, height=4)
    _text(pdf, 10, INK, cert.id, text_w, bold=True, height=5.2)
    pdf.ln(1.5)
    _text(pdf, 8, MUTED, "Echtheit prüfen (QR-Code oder Adresse):", text_w, height=4)
    _text(pdf, 8, ACCENT, verify_url, text_w, height=4, link=verify_url)
    qr = segno.make(verify_url, error="m")
    image = io.BytesIO()
    qr.save(image, kind="png", scale=8, border=2, dark="#1d2327")
    image.seek(0)
    pdf.image(image, x=PAGE_W - MARGIN - qr_size, y=top + 4, w=qr_size, h=qr_size, alt_text="QR-Code: " + verify_url)
    pdf.set_auto_page_break(False)  # the small print sits in the bottom margin
    pdf.set_y(PAGE_H - 13)
    _text(
        pdf,
        7,
        MUTED,
        "DigComp 2.2: Europäischer Referenzrahmen für digitale Kompetenzen (Gemeinsame Forschungsstelle der "
        "Europäischen Kommission, CC BY 4.0). Dieses Zertifikat gibt es auch als Open Badge 3.0.",
        width,
        height=3.4,
    )
    return bytes(pdf.output())


def _tutorials(count: int) -> str:
    return "ein Live-Tutorial" if count == 1 else f"{count} Live-Tutorials"


def _text(
    pdf: FPDF,
    size: float,
    color: tuple[int, int, int],
    text: str,
    width: float,
    *,
    bold: bool = False,
    height: float | None = None,
    link: str = "",
    x: float = MARGIN,
) -> None:
    pdf.set_font(FONT, "B" if bold else "", size)
    pdf.set_text_color(*color)
    pdf.set_x(x)
    pdf.multi_cell(width, height or size * 0.5, text, align="L", new_x="LMARGIN", new_y="NEXT", link=link)


def _rule(pdf: FPDF) -> None:
    pdf.set_draw_color(*RULE)
    pdf.set_line_width(0.3)
    y = pdf.get_y()
    pdf.line(MARGIN, y, PAGE_W - MARGIN, y)
