"""Korean consultations, rewritten into the clinical shorthand the rule reader reads.

"67세 남자, 고혈압, 약물 알레르기 없음, 복용 중인 약 없음" -> "67 yo male, essential
hypertension, no drug allergies, no meds". The rest of the reader (labels, context, allergies,
medications, the coded diagnosis) then runs unchanged, so Korean and English consultations get
the same checks.

How: (1) diagnosis, ingredient and allergen names from curated tables
(assistant/data/ko_diagnoses.tsv: KCD-8 titles; ko_ingredients.tsv: Korean INN
transliterations) are replaced by longest match with placeholders; (2) ordered phrase rules read
age (세, 개월), sex (남/여, 남아/여아), pregnancy (임신 N주, 임신 아님, 폐경), weight (kg),
"없음" / "모름" answers, labels ("진단:", "복용약:", "과거력:") and "X 복용 중" / "Y로 X 복용
중" ("on X for Y"); (3) particles and filler words left over are dropped. A Korean word no
table knows stays as written, so it is shown back rather than silently lost.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

_HANGUL = re.compile(r"[\uac00-\ud7a3]")
# A drug slot becomes a taken-medication slot ("M") once read as "on X", so a later allergy rule
# cannot take it into its list ("와파린 복용 중, 페니실린 알레르기").
_DRUG, _DX, _ALLERGEN, _TAKEN = "D", "X", "A", "M"
_SLOT = re.compile(r"\u27e6([DXAM]):([^\u27e7]+)\u27e7")

# Allergen classes that are not single ingredients (the guardrails know them as classes).
ALLERGEN_CLASSES_KO: dict[str, str] = {
    "페니실린계": "penicillins", "페니실린": "penicillin", "설파제": "sulfa", "설파": "sulfa",
    "술파제": "sulfa", "설폰아마이드": "sulfonamides", "세팔로스포린계": "cephalosporins",
    "세팔로스포린": "cephalosporins", "퀴놀론계": "quinolones", "퀴놀론": "quinolones",
    "플루오로퀴놀론": "fluoroquinolones", "비스테로이드성 소염진통제": "nsaids",
    "비스테로이드성 항염증제": "nsaids", "소염진통제": "nsaids", "엔세이드": "nsaids",
    "조영제": "contrast", "마크롤라이드": "macrolides", "마약성 진통제": "opioids",
    "아편유사제": "opioids", "계란": "egg", "달걀": "egg", "라텍스": "latex", "스타틴": "statins",
    "안지오텐신 전환효소 억제제": "ace inhibitors", "ACE 억제제": "ace inhibitors",
    "테트라사이클린": "tetracyclines", "요오드": "iodine", "땅콩": "peanut", "갑각류": "shellfish",
}


# Medicines named by what they are rather than an ingredient; the English shorthand the reader
# spells out (assistant/data/extract_vocabulary.json, medication_abbreviations).
MEDICINES_KO: dict[str, str] = {
    "경구 피임약": "OCP", "피임약": "OCP", "호르몬 대체 요법": "HRT", "호르몬 치료": "HRT",
    "칼슘제": "calcium", "비타민 D": "vitamin D", "비타민D": "vitamin D", "철분제": "iron",
    "종합 비타민": "multivitamin", "종합비타민": "multivitamin",
}


def has_korean(text: str) -> bool:
    return bool(_HANGUL.search(text or ""))


def _read_table(name: str, key_cols: int) -> list[tuple[list[str], list[str]]]:
    path = resources.files("assistant").joinpath(f"data/{name}")
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t")
        rows.append((cols[:key_cols], cols[key_cols].split("|")))
    return rows


@lru_cache(maxsize=1)
def diagnosis_table() -> dict[str, tuple[str, str]]:
    """Korean name -> (ICD-10-CM code, English reading)."""
    out: dict[str, tuple[str, str]] = {}
    for (code, english), names in _read_table("ko_diagnoses.tsv", 2):
        for n in names:
            out.setdefault(n.strip(), (code.strip(), english.strip()))
    return out


@lru_cache(maxsize=1)
def ingredient_table() -> dict[str, str]:
    """Korean name -> US generic name."""
    out: dict[str, str] = {}
    for (english,), names in _read_table("ko_ingredients.tsv", 1):
        for n in names:
            out.setdefault(n.strip(), english.strip())
    return out


@lru_cache(maxsize=1)
def _names_re() -> tuple[re.Pattern, dict[str, tuple[str, str]]]:
    names: dict[str, tuple[str, str]] = {}
    for ko, (_code, english) in diagnosis_table().items():
        names[ko] = (_DX, english)
    for ko, english in ingredient_table().items():
        names[ko] = (_DRUG, english)
    for ko, english in ALLERGEN_CLASSES_KO.items():
        names[ko] = (_ALLERGEN, english)
    for ko, english in MEDICINES_KO.items():
        names[ko] = (_DRUG, english)
    # Longest first; a space inside a name also matches no space ("제2형당뇨병").
    alts = sorted(names, key=len, reverse=True)
    pattern = "|".join(re.escape(n).replace(r"\ ", r"\s*") for n in alts)
    # A name of one or two syllables must not sit inside a longer Korean word ("옴" in "좋음").
    return re.compile(rf"(?:{pattern})"), {re.sub(r"\s+", "", k): v for k, v in names.items()}


def _slot(kind: str, english: str) -> str:
    return f"\u27e6{kind}:{english}\u27e7"


def _replace_names(text: str) -> str:
    pattern, names = _names_re()

    def sub(m: re.Match) -> str:
        key = re.sub(r"\s+", "", m.group(0))
        kind, english = names[key]
        short = len(key) <= 2
        before = text[m.start() - 1] if m.start() > 0 else " "
        if short and _HANGUL.match(before):
            return m.group(0)
        return f" {_slot(kind, english)} "
    return pattern.sub(sub, text)


_D = r"\u27e6[DA]:[^\u27e7]+\u27e7"
_X = r"\u27e6X:[^\u27e7]+\u27e7"
# A dose written after a drug ("암로디핀 5mg", "메트포르민 500mg 1일 2회") belongs to it.
_DOSE = (r"(?:\s*\d+(?:\.\d+)?\s*(?:mg|mcg|µg|g|㎎|밀리그램|IU|단위))?"
         r"(?:\s*(?:daily|bid|tid|qid)(?![A-Za-z]))?")
_D = rf"{_D}{_DOSE}"
_DRUG_LIST = rf"(?:{_D})(?:\s*(?:,|및|와|과|/|그리고)\s*(?:{_D}))*"
_TAKING = r"(?:을|를)?\s*(?:흡입기\s*)?(?:복용|투여|사용|투약|처방받아\s*복용|먹고\s*있)\s*(?:중|하고\s*있|함)?" \
          r"(?:임|이다|입니다|이며|이고|음)?"
_TAKE_VERB = r"(?:복용|투여|사용|투약)"
_RELATIVE = (r"부친|모친|아버지|어머니|아빠|엄마|부모님?|형제|자매|형|누나|언니|오빠|남동생|여동생|"
             r"동생|외할아버지|외할머니|조부|조모|삼촌|외삼촌|이모|고모|아들|딸")
# ("할머니"/"할아버지" alone is how an elderly patient is named: read as the sex below.)
_NONE = r"없(?:음|습니다|다|고|으며|어요)"
_UNKNOWN = r"(?:모름|불명|미상|알\s*수\s*없음|확인\s*안\s*됨|미확인)"
_MED_WORD = r"(?:현재\s*)?(?:복용\s*중인\s*약(?:물)?|복용\s*약(?:물)?|복용약|투약\s*중인\s*약|상용약)"
# Labels more than one rule starts from: one list of words each, so a synonym added is read by all.
_ALLERGY_WORD = r"(?:약물\s*)?(?:알레르기|알러지)"
_ALLERGEN_REACTION = r"(?:약물\s*)?(?:알레르기|알러지|과민\s*반응|과민증)"
_PMH_WORD = r"(?:과거\s*력|과거\s*병력|기왕력|기저\s*질환|동반\s*질환)\s*(?:으로|은|는)?\s*"

def _taken(drugs: str) -> str:
    return drugs.replace(f"\u27e6{_DRUG}:", f"\u27e6{_TAKEN}:").replace(f"\u27e6{_ALLERGEN}:",
                                                                      f"\u27e6{_TAKEN}:")


# Ordered rewrite rules: (pattern, replacement). Placeholders from _replace_names are in place.
_RULES: list[tuple[re.Pattern, object]] = [(re.compile(p), r) for p, r in [
    # how often: "1일 2회", "하루 세 번" -> bid, tid (before durations read "1일" as one day)
    (r"(?:1\s*일|하루(?:에)?)\s*([1-4]|한|두|세|네)\s*(?:회|번)",
     lambda m: " " + {"1": "daily", "한": "daily", "2": "bid", "두": "bid", "3": "tid",
                      "세": "tid", "4": "qid", "네": "qid"}[m.group(1)] + " "),
    # stopped for a reason named first: "기침 때문에 ACE 억제제 중단"
    (rf"({_X})\s*(?:때문에|으로\s*인해|로\s*인해)\s*({_DRUG_LIST})\s*(?:을|를)?\s*(?:{_TAKE_VERB}\s*)?"
     r"(?:중단|중지|끊음)(?:함|했음|하였음|됨)?",
     lambda m: f" stopped {_taken(m.group(2))} due to {m.group(1)}, "),
    # a drug stopped or not taken, before "X 복용" reads it as taken ("나프록센 복용 중단",
    # "이부프로펜 복용 안 함", "와파린 끊음")
    (rf"({_DRUG_LIST})\s*(?:을|를|은|는)?\s*(?:{_TAKE_VERB}\s*(?:하다가?|하던\s*중|하던)?\s*)?"
     r"(?:중단|중지|끊(?:음|었음|었다|었고|었으며|은\s*지\s*\d+\s*(?:년|개월|주|일)(?:\s*(?:됨|되었음|지남))?))"
     r"(?:함|했음|하였음|됨|했고|하였고)?",
     lambda m: f" stopped {_taken(m.group(1))}, "),
    # why a drug was stopped: "근육통 때문에 중단" (stopped because of myalgia)
    (rf"({_X})\s*(?:때문에|으로\s*인해|로\s*인해|으로|로)\s*(?:{_TAKE_VERB}\s*)?(?:중단|중지|끊음)"
     r"(?:함|했음|하였음|됨)?", r" stopped due to \1, "),
    # what the clinician wants treated: "이상지질혈증 치료 원함"
    (rf"({_X})\s*(?:에\s*대한\s*)?(?:치료|처방|약)\s*(?:을|를)?\s*(?:원함|원하(?:고|며|심|십니다|여)|"
     r"희망|요청|필요)", r" wants treatment for \1, "),
    (rf"({_DRUG_LIST})\s*(?:을|를|은|는)?\s*(?:{_TAKE_VERB}\s*(?:안\s*(?:함|하고|하며|했음)|"
     rf"하지\s*않(?:음|고|으며|는다|습니다)|않(?:음|고))|미복용|안\s*먹(?:음|고))",
     lambda m: f" not on {_taken(m.group(1))}, "),
    # on X for Y: "협심증으로 이소소르비드 일질산염 복용 중"
    (rf"({_X})\s*(?:으로|로|때문에|에\s*대해|치료\s*위해|치료로)\s*({_DRUG_LIST})\s*{_TAKING}",
     lambda m: f" on {_taken(m.group(2))} for {m.group(1)} "),
    (rf"({_DRUG_LIST})\s*{_TAKING}", lambda m: f" on {_taken(m.group(1))} "),
    # a medicine not named: "고혈압 약 복용 중" (on medication for hypertension)
    (rf"({_X})\s*(?:약|약물|치료제)\s*{_TAKING}", r" on meds for \1 "),
    # allergies: one ruled out ("페니실린 알레르기 없음"), then those the patient has
    (rf"({_DRUG_LIST})\s*(?:에\s*(?:대한|대해)?\s*)?{_ALLERGEN_REACTION}\s*(?:은|는|이|가)?\s*"
     rf"(?:{_NONE}|아님|아니(?:다|며|고)?|음성)", r" not allergic to \1 "),
    (rf"({_DRUG_LIST})\s*(?:에\s*(?:대한|대해)?\s*)?{_ALLERGEN_REACTION}"
     rf"\s*(?:있음|있다|있습니다|반응)?", r" allergic to \1 "),
    # a drug or class written in Latin letters: "NSAID 알레르기 있음", "PCN 알레르기 없음"
    (rf"(?<![A-Za-z])([A-Za-z][A-Za-z0-9\-]{{1,30}}(?:\s+[A-Za-z][A-Za-z0-9\-]{{1,30}})?)\s*"
     rf"(?:에\s*(?:대한|대해)?\s*)?{_ALLERGEN_REACTION}\s*(?:은|는|이|가)?\s*"
     rf"(?:{_NONE}|아님|아니(?:다|며|고)?|음성)", r" not allergic to \1 "),
    (rf"(?<![A-Za-z])([A-Za-z][A-Za-z0-9\-]{{1,30}}(?:\s+[A-Za-z][A-Za-z0-9\-]{{1,30}})?)\s*"
     rf"(?:에\s*(?:대한|대해)?\s*)?{_ALLERGEN_REACTION}\s*(?:있음|있다|있습니다|반응)?",
     r" allergic to \1 "),
    (rf"{_ALLERGY_WORD}\s*(?:는|은|:|：)?\s*{_NONE}", " no drug allergies "),
    (rf"{_ALLERGY_WORD}\s*(?:는|은|:|：)?\s*{_UNKNOWN}", " allergies unknown "),
    (rf"{_ALLERGY_WORD}\s*(?:력|병력)?\s*[:：]", "\nAllergies: "),
    # current medications
    (rf"{_MED_WORD}\s*(?:은|는|:|：)?\s*{_NONE}", " no meds "),
    (rf"{_MED_WORD}\s*(?:은|는|:|：)?\s*{_UNKNOWN}", " meds unknown "),
    (rf"{_MED_WORD}\s*[:：]", "\nMeds: "),
    (r"(?:먹는|복용하는)\s*약\s*(?:은|이)?\s*" + _NONE, " no meds "),
    (r"(?:약|약물)\s*(?:복용|투약)\s*(?:은|는|이)?\s*" + _NONE, " no meds "),
    # diagnosis and history labels
    (r"(?:주\s*)?(?:진단명?|상병명?|병명)\s*(?:은|는)?\s*[:：]", "\nDiagnosis: "),
    # a relative's condition is family history ("아버지 심근경색 가족력", "모친 유방암"), never the
    # patient's; "가족력: 당뇨" the same
    (rf"(?:{_RELATIVE})\s*(?:의|이|가|에게|도|쪽)?\s*({_X})\s*(?:가족력|병력|있음|있었음)?",
     r" family history of \1, "),
    (rf"가족력\s*(?:으로|은|는|:|：)?\s*({_X})", r" family history of \1, "),
    (rf"({_X})\s*(?:의\s*)?(?:과거력|병력|기왕력)(?:이|가)?\s*(?:있음|있는|있으며)?", r" history of \1 "),
    # "과거 위궤양", "이전 뇌졸중": a past condition is history, not the question
    (rf"(?:과거|이전|예전)(?:에)?\s*(?!력|병력)({_X})", r" history of \1 "),
    (rf"{_PMH_WORD}[:：]?\s*{_NONE}", " no past medical history "),
    (rf"{_PMH_WORD}[:：]", "\nPMH: "),
    (_PMH_WORD, " history of "),
    (rf"({_X})\s*가족력", r" family history of \1 "),
    # "당뇨 있는 60세 남자": a condition the patient has, beside the question
    (rf"({_X})\s*(?:이|가)?\s*있(?:는|음|고|으며|습니다)", r" known \1, "),
    (rf"({_X})\s*(?:으로|로)\s*진단", r" diagnosed with \1 "),
    (rf"({_X})\s*(?:은|는|이|가)?\s*{_NONE}", r" no \1 "),
    # pregnancy
    (r"임신\s*(\d{1,2})\s*주(?:차|째)?", r" \1 weeks pregnant "),
    (r"임신\s*(?:아님|아니(?:다|며|고)?|안\s*함|하지\s*않음|않음|음성|가능성\s*없음)|비임신", " not pregnant "),
    (r"임신\s*(?:여부|상태)?\s*(?:는|은)?\s*" + _UNKNOWN, " pregnancy unknown "),
    (r"임신\s*(?:중|상태|양성)", " pregnant "),
    (r"폐경\s*(?:후|이후|됨|여성|상태)?", " postmenopausal "),
    # "산후 3개월", "출산 후 6주": postpartum (before durations read "3개월" as how long)
    (r"(?:산후|출산\s*후|분만\s*후)\s*(\d{1,2})\s*(개월|주|일)\s*(?:째|차)?",
     lambda m: f" {m.group(1)} {dict(개월='months', 주='weeks', 일='days')[m.group(2)]} postpartum "),
    (r"(?:산후|출산\s*후|분만\s*후)(?![가-힣])", " postpartum "),
    (r"(?:모유\s*)?수유\s*(?:중|부)", " breastfeeding "),
    # age, weight, sex
    (r"나이\s*[:：]?\s*(\d{1,3})\s*세?", r" \1 yo "),
    (r"생후\s*(\d{1,2})\s*개월", r" \1 months old "),
    (r"(\d{1,2})\s*개월\s*(?=(?:된\s*)?(?:남아|여아|영아|아기|아이|환아))", r" \1 months old "),
    (r"(\d{1,3})\s*세(?![가-힣])|(\d{1,3})\s*세(?=\s*|[이의에])", r" \1\2 yo "),
    (r"(\d{1,3})\s*살", r" \1 yo "),
    (r"만\s*(\d{1,3})\s*yo", r" \1 yo "),
    (r"(?:체중|몸무게)\s*(?:은|는)?\s*[:：]?\s*(\d{1,3}(?:\.\d+)?)\s*(?:kg|킬로그램|킬로)", r" \1 kg "),
    (r"(\d{1,3}(?:\.\d+)?)\s*(?:킬로그램|킬로)", r" \1 kg "),
    (r"성별\s*[:：]?\s*남(?:자|성)?(?![가-힣])", " male "),
    (r"성별\s*[:：]?\s*여(?:자|성)?(?![가-힣])", " female "),
    (r"남아|남자\s*아이", " boy "),
    (r"여아|여자\s*아이", " girl "),
    (r"할머니|할매", " female "),
    (r"할아버지|할배", " male "),
    (r"남자|남성", " male "),
    (r"여자|여성|부인", " female "),
    (r"(?<![가-힣])남(?![가-힣])", " male "),
    (r"(?<![가-힣])여(?![가-힣])", " female "),
    # how long (ages and pregnancy weeks are read above): "불면증 3개월", "기침 5일째"
    (r"(\d{1,3})\s*개월\s*(?:전부터|째|간|동안|정도)?", r" x \1 months "),
    (r"(\d{1,3})\s*(?:주일?|週)\s*(?:전부터|째|간|동안|정도)?(?![가-힣])", r" x \1 weeks "),
    (r"(\d{1,3})\s*일\s*(?:전부터|째|간|동안|정도)?(?![가-힣])", r" x \1 days "),
    (r"(\d{1,2})\s*년\s*(?:전부터|째|간|동안)?(?![가-힣])", r" x \1 years "),
    # "조절 안 됨" (uncontrolled), "심함" (severe)
    (r"조절\s*(?:안\s*됨|안\s*되는|안됨|불량|되지\s*않음|되지\s*않는)", " uncontrolled "),
    (r"(?<![가-힣])심(?:함|한|하게|하다|합니다)(?![가-힣])", " severe "),
    # side and conjunctions
    (r"및|그리고", ", "),
    (r"[、，]", ", "),
    (r"[。]", ". "),
]]

# Requests and fillers that carry no patient field ("처방 추천 부탁드립니다").
_REQUESTS = re.compile(
    r"(?:어떤|무슨)\s*(?:약|약물|항생제)[^.?!\n]*[?]?|"
    r"(?:약|약물|처방|치료)?\s*(?:을|를)?\s*(?:추천|권고|권장|처방)\s*(?:해\s*주세요|해주세요|부탁(?:드립니다|해요)?|"
    r"바랍니다|해\s*주십시오|요청)|"
    r"(?:치료|처방)\s*(?:방법|옵션)\s*(?:은|는)?\s*[?]?", re.I)
_PARTICLES = re.compile(
    r"(?<=[\u27e7A-Za-z0-9)])\s*(?:으로|로|은|는|이|가|을|를|에게|에서|에|의|와|과|도|만|이며|이고|임|입니다|이다|"
    r"있음|있습니다|있고|있으며|진단|환자|님|씨)(?![가-힣])")
_FILLER_KO = re.compile(
    r"(?<![가-힣])(?:환자|환아|님|씨|입니다|있음|있습니다|현재|내원|내원함|방문|진단됨|진단|상태|"
    r"증상|소견|확인됨|있고|있으며|하였음|했음|함|중|그|이|저|좀|요|바랍니다|감사합니다|"
    r"안녕하세요|새로|새로운|최근|오늘|어제|처음|외|그\s*외|이\s*외|기타|그\s*밖(?:의|에)?|"
    # places of care: read from the raw text by assistant.setting, never a diagnosis
    r"입원|입원함|입원중|입원\s*중|중환자실|집중치료실|응급실|병동|외래)(?![가-힣])")


# Whole-turn answers to the assistant's questions ("없음" to "drug allergies?").
_SHORT_ANSWERS: list[tuple[re.Pattern, str]] = [(re.compile(rf"^\s*(?:{p})\s*[.!]?\s*$"), r) for p, r in [
    (r"없(?:음|습니다|어요|다)|없습니다|해당\s*없음|무", "none"),
    (r"모름|모릅니다|몰라요|불명|미상|알\s*수\s*없음", "unknown"),
    (r"네|예|맞습니다|그렇습니다", "yes"),
    (r"아니(?:요|오)|아닙니다", "no"),
    (r"(?:그냥\s*)?진행(?:해\s*주세요|해주세요|하세요|해|합니다)?|계속(?:해\s*주세요|하세요)?", "proceed"),
]]


def to_reading_text(text: str) -> str:
    """A Korean consultation in the shorthand the rule reader reads; other text unchanged."""
    if not has_korean(text):
        return text
    for pattern, answer in _SHORT_ANSWERS:
        if pattern.match(text):
            return answer
    s = _replace_names(text)
    for pattern, repl in _RULES:
        s = pattern.sub(repl, s)
    s = _REQUESTS.sub(" ", s)
    for _ in range(2):
        s = _PARTICLES.sub(" ", s)
        s = _FILLER_KO.sub(" ", s)
    s = _SLOT.sub(lambda m: m.group(2), s)
    s = re.sub(r"[ \t]+", " ", s)
    s = re.sub(r"\s+([,.;:])", r"\1", s)
    s = re.sub(r"(?:,\s*){2,}", ", ", s)
    return s.strip(" ,")
