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

from notifier.domain.letter import VT_PHONE, LetterFacts, letter_paragraphs, rights_paragraphs, salutation

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
    """A4: letterhead with the free phone number, the address block where a window envelope shows it, date and
    kenmerk, the letter (one page), then the short rights section in a grey box (on the same page when it fits)."""
    pdf = FPDF(format="A4")
    pdf.set_compression(compress)
    _add_fonts(pdf)
    # Deterministic output: the same letter renders to the same bytes.
    pdf.set_creation_date(dt.datetime.combine(facts.letter_date, dt.time(9, 0), tzinfo=dt.UTC))
    pdf.set_title(f"{facts.region_name} - kenmerk {facts.reference}")
    pdf.set_author(facts.region_name)
    pdf.set_margins(20, 15, 20)
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    width = pdf.epw
    # Letterhead: the region's name (tenant configuration) and the national number, free, day and night.
    pdf.set_font(FONT, "B", 15)
    pdf.cell(width * 0.6, 8, facts.region_name)
    pdf.set_font(FONT, "", 9)
    pdf.multi_cell(width * 0.4, 4.5, f"Bel gratis: {VT_PHONE}\ndag en nacht bereikbaar", align="R",
                   new_x="LMARGIN", new_y="NEXT")
    pdf.set_draw_color(200, 40, 40)
    pdf.set_line_width(0.8)
    pdf.line(20, pdf.get_y() + 1, 190, pdf.get_y() + 1)
    # Address block: the addressee only, at the window of a DL envelope (about 45 mm from the top).
    pdf.set_y(45)
    pdf.set_font(FONT, "", 11)
    for line in (facts.addressee.name, *facts.address.lines()):
        pdf.cell(0, 5.5, line, new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(max(pdf.get_y() + 10, 75))
    pdf.set_font(FONT, "", 10)
    for label, value in (("Datum", facts.letter_date.strftime("%d-%m-%Y")), ("Kenmerk", facts.reference),
                         ("Onderwerp", "er is een melding gedaan bij Veilig Thuis")):
        pdf.cell(25, 5, label)
        pdf.cell(0, 5, value, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font(FONT, "", 10.5)
    pdf.multi_cell(0, 5.5, salutation(facts), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1.5)
    for heading, text in letter_paragraphs(facts):
        pdf.set_font(FONT, "B", 10.5)
        pdf.multi_cell(0, 5.5, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT, "", 10.5)
        pdf.multi_cell(0, 5.5, text, align="L", new_x="LMARGIN", new_y="NEXT")  # ragged right reads easier
        pdf.ln(1.5)
    pdf.ln(2)
    pdf.multi_cell(0, 5.5, f"Met vriendelijke groet,\n{facts.region_name}", new_x="LMARGIN", new_y="NEXT")
    # The rights section: on this page when it fits, else at the top of the next.
    rights = rights_paragraphs(facts)
    needed = 8 + 4.8 * (len(rights) + 2)
    if pdf.get_y() + 6 + needed > pdf.h - 15:
        pdf.add_page()
    else:
        pdf.ln(6)
    pdf.set_fill_color(240, 240, 240)
    pdf.set_font(FONT, "B", 10)
    pdf.cell(0, 6, "  Uw rechten", fill=True, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 9.5)
    pdf.multi_cell(0, 4.8, "\n".join(f"•  {line}" for line in rights), fill=True, padding=(1, 3, 2, 3),
                   new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
