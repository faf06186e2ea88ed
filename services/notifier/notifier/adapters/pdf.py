"""Lays out the household letter as a PDF with fpdf2, in an embedded TrueType font (DejaVu Sans).

fpdf2's core fonts are Latin-1 only, so "Ayşe Yılmaz" or "Łukasz Wiśniewski" came out as "Ay?e Y?lmaz".
DejaVu Sans covers Latin Extended (Turkish, Polish, Czech, ...), Greek and Cyrillic; fpdf2 embeds only
the glyphs the letter uses. The font comes from Debian's fonts-dejavu-core (`make fonts` installs it
when missing; the notifier's Dockerfile installs it too); VT_LETTER_FONT_DIR points elsewhere.
"""

from __future__ import annotations

import datetime as dt
import os
import pathlib

from fpdf import FPDF

from notifier.domain.letter import LetterFacts, letter_paragraphs, salutation

DEFAULT_FONT_DIR = "/usr/share/fonts/truetype/dejavu"
FONT = "DejaVu"
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}


class FontMissing(RuntimeError):
    """The letter font is not installed: a configuration error of the machine, not of the letter."""


def font_dir() -> pathlib.Path:
    return pathlib.Path(os.environ.get("VT_LETTER_FONT_DIR", DEFAULT_FONT_DIR))


def _add_fonts(pdf: FPDF) -> None:
    directory = font_dir()
    for style, name in FONT_FILES.items():
        path = directory / name
        if not path.is_file():
            raise FontMissing(f"letter font {path} not found: install Debian's fonts-dejavu-core (make fonts) "
                              "or set VT_LETTER_FONT_DIR")
        pdf.add_font(FONT, style, str(path))


def render_letter(facts: LetterFacts, compress: bool = True) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_compression(compress)
    _add_fonts(pdf)
    # Deterministic output: the same letter renders to the same bytes.
    pdf.set_creation_date(dt.datetime.combine(facts.letter_date, dt.time(9, 0), tzinfo=dt.UTC))
    pdf.set_title(f"{facts.region_name} - kenmerk {facts.reference}")
    pdf.set_author(facts.region_name)
    pdf.set_margins(20, 20, 20)
    pdf.add_page()
    # Letterhead: the region's name from tenant configuration.
    pdf.set_font(FONT, "B", 16)
    pdf.cell(0, 9, facts.region_name, new_x="LMARGIN", new_y="NEXT")
    pdf.set_draw_color(200, 40, 40)
    pdf.set_line_width(0.8)
    pdf.line(20, pdf.get_y() + 1, 190, pdf.get_y() + 1)
    pdf.ln(6)
    # Address block: the addressee only.
    pdf.set_font(FONT, "", 11)
    for line in (facts.addressee.name, *facts.address.lines()):
        pdf.cell(0, 5.5, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    pdf.set_font(FONT, "", 10)
    pdf.cell(0, 5, f"Datum: {facts.letter_date.strftime('%d-%m-%Y')}", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 5, f"Kenmerk: {facts.reference}", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 5, "Onderwerp: er is een melding over u gedaan", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font(FONT, "", 11)
    pdf.multi_cell(0, 6, salutation(facts), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    for heading, text in letter_paragraphs(facts):
        pdf.set_font(FONT, "B", 11)
        pdf.multi_cell(0, 6, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT, "", 11)
        pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    pdf.ln(4)
    pdf.multi_cell(0, 6, f"Met vriendelijke groet,\n\n{facts.region_name}", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
