"""Write assistant/data/icd10cm_titles.tsv.gz: every ICD-10-CM category and code with its title.

    /path/to/python scripts/build_icd10cm.py      (needs simple-icd-10-cm, the `icd` extra)

Source: the ICD-10-CM tabular list (CMS/NCHS, public domain) as packaged by simple-icd-10-cm
1.5.0. The shipped file lets the assistant code diagnoses without that package at run time
(reading it through the package takes ~20 s per process; the file loads in well under one).
"""

from __future__ import annotations

import gzip
from pathlib import Path

import simple_icd_10_cm as cm

OUT = Path(__file__).resolve().parents[1] / "assistant" / "data" / "icd10cm_titles.tsv.gz"


def main() -> None:
    codes = [c for c in cm.get_all_codes(with_dots=True) if cm.is_category_or_subcategory(c)]
    with gzip.open(OUT, "wt", encoding="utf-8", compresslevel=9) as fh:
        fh.write("# ICD-10-CM titles (CMS/NCHS, public domain) via simple-icd-10-cm; "
                 "built by scripts/build_icd10cm.py\n")
        for code in codes:
            fh.write(f"{code}\t{cm.get_description(code)}\n")
    print(f"wrote {len(codes)} codes to {OUT}")


if __name__ == "__main__":
    main()
