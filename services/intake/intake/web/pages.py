"""HTML of the meldformulier: Jinja2 templates (web/templates/, autoescape on for every template), no
third-party assets. Accessibility lives in the templates: a label for every input, fieldset/legend for
groups, errors linked with aria-describedby and flagged with aria-invalid, an error summary that takes
focus, lang="nl". Every page carries the quick exit, 112, 0800-2000 and the privacy link (base.html)."""

from __future__ import annotations

import pathlib
from collections.abc import Mapping
from typing import Any

import jinja2

from intake.domain import rules
from intake.web.forms import (
    AFWEGINGSKADER,
    MAX_PERSONS,
    MELDCODE_STEPS,
    MELDER_TYPES,
    NATURES,
    ROLES,
    SITUATIONS,
    WITHHOLD_GROUNDS,
    FormData,
    dutch_number,
)

Errors = Mapping[str, str]  # form field name -> Dutch message ("" = the form as a whole)

# The neutral site "Verlaat deze pagina" goes to: a plain search page, nothing about violence or help.
NEUTRAL_URL = "https://www.google.nl/"

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(pathlib.Path(__file__).with_name("templates")),
    autoescape=True,  # every template, also .css/.js includes (they print no values)
    undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
_env.globals.update(
    neutral_url=NEUTRAL_URL, melder_types=MELDER_TYPES, withhold_grounds=WITHHOLD_GROUNDS, situations=SITUATIONS,
    roles=ROLES, natures=NATURES, afwegingskader=AFWEGINGSKADER, meldcode_steps=MELDCODE_STEPS,
    max_persons=MAX_PERSONS, narrative_limit=dutch_number(rules.text_limit("narrative")),
    question_limit=dutch_number(rules.text_limit("question")))


def render(template: str, *, title: str, org: str, nonce: str, **context: Any) -> str:
    return _env.get_template(template).render(title=title, org=org, nonce=nonce, **context)


def form_context(form: FormData, errors: Errors, form_key: str = "", csrf: str = "", **extra: Any) -> dict[str, Any]:
    return {"form": form, "errors": dict(errors), "form_key": form_key, "csrf": csrf, **extra}
