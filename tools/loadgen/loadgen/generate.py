"""A reproducible synthetic national load in the proportions of docs/domain.md section 9 (CBS 2023).

    from loadgen import LoadProfile, generate
    items = generate(1000, seed=7)                     # list[LoadItem], the same for the same seed

Proportions (each drawn independently per item, so a run of n items matches them within sampling noise):
- adviezen : meldingen = 143,210 : 127,340 (contacts; an advies carries no household data);
- melder: about 92% professional, the rest bystanders (assumption: the same share for adviezen and meldingen);
- police/justice: 85,590 of 127,340 meldingen (67.2%), all professional;
- region: 54% of contacts in the west (the Randstad regions below, as far as they are among the chosen tenants);
- repeat signals: about 28% of meldingen are about a child already seen in the same region;
- cross-region: about 3% of meldingen are about a child already seen in another region;
- acute: 10% of meldingen (assumption; docs/domain.md gives no national figure);
- RvdK signals: one per 20 meldingen, about a child already seen (assumption);
- verwijsindex registrations: one per 10 meldingen, by a professional about a child already seen (assumption).

A LoadItem of kind "melding" carries a vt.intake.v1 SubmitMeldingRequest, "advies" a RegisterAdviesRequest;
"rvdk" and "verwijsindex" items carry the child's BSN and the region (the caller builds the signal with
simulators.rvdk.build_signal or the verwijsindex request, which need keys or tokens).
"""

from __future__ import annotations

import random
import sys
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from simulators.rvdk import random_bsn
from vt.common.v1 import common_pb2
from vt.intake.v1 import intake_service_pb2
from vtkit.tenants import all_tenants

ADVIEZEN_2023 = 143_210
MELDINGEN_2023 = 127_340
POLICE_MELDINGEN_2023 = 85_590
CONTACTS_PER_YEAR = ADVIEZEN_2023 + MELDINGEN_2023  # 270,550

# The Randstad regions (Noord-Holland, Zuid-Holland, Utrecht); "west" in the CBS split.
WEST = frozenset({"noord-holland-noord", "zaanstreek-waterland", "kennemerland", "amsterdam-amstelland",
                  "gooi-en-vechtstreek", "haaglanden", "hollands-midden", "rotterdam-rijnmond",
                  "zuid-holland-zuid", "utrecht"})

NATURES = [common_pb2.CONCERN_NATURE_CHILD_ABUSE]


@dataclass(frozen=True)
class LoadProfile:
    advies_share: float = ADVIEZEN_2023 / CONTACTS_PER_YEAR
    professional_share: float = 0.92
    police_share_of_meldingen: float = POLICE_MELDINGEN_2023 / MELDINGEN_2023
    west_share: float = 0.54
    repeat_share: float = 0.28
    cross_region_share: float = 0.03
    acute_share: float = 0.10
    rvdk_per_melding: float = 1 / 20
    verwijsindex_per_melding: float = 1 / 10


@dataclass
class LoadItem:
    kind: str  # melding | advies | rvdk | verwijsindex
    tenant: str
    bsn: str = ""
    request: Any = None
    professional: bool = True
    police: bool = False
    acute: bool = False
    repeat: bool = False  # the child was seen before in this region
    cross_region: bool = False  # the child was seen before in another region
    attrs: dict[str, Any] = field(default_factory=dict)


def _professional(rng: random.Random, police: bool) -> intake_service_pb2.Professional:
    if police:
        return intake_service_pb2.Professional(name="Agent J. Bakker", role="wijkagent", organisation="Politie",
                                               phone="0900-8844", email="j.bakker@politie.example")
    name, role, organisation = rng.choice([
        ("Petra de Vries", "leerkracht", "Basisschool De Regenboog"),
        ("Sanne Jansen", "jeugdarts", "GGD"),
        ("Mehmet Yilmaz", "huisarts", "Huisartsenpraktijk Centrum"),
        ("Els Visser", "wijkverpleegkundige", "Buurtzorg"),
    ])
    return intake_service_pb2.Professional(name=name, role=role, organisation=organisation, phone="0201234567",
                                           email="melder@example.nl")


def build_melding(rng: random.Random, bsn: str, *, professional: bool, police: bool,
                  acute: bool) -> intake_service_pb2.SubmitMeldingRequest:
    melding = intake_service_pb2.Melding(
        melder_type=common_pb2.MELDER_TYPE_PROFESSIONAL if professional else common_pb2.MELDER_TYPE_BYSTANDER,
        disclosure=intake_service_pb2.Disclosure(),
        situation=intake_service_pb2.SITUATION_VT_TAKES_OVER,
        directbetrokkenen=[intake_service_pb2.Directbetrokkene(role=common_pb2.PERSON_ROLE_CHILD, bsn=bsn)],
        household_label="gezin",
        nature=NATURES,
        acute=acute,
        afwegingskader=intake_service_pb2.AfwegingskaderAnswers(suspicion=True, acute_or_structural_unsafety=True),
        narrative="Zorgen over de veiligheid van het kind thuis.",
    )
    if professional:
        melding.melder.CopyFrom(_professional(rng, police))
    else:  # a bystander must give a name for a melding (anonymous callers get an advies); consent is random
        melding.melder.CopyFrom(intake_service_pb2.Professional(name=rng.choice(["A. de Boer", "K. Mulder"]),
                                                                phone="0612345678"))
        melding.disclosure.bystander_consents = rng.random() < 0.5
    request = intake_service_pb2.SubmitMeldingRequest(idempotency_key=str(uuid.UUID(int=rng.getrandbits(128))),
                                                      melding=melding)
    _personalise_melding(request)
    return request


def build_advies(rng: random.Random, *, professional: bool) -> intake_service_pb2.RegisterAdviesRequest:
    asker = intake_service_pb2.Asker(type=common_pb2.MELDER_TYPE_PROFESSIONAL if professional
                                     else common_pb2.MELDER_TYPE_BYSTANDER)
    if professional:
        asker.identity.CopyFrom(_professional(rng, False))
    request = intake_service_pb2.RegisterAdviesRequest(
        idempotency_key=str(uuid.UUID(int=rng.getrandbits(128))), asker=asker,
        question="Hoe ga ik om met zorgen over een leerling?",
        afwegingskader=intake_service_pb2.AfwegingskaderAnswers(suspicion=True),
        outcome=intake_service_pb2.ADVIES_OUTCOME_ADVICE_AND_SUPPORT)
    if professional:
        _personalise_melder(request.asker.identity, random.Random(request.idempotency_key))
    return request


# -- realistic personal data --------------------------------------------------------------------------------------
# Each contact gets its own melder name, phone and e-mail, and a melding a second person known only by name, date
# of birth and address (the fallback identification) whose street address is also in the narrative, as in real
# meldingen. Drawn from a generator seeded with the contact's idempotency key, so the main stream of draws (and
# with it every proportion above) is the same as without them. personal_values() lists what a request carries,
# for the no-personal-data scanner (tests/e2e/test_no_personal_data_realistic_load.py).
FIRST_NAMES = ["Sanne", "Daan", "Fatima", "Lars", "Noor", "Mohammed", "Emma", "Sem", "Yara", "Bram", "Lotte",
               "Jayden", "Aylin", "Thijs", "Zeynep", "Ruben", "Iris", "Milan", "Sophie", "Anouk"]
SURNAMES = ["Jansen", "de Vries", "van den Berg", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder",
            "Bouzid", "Yilmaz", "van Dijk", "Hendriks", "Dekker", "Kaya", "Brouwer", "de Graaf", "Vermeulen"]
STREETS = ["Kerkstraat", "Dorpsstraat", "Molenweg", "Schoolstraat", "Julianalaan", "Beatrixstraat", "Stationsweg",
           "Parallelweg", "Eikenlaan", "Vondelstraat", "Lindenlaan", "Wilhelminastraat"]
CITIES = ["Utrecht", "Amsterdam", "Rotterdam", "Zwolle", "Arnhem", "Tilburg", "Leeuwarden", "Middelburg"]


def _name(rng: random.Random) -> tuple[str, str]:
    return rng.choice(FIRST_NAMES), rng.choice(SURNAMES)


def _personalise_melder(melder: intake_service_pb2.Professional, rng: random.Random) -> None:
    first, last = _name(rng)
    melder.name = f"{first} {last}"
    melder.phone = f"06{rng.randrange(10**8):08d}"
    domain = melder.organisation.lower().replace(" ", "") or "mail"
    melder.email = f"{first.lower()}.{last.replace(' ', '').lower()}{rng.randrange(1000)}@{domain}.example"


def _personalise_melding(request: intake_service_pb2.SubmitMeldingRequest) -> None:
    rng = random.Random(request.idempotency_key)
    melding = request.melding
    _personalise_melder(melding.melder, rng)
    first, last = _name(rng)
    postcode = f"{rng.randrange(1000, 10000)} {rng.choice('ABCDEFGHJKLMNPRSTVWXZ')}{rng.choice('ABCDEFGHJKLMNPRSTVWXZ')}"
    number = str(rng.randrange(1, 300))
    born = common_pb2.Date(year=rng.randrange(1970, 2000), month=rng.randrange(1, 13), day=rng.randrange(1, 29))
    melding.directbetrokkenen.append(intake_service_pb2.Directbetrokkene(
        role=common_pb2.PERSON_ROLE_SUSPECT, surname=last, first_names=first, date_of_birth=born,
        postcode=postcode, house_number=number))
    melding.narrative = (f"{melding.narrative} Het gezin woont aan de {rng.choice(STREETS)} {number}, {postcode} "
                         f"{rng.choice(CITIES)}; {first} {last} is de vader.")


def personal_values(item: LoadItem) -> list[str]:
    """Every personal value an item's request carries, in the form it was sent: BSNs, person and melder names,
    street addresses, postcodes, phone numbers and e-mail addresses."""
    import re

    values: list[str] = [item.bsn] if item.bsn else []
    request = item.request
    if request is None:
        return values
    if isinstance(request, intake_service_pb2.RegisterAdviesRequest):
        melders = [request.asker.identity]
        persons: list[intake_service_pb2.Directbetrokkene] = []
        narrative = ""
    else:
        melders, persons, narrative = [request.melding.melder], list(request.melding.directbetrokkenen), \
            request.melding.narrative
    for melder in melders:
        values += [melder.name, melder.phone, melder.email]
    for person in persons:
        values += [person.bsn, f"{person.first_names} {person.surname}".strip(), person.postcode]
    values += re.findall(r"woont aan de (.+? \d+),", narrative)
    return [v for v in dict.fromkeys(values) if v]


class ProgressBar:
    """A plain stderr progress bar (no dependency): `[#####.....] 500/1000 meldingen`."""

    def __init__(self, total: int, label: str = "", stream: TextIO | None = None, width: int = 30):
        self.total, self.label, self.width = max(total, 1), label, width
        self.stream = stream if stream is not None else sys.stderr
        self.done = 0
        self._shown = -1

    def update(self, n: int = 1) -> None:
        self.done += n
        percent = self.done * 100 // self.total
        if percent != self._shown:
            self._shown = percent
            filled = self.width * self.done // self.total
            self.stream.write(f"\r[{'#' * filled}{'.' * (self.width - filled)}] {self.done}/{self.total} {self.label}")
            self.stream.flush()

    def close(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


def iterate(n: int, seed: int = 0, tenants: Sequence[str] | None = None, profile: LoadProfile = LoadProfile(),
            *, meldingen_only: bool = False, progress: bool = False) -> Iterator[LoadItem]:
    """n contacts (adviezen and meldingen; only meldingen when meldingen_only), plus the RvdK signals and
    verwijsindex registrations that go with them, in a reproducible order for the seed."""
    rng = random.Random(seed)
    chosen = sorted(tenants) if tenants else sorted(all_tenants())
    west = [t for t in chosen if t in WEST]
    rest = [t for t in chosen if t not in WEST]
    seen: dict[str, list[str]] = {t: [] for t in chosen}
    all_seen: list[tuple[str, str]] = []
    bar = ProgressBar(n, "contacts") if progress else None

    def region() -> str:
        if west and rest:
            return rng.choice(west if rng.random() < profile.west_share else rest)
        return rng.choice(chosen)

    for _ in range(n):
        tenant = region()
        professional = rng.random() < profile.professional_share
        if not meldingen_only and rng.random() < profile.advies_share:
            yield LoadItem("advies", tenant, request=build_advies(rng, professional=professional),
                           professional=professional)
        else:
            draw = rng.random()
            repeat = cross = False
            others = [(t, b) for t, b in all_seen[-5000:] if t != tenant] if draw >= profile.repeat_share else []
            if draw < profile.repeat_share and seen[tenant]:
                bsn, repeat = rng.choice(seen[tenant]), True
            elif draw < profile.repeat_share + profile.cross_region_share and others:
                bsn, cross = rng.choice(others)[1], True
            else:
                bsn = random_bsn(rng)
            seen[tenant].append(bsn)
            all_seen.append((tenant, bsn))
            police = professional and rng.random() < profile.police_share_of_meldingen / profile.professional_share
            acute = rng.random() < profile.acute_share
            yield LoadItem("melding", tenant, bsn, build_melding(rng, bsn, professional=professional, police=police,
                                                                  acute=acute),
                           professional=professional, police=police, acute=acute, repeat=repeat, cross_region=cross)
            if rng.random() < profile.rvdk_per_melding:
                yield LoadItem("rvdk", tenant, rng.choice(all_seen)[1])
            if rng.random() < profile.verwijsindex_per_melding:
                other_tenant, other_bsn = rng.choice(all_seen)
                yield LoadItem("verwijsindex", other_tenant, other_bsn, attrs={"sector": "SECTOR_EDUCATION"})
        if bar:
            bar.update()
    if bar:
        bar.close()


def generate(n: int, seed: int = 0, tenants: Sequence[str] | None = None, profile: LoadProfile = LoadProfile(),
             *, meldingen_only: bool = False, progress: bool = False) -> list[LoadItem]:
    return list(iterate(n, seed, tenants, profile, meldingen_only=meldingen_only, progress=progress))


def summary(items: Sequence[LoadItem]) -> dict[str, float]:
    """The measured proportions of a generated load (for the tests and the bench report)."""
    meldingen = [i for i in items if i.kind == "melding"]
    contacts = [i for i in items if i.kind in ("melding", "advies")]
    m = max(len(meldingen), 1)
    return {
        "contacts": len(contacts), "meldingen": len(meldingen),
        "advies_share": sum(i.kind == "advies" for i in contacts) / max(len(contacts), 1),
        "professional_share": sum(i.professional for i in contacts) / max(len(contacts), 1),
        "police_share_of_meldingen": sum(i.police for i in meldingen) / m,
        "west_share": sum(i.tenant in WEST for i in contacts) / max(len(contacts), 1),
        "repeat_share": sum(i.repeat for i in meldingen) / m,
        "cross_region_share": sum(i.cross_region for i in meldingen) / m,
        "acute_share": sum(i.acute for i in meldingen) / m,
        "rvdk_per_melding": sum(i.kind == "rvdk" for i in items) / m,
        "verwijsindex_per_melding": sum(i.kind == "verwijsindex" for i in items) / m,
    }
