"""Simulated hospitals: a documented, seeded, non-IID split of a case file into sites.

Real hospitals differ in who they treat: a cardiology centre sees circulatory disease, a
paediatric hospital children. A uniform random split hides that, so the split is a Dirichlet
draw per group (Hsu et al. 2019, "Measuring the effects of non-identical data distribution"):
for every group (ICD-10-CM chapter of the diagnosis, or an age band) the share each site gets is
drawn from Dir(alpha, ..., alpha). Small alpha (0.1) gives sites dominated by a few groups; large
alpha (100) approaches an even split. Cases from a different source (Synthea) can form a site of
their own, which is the most realistic skew of all: another population and another record system.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rxassist.cases import Case
from rxassist.errors import ConfigError

GroupBy = Literal["chapter", "age"]

# ICD-10-CM chapters by code range (first letter + two digits), as the WHO/CMS tabular list
# numbers them; "U" (special purposes) and codes outside the ranges go to "other".
_CHAPTERS: tuple[tuple[str, str, str], ...] = (
    ("A00", "B99", "01-infectious"), ("C00", "D49", "02-neoplasms"),
    ("D50", "D89", "03-blood-immune"), ("E00", "E89", "04-endocrine-metabolic"),
    ("F01", "F99", "05-mental"), ("G00", "G99", "06-nervous"), ("H00", "H59", "07-eye"),
    ("H60", "H95", "08-ear"), ("I00", "I99", "09-circulatory"), ("J00", "J99", "10-respiratory"),
    ("K00", "K95", "11-digestive"), ("L00", "L99", "12-skin"),
    ("M00", "M99", "13-musculoskeletal"), ("N00", "N99", "14-genitourinary"),
    ("O00", "O9A", "15-pregnancy"), ("P00", "P96", "16-perinatal"),
    ("Q00", "Q99", "17-congenital"), ("R00", "R99", "18-symptoms"),
    ("S00", "T88", "19-injury-poisoning"), ("V00", "Y99", "20-external-causes"),
    ("Z00", "Z99", "21-health-status"),
)
# Age bands that change prescribing: children, adults, and the over-65s the Beers criteria cover.
_AGE_BANDS: tuple[tuple[float, str], ...] = ((18, "0-17"), (45, "18-44"), (65, "45-64"),
                                             (float("inf"), "65+"))


def chapter_of(code: str | None) -> str:
    """ICD-10-CM chapter of a code such as 'E11.9' or 'I10'; 'other' when it is not ICD-10."""
    if not code:
        return "other"
    key = code.strip().upper().replace(".", "")[:3]
    if len(key) < 3 or not key[0].isalpha():
        return "other"
    for low, high, name in _CHAPTERS:
        if low <= key <= high:
            return name
    return "other"


def age_band(age: float | None) -> str:
    if age is None:
        return "unknown"
    return next(name for upper, name in _AGE_BANDS if age < upper)


def group_of(case: Case, by: GroupBy) -> str:
    return chapter_of(case.diagnosis.code) if by == "chapter" else age_band(case.patient.age)


@dataclass(frozen=True)
class Site:
    name: str
    cases: tuple[Case, ...]

    def group_counts(self, by: GroupBy) -> dict[str, int]:
        counts: dict[str, int] = {}
        for c in self.cases:
            g = group_of(c, by)
            counts[g] = counts.get(g, 0) + 1
        return dict(sorted(counts.items()))


def dirichlet_split(cases: list[Case], n_sites: int, *, by: GroupBy = "chapter",
                    alpha: float = 0.5, seed: int = 0, min_cases: int = 1,
                    max_draws: int = 100) -> list[Site]:
    """Split `cases` into `n_sites` sites named hospital-1..N, non-IID by `by`.

    Redraws (up to `max_draws`, seeded) until every site holds at least `min_cases`; a split that
    cannot give every site that many cases is a bad option, not something to paper over.
    """
    import numpy as np

    if n_sites < 1:
        raise ConfigError(f"--sites must be at least 1, got {n_sites}", param="sites")
    if alpha <= 0:
        raise ConfigError(f"--alpha must be positive, got {alpha}", param="alpha")
    if n_sites * min_cases > len(cases):
        raise ConfigError(f"--sites {n_sites} needs at least {n_sites * min_cases} cases "
                          f"({min_cases} per site); the case file has {len(cases)}",
                          param="sites")
    groups: dict[str, list[int]] = {}
    for i, c in enumerate(cases):
        groups.setdefault(group_of(c, by), []).append(i)
    rng = np.random.default_rng(seed)
    for _ in range(max_draws):
        members: list[list[int]] = [[] for _ in range(n_sites)]
        for name in sorted(groups):
            idx = np.array(groups[name])
            rng.shuffle(idx)
            shares = rng.dirichlet([alpha] * n_sites)
            cuts = (np.cumsum(shares)[:-1] * len(idx)).astype(int)
            for site, part in enumerate(np.split(idx, cuts)):
                members[site].extend(int(i) for i in part)
        if min(len(m) for m in members) >= min_cases:
            return [Site(f"hospital-{k + 1}", tuple(cases[i] for i in sorted(m)))
                    for k, m in enumerate(members)]
    raise ConfigError(f"no Dirichlet split with alpha={alpha} gave each of {n_sites} sites "
                      f"{min_cases} or more cases in {max_draws} draws; use fewer --sites or a "
                      "larger --alpha", param="sites")
