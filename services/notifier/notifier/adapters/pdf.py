"""Lays out the household letter as a PDF with fpdf2 (core Helvetica, Latin-1 text)."""

from __future__ import annotations

import datetime as dt

from fpdf import FPDF

from notifier.domain.letter import LetterFacts, letter_paragraphs, salutation


def _latin1(text: str) -> str:
    # The core fonts are Latin-1 (covers Dutch, including ë and â); anything else becomes "?".
    return text.encode("latin-1", "replace").decode("latin-1")


def render_letter(facts: LetterFacts, compress: bool = True) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_compression(compress)
    # Deterministic output: the same letter renders to the same bytes.
    pdf.set_creation_date(dt.datetime.combine(facts.letter_date, dt.time(9, 0), tzinfo=dt.UTC))
    pdf.set_title(_latin1(f"{facts.region_name} - kenmerk {facts.reference}"))
    pdf.set_author(_latin1(facts.region_name))
    pdf.set_margins(20, 20, 20)
    pdf.add_page()
    # Letterhead: the region's name from tenant configuration.
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 9, _latin1(facts.region_name), new_x="LMARGIN", new_y="NEXT")
    pdf.set_draw_color(200, 40, 40)
    pdf.set_line_width(0.8)
    pdf.line(20, pdf.get_y() + 1, 190, pdf.get_y() + 1)
    pdf.ln(6)
    pdf.set_font("Helvetica", "", 10)
    pdf.cell(0, 5, _latin1(f"Datum: {facts.letter_date.strftime('%d-%m-%Y')}"), new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 5, _latin1(f"Kenmerk: {facts.reference}"), new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 5, "Onderwerp: er is een melding over u gedaan", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font("Helvetica", "", 11)
    pdf.multi_cell(0, 6, _latin1(salutation(facts)), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    for heading, text in letter_paragraphs(facts):
        pdf.set_font("Helvetica", "B", 11)
        pdf.multi_cell(0, 6, _latin1(heading), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 11)
        pdf.multi_cell(0, 6, _latin1(text), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    pdf.ln(4)
    pdf.multi_cell(0, 6, _latin1(f"Met vriendelijke groet,\n\n{facts.region_name}"), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
