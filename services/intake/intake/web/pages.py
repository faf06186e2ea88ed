"""HTML of the meldformulier: one layout (string.Template), small field builders, no third-party
assets. Every value is escaped here; accessibility: a label for every input, fieldset/legend for
groups, errors linked with aria-describedby and flagged with aria-invalid, lang="nl"."""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from html import escape

from intake.web.forms import (
    AFWEGINGSKADER,
    FORM_LEVEL,
    MELDCODE_STEPS,
    MELDER_TYPES,
    NATURES,
    PERSON_BLOCKS,
    ROLES,
    SITUATIONS,
    WITHHOLD_GROUNDS,
    FormData,
)

Errors = Mapping[str, str]  # form field name -> Dutch message ("" = the form as a whole)

CSS = """
*{box-sizing:border-box}body{margin:0;font:1.05rem/1.5 system-ui,sans-serif;color:#1b1b1b;background:#fff}
header{background:#3b1f5c;color:#fff;padding:.8rem 1rem}header p{margin:0;font-weight:700}
main{max-width:46rem;margin:0 auto;padding:1rem}main:focus{outline:none}
a{color:#3b1f5c}a:focus,input:focus,select:focus,textarea:focus,button:focus{outline:3px solid #ffbf47;outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;padding:.4rem;z-index:1}
fieldset{border:1px solid #888;border-radius:4px;margin:0 0 1.4rem;padding:.6rem 1rem}
legend{font-weight:700;padding:0 .3rem}
.field{margin:0 0 1rem}.field label{display:block;font-weight:600}
.option{margin:.3rem 0;display:flex;gap:.5rem;align-items:flex-start}.option label{font-weight:400}
input[type=text],input[type=email],input[type=tel],input[type=date],select,textarea{width:100%;padding:.45rem;
border:2px solid #555;border-radius:3px;font:inherit}
input[type=radio],input[type=checkbox]{width:1.3rem;height:1.3rem;margin-top:.15rem}
.hint{color:#505050;margin:.1rem 0 .3rem}
.invalid{border-left:5px solid #b10e1e;padding-left:.8rem}
.invalid input,.invalid select,.invalid textarea{border-color:#b10e1e}
.error{color:#b10e1e;font-weight:700;margin:.2rem 0}
.summary{border:4px solid #b10e1e;padding:.8rem 1rem;margin:0 0 1.5rem}
.panel{background:#1d6b3a;color:#fff;padding:1.2rem;border-radius:4px;text-align:center}
.panel .ref{font-size:1.8rem;font-weight:700;letter-spacing:.05em;margin:.3rem 0}
button{font:inherit;font-weight:700;background:#1d6b3a;color:#fff;border:0;border-radius:3px;padding:.7rem 1.4rem;cursor:pointer}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
"""

LAYOUT = string.Template("""<!DOCTYPE html>
<html lang="nl">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title - $org</title>
<style nonce="$nonce">$css</style>
</head>
<body>
<a class="skip" href="#inhoud">Direct naar de inhoud</a>
<header><p>$org</p></header>
<main id="inhoud" tabindex="-1">
$body
</main>
</body>
</html>
""")


def page(title: str, org: str, body: str, nonce: str) -> str:
    return LAYOUT.substitute(title=escape(title), org=escape(org), body=body, nonce=escape(nonce), css=CSS)


# -- field builders ------------------------------------------------------------------------------------


def _error_p(name: str, errors: Errors) -> str:
    if name not in errors:
        return ""
    return f'<p class="error" id="{name}-fout"><span class="visually-hidden">Fout: </span>{escape(errors[name])}</p>'


def _described(name: str, errors: Errors, hint: str) -> str:
    ids = ([f"{name}-hint"] if hint else []) + ([f"{name}-fout"] if name in errors else [])
    attrs = f' aria-describedby="{" ".join(ids)}"' if ids else ""
    return attrs + (' aria-invalid="true"' if name in errors else "")


def _hint(name: str, hint: str) -> str:
    return f'<p class="hint" id="{name}-hint">{escape(hint)}</p>' if hint else ""


def _wrap(name: str, errors: Errors, inner: str) -> str:
    return f'<div class="field{" invalid" if name in errors else ""}">{inner}</div>'


def text(form: FormData, errors: Errors, name: str, label: str, *, kind: str = "text", hint: str = "",
         autocomplete: str = "", required: bool = False) -> str:
    auto = f' autocomplete="{autocomplete}"' if autocomplete else ""
    req = ' aria-required="true"' if required else ""
    field = (f'<input type="{kind}" id="{name}" name="{name}" value="{escape(form.get(name, ""))}"'
             f'{auto}{req}{_described(name, errors, hint)}>')
    return _wrap(name, errors, f'<label for="{name}">{escape(label)}</label>{_hint(name, hint)}'
                               f'{_error_p(name, errors)}{field}')


def textarea(form: FormData, errors: Errors, name: str, label: str, *, hint: str = "") -> str:
    field = (f'<textarea id="{name}" name="{name}" rows="6"{_described(name, errors, hint)}>'
             f'{escape(form.get(name, ""))}</textarea>')
    return _wrap(name, errors, f'<label for="{name}">{escape(label)}</label>{_hint(name, hint)}'
                               f'{_error_p(name, errors)}{field}')


def select(form: FormData, errors: Errors, name: str, label: str, options: Sequence[tuple[str, str]]) -> str:
    chosen = form.get(name, "")
    opts = "".join(f'<option value="{escape(v)}"{" selected" if v == chosen else ""}>{escape(t)}</option>'
                   for v, t in options)
    field = f'<select id="{name}" name="{name}"{_described(name, errors, "")}>{opts}</select>'
    return _wrap(name, errors, f'<label for="{name}">{escape(label)}</label>{_error_p(name, errors)}{field}')


def choices(form: FormData, errors: Errors, name: str, legend: str, options: Sequence[tuple[str, str]], *,
            multiple: bool = False, hint: str = "") -> str:
    """A radio group (one choice) or checkbox group (several) in a fieldset with a legend."""
    kind = "checkbox" if multiple else "radio"
    chosen = set(form.getall(name))
    flag = ' aria-invalid="true"' if name in errors else ""
    items = "".join(
        f'<div class="option"><input type="{kind}" id="{name}-{v}" name="{name}" value="{escape(v)}"'
        f'{" checked" if v in chosen else ""}{flag}><label for="{name}-{v}">{escape(t)}</label></div>'
        for v, t in options)
    ids = ([f"{name}-hint"] if hint else []) + ([f"{name}-fout"] if name in errors else [])
    described = f' aria-describedby="{" ".join(ids)}"' if ids else ""
    invalid = " invalid" if name in errors else ""
    return (f'<fieldset id="{name}" class="group{invalid}"{described}>'
            f'<legend>{escape(legend)}</legend>{_hint(name, hint)}{_error_p(name, errors)}{items}</fieldset>')


def checkbox(form: FormData, errors: Errors, name: str, label: str) -> str:
    checked = " checked" if form.checked(name) else ""
    return (f'<div class="option"><input type="checkbox" id="{name}" name="{name}" value="ja"{checked}'
            f'{_described(name, errors, "")}><label for="{name}">{escape(label)}</label></div>{_error_p(name, errors)}')


def _summary(errors: Errors) -> str:
    if not errors:
        return ""
    items = "".join(f'<li><a href="#{escape(name)}">{escape(msg)}</a></li>' if name else f"<li>{escape(msg)}</li>"
                    for name, msg in errors.items())
    return (f'<div class="summary" role="alert" aria-labelledby="fouten-titel"><h2 id="fouten-titel">'
            f'Er is een probleem</h2><ul>{items}</ul></div>')


def _hidden(form_key: str, csrf: str) -> str:
    return (f'<input type="hidden" name="formulier" value="{escape(form_key)}">'
            f'<input type="hidden" name="csrf" value="{escape(csrf)}">')


def _identity_fields(form: FormData, errors: Errors, what: str) -> str:
    return ("<fieldset><legend>Uw gegevens</legend>"
            + text(form, errors, "naam", "Naam", autocomplete="name", required=True)
            + text(form, errors, "functie", "Functie", hint="Bijvoorbeeld leerkracht, wijkverpleegkundige of huisarts.",
                   autocomplete="organization-title")
            + text(form, errors, "organisatie", "Organisatie", autocomplete="organization")
            + text(form, errors, "telefoon", "Telefoonnummer", kind="tel", autocomplete="tel",
                   hint=f"Vul een telefoonnummer of e-mailadres in, zodat Veilig Thuis u over uw {what} kan bereiken.")
            + text(form, errors, "email", "E-mailadres", kind="email", autocomplete="email")
            + "</fieldset>")


# -- pages ---------------------------------------------------------------------------------------------


def index_body(org: str) -> str:
    return (f"<h1>Melden of advies vragen bij {escape(org)}</h1>"
            "<p>Maakt u zich zorgen over huiselijk geweld of kindermishandeling? Bij direct gevaar belt u 112.</p>"
            '<ul><li><a href="melding">Een melding doen</a>: u geeft uw naam en contactgegevens; Veilig Thuis '
            "neemt daarna de zorg voor de veiligheid over of ondersteunt u.</li>"
            '<li><a href="advies">Advies vragen</a>: u blijft zelf verantwoordelijk voor de volgende stappen. '
            "Er worden geen gegevens van gezinsleden vastgelegd.</li></ul>")


def melding_body(form: FormData, errors: Errors, form_key: str, csrf: str) -> str:
    persons = ""
    for block in PERSON_BLOCKS:
        optional = " (niet verplicht)" if block > 1 else ""
        p = f"p{block}_"
        persons += (f"<fieldset><legend>Betrokkene {block}{optional}</legend>"
                    + select(form, errors, p + "rol", "Rol", ROLES)
                    + text(form, errors, p + "bsn", "BSN", hint="9 cijfers. Weet u het BSN niet, vul dan hieronder "
                           "achternaam, voornamen, geboortedatum, postcode en huisnummer in.")
                    + text(form, errors, p + "achternaam", "Achternaam")
                    + text(form, errors, p + "voornamen", "Voornamen")
                    + text(form, errors, p + "geboortedatum", "Geboortedatum", hint="Bijvoorbeeld 31-12-2015.")
                    + text(form, errors, p + "postcode", "Postcode")
                    + text(form, errors, p + "huisnummer", "Huisnummer")
                    + "</fieldset>")
    afweging = "".join(checkbox(form, errors, name, question) for name, question, _ in AFWEGINGSKADER)
    return ("<h1>Een melding doen</h1>"
            "<p>Een melding neemt Veilig Thuis alleen aan met uw naam en contactgegevens. "
            'Wilt u onbekend blijven? <a href="advies">Vraag dan advies</a>.</p>'
            + _summary(errors)
            + '<form method="post" action="melding" novalidate>' + _hidden(form_key, csrf)
            + choices(form, errors, "melder_type", "U meldt als", MELDER_TYPES)
            + _identity_fields(form, errors, "melding")
            + "<fieldset><legend>Uw naam en het gezin</legend>"
            + checkbox(form, errors, "toestemming", "Omstander: ik geef uitdrukkelijk toestemming om mijn naam aan "
                       "het gezin bekend te maken")
            + select(form, errors, "reden_niet_noemen", "Professional: reden om uw naam niet aan het gezin te noemen",
                     WITHHOLD_GROUNDS)
            + "</fieldset>"
            + choices(form, errors, "situatie", "Wie zorgt voor de veiligheid?", SITUATIONS)
            + persons
            + text(form, errors, "huishouden", "Huishouden", hint="Bijvoorbeeld: moeder, vader en twee kinderen.")
            + choices(form, errors, "aard", "Waar maakt u zich zorgen over?", NATURES, multiple=True,
                      hint="Kies alles wat van toepassing is.")
            + "<fieldset><legend>Spoed</legend>"
            + checkbox(form, errors, "acuut", "Er is acuut gevaar (Veilig Thuis pakt de melding dan vandaag op)")
            + "</fieldset>"
            + f"<fieldset><legend>Afwegingskader: kruis aan wat met ja beantwoord wordt</legend>{afweging}</fieldset>"
            + textarea(form, errors, "verhaal", "Wat is er aan de hand?", hint="Beschrijf wat u heeft gezien of gehoord.")
            + '<button type="submit">Melding versturen</button></form>')


def advies_body(form: FormData, errors: Errors, form_key: str, csrf: str) -> str:
    afweging = "".join(checkbox(form, errors, name, question) for name, question, _ in AFWEGINGSKADER)
    return ("<h1>Advies vragen</h1>"
            "<p>Een advies aan een professional wordt op uw naam geregistreerd; over de betrokkenen vragen we "
            "niets. Als omstander mag u anoniem blijven.</p>"
            + _summary(errors)
            + '<form method="post" action="advies" novalidate>' + _hidden(form_key, csrf)
            + choices(form, errors, "melder_type", "U vraagt advies als", MELDER_TYPES)
            + _identity_fields(form, errors, "adviesvraag")
            + checkbox(form, errors, "toestemming", "Omstander: Veilig Thuis mag mijn gegevens bewaren")
            + textarea(form, errors, "vraag", "Uw vraag", hint="Noem geen namen of andere gegevens van de betrokkenen.")
            + choices(form, errors, "stappen", "Welke stappen van de meldcode heeft u al gezet?", MELDCODE_STEPS,
                      multiple=True)
            + f"<fieldset><legend>Afwegingskader: kruis aan wat met ja beantwoord wordt</legend>{afweging}</fieldset>"
            + '<button type="submit">Advies vragen</button></form>')


def confirmation_body(what: str, reference: str, same_day: bool) -> str:
    urgent = ("<p><strong>U gaf aan dat er acuut gevaar is: Veilig Thuis pakt uw melding vandaag nog op.</strong> "
              "Bij direct gevaar belt u 112.</p>") if same_day else ""
    return (f"<h1>Uw {escape(what)} is ontvangen</h1>"
            f'<div class="panel" role="status"><p>Uw referentienummer</p>'
            f'<p class="ref" id="referentie">{escape(reference)}</p></div>'
            + urgent
            + "<p>Bewaar dit nummer en noem het als u contact opneemt met Veilig Thuis. "
              "Veilig Thuis neemt contact met u op.</p>"
            + '<p><a href="./">Terug naar het begin</a></p>')


def form_errors(field: str, message: str) -> dict[str, str]:
    return {field or FORM_LEVEL: message}
