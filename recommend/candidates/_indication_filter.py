"""Which label-indication rows mean "this drug treats this diagnosis", and why the others don't.

DrugCentral 2016 and LabeledIn map label text to indication concepts. Some rows say something
else than treatment, and matching them to a diagnosis recommends the wrong drug:

- procedure: the drug is used to *produce* a state, not to treat it ("Controlled Hypotension"
  for nitroprusside during surgery, "Induce Anterograde Amnesia"), or for a diagnostic test.
- generic: a concept too broad to say which disease a drug treats ("Neoplasms",
  "Infections", "Carcinoma", "Inflammation"): an oncology or antibacterial label is never
  evidence for one particular cancer or infection.
- direction: the drug moves the finding the wrong way, so the row is an adverse-effect or
  warning mention read as an indication (LabeledIn: "Hypotension" for captopril, nitroglycerin
  and eplerenone, whose labels warn of it; "Hyperkalemia" for hydrochlorothiazide). Pharmacology
  per the drugs' FDA labels: a blood-pressure-lowering drug never treats hypotension or shock,
  a potassium-raising drug never treats hyperkalaemia, a potassium-wasting diuretic never
  treats hypokalaemia, a glucose-lowering drug never treats hypoglycaemia, a rate-slowing drug
  never treats bradycardia.
- mapping: a row whose ingredient is not the drug of the label (DrugCentral lists
  phentermine, an anorectic, for acute hypotension: the vasopressor is phenylephrine). Most
  come from combination products whose every ingredient inherits the product's indications:
  the sleep indication of an analgesic "PM" product (ibuprofen or acetaminophen with
  diphenhydramine) is the antihistamine's, the headache indication of a cold or antacid
  product is the analgesic's, the heartburn indication of an aspirin-antacid product is the
  antacid's, and a PPI's or an antibiotic's H. pylori row is its eradication regimen's.
  Others are errors of the source (ciprofloxacin and oxycodone for heartburn) or a route the
  question never means (epidural clonidine for severe cancer pain read as
  "neuralgia"; the "thyroiditis" of glucocorticoid labels is nonsuppurative (subacute)
  thyroiditis, not the autoimmune thyroiditis of hypothyroidism).

`screen(ingredient, indication)` returns the reason a row is dropped, or None to keep it. The
build counts every dropped row by reason in the index's `stats.dropped_indication_rows`.
"""

from __future__ import annotations

import re

# Classes by mechanism (FDA labeling); US generic moiety names as guardrails writes them.
LOWERS_BLOOD_PRESSURE = frozenset("""
benazepril captopril enalapril enalaprilat fosinopril lisinopril moexipril perindopril quinapril
ramipril trandolapril azilsartan candesartan eprosartan irbesartan losartan olmesartan
telmisartan valsartan aliskiren sacubitril eplerenone spironolactone amiloride triamterene
hydrochlorothiazide chlorthalidone chlorothiazide indapamide metolazone furosemide bumetanide
torsemide ethacrynic acebutolol atenolol betaxolol bisoprolol carvedilol esmolol labetalol
metoprolol nadolol nebivolol pindolol propranolol timolol amlodipine felodipine isradipine
nicardipine nifedipine nisoldipine clevidipine diltiazem verapamil hydralazine minoxidil
nitroglycerin isosorbide nitroprusside trimethaphan fenoldopam clonidine guanfacine methyldopa
doxazosin prazosin terazosin phentolamine sildenafil tadalafil""".split())
RAISES_POTASSIUM = frozenset("""
benazepril captopril enalapril fosinopril lisinopril moexipril perindopril quinapril ramipril
trandolapril azilsartan candesartan eprosartan irbesartan losartan olmesartan telmisartan
valsartan aliskiren eplerenone spironolactone amiloride triamterene potassium trimethoprim
heparin""".split())
WASTES_POTASSIUM = frozenset("""
hydrochlorothiazide chlorthalidone chlorothiazide indapamide metolazone furosemide bumetanide
torsemide ethacrynic acetazolamide""".split())
LOWERS_GLUCOSE = frozenset("""
insulin glipizide glyburide glimepiride tolbutamide chlorpropamide repaglinide nateglinide
metformin""".split())
NSAIDS = frozenset("""
aspirin ibuprofen naproxen diclofenac celecoxib meloxicam ketorolac indomethacin etodolac
nabumetone piroxicam sulindac oxaprozin ketoprofen flurbiprofen diflunisal""".split())
ANALGESICS = NSAIDS | {"acetaminophen", "dexibuprofen", "salicylamide", "magnesium salicylate"}
OPIOIDS = frozenset("""
codeine dihydrocodeine hydrocodone oxycodone oxymorphone morphine hydromorphone fentanyl
methadone meperidine tramadol tapentadol levorphanol buprenorphine butorphanol pentazocine
nalbuphine""".split())
# What an opioid's own label treats: pain, cough, diarrhoea, opioid dependence, and the
# sedation or analgesia of anaesthesia; anything else is a source's mapping error (DrugCentral
# lists oxycodone for heartburn and for tinea corporis).
_OPIOID_USES = r"pain|ache|analges|cough|diarrh|opioid|dependence|addict|anesthe|anaesthe|sedation|dyspn"
SLOWS_HEART_RATE = frozenset("""
acebutolol atenolol betaxolol bisoprolol carvedilol esmolol labetalol metoprolol nadolol
nebivolol pindolol propranolol timolol sotalol diltiazem verapamil digoxin amiodarone
dronedarone ivabradine clonidine dexmedetomidine""".split())

# (indication pattern, drug class, reason)
_DIRECTION = (
    (r"hypotension|shock|hypovolemi", LOWERS_BLOOD_PRESSURE,
     "direction: a blood-pressure-lowering drug does not treat hypotension or shock (an "
     "adverse-effect or induction mention)"),
    (r"hyperkal", RAISES_POTASSIUM,
     "direction: a potassium-raising drug does not treat hyperkalaemia"),
    (r"hypokal", WASTES_POTASSIUM,
     "direction: a potassium-wasting diuretic does not treat hypokalaemia"),
    (r"hypoglyc", LOWERS_GLUCOSE,
     "direction: a glucose-lowering drug does not treat hypoglycaemia"),
    (r"bradycard", SLOWS_HEART_RATE,
     "direction: a rate-slowing drug does not treat bradycardia"),
    (r"dyspepsia|heartburn", NSAIDS,
     "direction: an NSAID causes dyspepsia and heartburn, it does not treat them"),
)

_PROCEDURE = re.compile(
    r"^(controlled hypotension|induc\w* (of )?(hypotension|anesthesia|amnesia|anterograde)"
    r"|induce anterograde amnesia|diagnostic\b|.*\b(imaging|radiography) adjunct$"
    r"|diagnostic aid)", re.I)

# One concept that names no particular disease.
_GENERIC_PHRASES = frozenset({
    "neoplasms", "neoplasm", "malignant neoplasms", "malignant neoplasm", "malignant tumor",
    "cancer", "carcinoma", "tumor", "tumors", "solid tumors", "infections", "infection",
    "bacterial infections", "bacterial infection", "infectious disease", "infectious diseases",
    "inflammation", "metastatic cancer", "neoplastic disease", "kidney diseases",
    "kidney disease", "liver diseases", "liver disease", "heart diseases", "heart disease",
    "lung diseases", "lung disease", "skin diseases", "eye diseases", "bone diseases",
    "vascular disease",
    "vascular diseases", "communicable diseases"})

# Rows whose ingredient is not the drug the label speaks of: (ingredient, indication pattern).
_MAPPING = (
    ("phentermine", r"hypotension"),
    ("ciprofloxacin", r"heartburn|dyspepsia"),
    ("clonidine", r"neuralgia|neuropath|pain"),
    ("thiamine", r"neuralgia|neuritis"),   # deficiency (beriberi) neuritis, read as any neuritis
    ("lithium", r"headache"),   # cluster-headache prevention, off label, read as any headache
    ("lithium", r"arthritis"),  # DrugCentral lists osteoarthritis: no lithium label carries it
    ("chloramine t", r"vascular"),  # an antiseptic
    ("sodium chloride", r"breast"),  # a diluent in an injection kit
    # DrugCentral 2016 gives esaprazole (an unmarketed gastroprotective) every indication of
    # esomeprazole and of aripiprazole: a name collision, none of its rows is its own.
    ("esaprazole", r""),
)
_GLUCOCORTICOIDS = frozenset("""
betamethasone cortisone dexamethasone hydrocortisone methylprednisolone prednisolone prednisone
triamcinolone""".split())
# (indication pattern, ingredients that never carry it themselves, whose indication it is)
_COMBINATION_PARTNER = (
    (r"insomnia|sleep", ANALGESICS, "the antihistamine's in an analgesic 'PM' product"),
    (r"^(headache|headache disorder|tension-type headache)$", frozenset({
        "guaifenesin", "pseudoephedrine", "phenylephrine", "ephedrine", "dextromethorphan",
        "diphenhydramine", "doxylamine", "chlorpheniramine", "pheniramine", "pyrilamine",
        "phenyltoloxamine", "citric acid", "sodium bicarbonate", "calcium carbonate",
        "calcium gluconate", "algeldrate", "trolnitrate"}),
     "the analgesic's in a cold, sleep or antacid combination"),
    # naproxen/esomeprazole, lansoprazole/naproxen, diclofenac/misoprostol, ibuprofen/famotidine:
    # the gastroprotective partner prevents the NSAID's ulcer, it does not treat the arthritis.
    (r"arthritis|ankylosing spondylitis", frozenset({
        "esomeprazole", "lansoprazole", "omeprazole", "misoprostol", "famotidine"}),
     "the NSAID's in a combination with a stomach-protecting drug"),
    # H. pylori is eradicated by a regimen (ACG 2024: bismuth quadruple, rifabutin triple,
    # vonoprazan dual; the labels' triple therapy), never by one of its parts: a PPI's or an
    # antibiotic's H. pylori row is the regimen's indication.
    (r"pylori|helicobacter", frozenset({
        "omeprazole", "esomeprazole", "lansoprazole", "dexlansoprazole", "rabeprazole",
        "dexrabeprazole", "pantoprazole", "ranitidine", "vonoprazan", "amoxicillin",
        "clarithromycin", "metronidazole", "tetracycline", "rifabutin", "bismuth subcitrate",
        "bismuth subsalicylate"}),
     "the eradication regimen's (an acid suppressant with antibiotics, with or without bismuth)"),
    # buffered aspirin, aspirin-caffeine and similar products: the pain is the analgesic's.
    (r"\bpain|myalgia|ache\b|arthralgia|spasm", frozenset({
        "calcium carbonate", "calcium gluconate", "algeldrate", "trolnitrate", "citric acid",
        "sodium bicarbonate", "magnesium oxide", "magnesium carbonate", "caffeine"}),
     "the analgesic's in a buffered or caffeine combination"),
)


def _member(ingredient: str, members: frozenset[str]) -> bool:
    first = ingredient.split()[0]
    return ingredient in members or first in members


def screen(ingredient: str, indication: str) -> str | None:
    """Why this (ingredient, indication) row is not evidence of treatment, or None."""
    text = " ".join(indication.lower().replace(",", " ").split())
    if text in _GENERIC_PHRASES:
        return "generic: the concept names no particular disease"
    if _PROCEDURE.match(text):
        return "procedure: the drug produces the state or serves a test, it does not treat it"
    for ing, pattern in _MAPPING:
        if ingredient == ing and re.search(pattern, text):
            return f"mapping: {ingredient} is not the drug this label speaks of"
    if ingredient in OPIOIDS and not re.search(_OPIOID_USES, text):
        return f"mapping: an opioid's label treats pain, cough or diarrhoea, not {text}"
    for pattern, members, whose in _COMBINATION_PARTNER:
        if re.search(pattern, text) and ingredient in members:
            return f"mapping: the {text} indication is {whose}, not {ingredient}'s"
    if re.search(r"peptic ulcer|gastric ulcer|duodenal ulcer", text) \
            and ingredient in _GLUCOCORTICOIDS:
        return ("direction: glucocorticoids raise the risk of peptic ulcer and its bleeding "
                "(their labels warn of it); they never treat it")
    if text in ("edema", "oedema") and ingredient in _GLUCOCORTICOIDS:
        return ("mapping: glucocorticoid labels treat the proteinuria and oedema of the "
                "nephrotic syndrome, not oedema of any cause (they retain fluid)")
    if text == "thyroiditis" and ingredient in _GLUCOCORTICOIDS:
        return ("mapping: glucocorticoid labels mean nonsuppurative (subacute) thyroiditis, "
                "not autoimmune thyroiditis with hypothyroidism")
    for pattern, members, reason in _DIRECTION:
        if re.search(pattern, text) and _member(ingredient, members):
            return reason
    return None


def reason_kind(reason: str) -> str:
    return reason.split(":")[0]
