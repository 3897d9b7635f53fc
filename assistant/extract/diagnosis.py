"""The diagnosis: labelled segments, then what no other reader explained, split into clauses,
minus requests, questions, fillers and lead-in cues ("presents with", "diagnosed with").
Short answers ("none", "unknown", "yes", "72", "proceed") are read here too."""

from __future__ import annotations

import re

from assistant.extract.coding import code_diagnosis
from assistant.extract.context import (DURATION_COUNT, DURATION_UNIT, NOT_AT_GOAL,
                                       comorbidity_text, context_cues, is_condition_word,
                                       read_clause_loose, without_lead_words)
from assistant.extract.text import Findings, Text
from assistant.extract.vocabulary import (NO_RE, NONE_RE, NUMBER_RE, PROCEED_RE, UNKNOWN_RE,
                                          YES_RE, alternation, vocabulary)

# What leads into a diagnosis (stripped before the rest is taken as the diagnosis). Those in
# EXPLICIT mark the text as a stated diagnosis, which may replace an earlier one.
DIAGNOSIS_CUES: tuple[str, ...] = tuple(vocabulary()["diagnosis_cues_regex"])
EXPLICIT_DIAGNOSIS = re.compile(r"^\s*(?:diagnosed with|working diagnosis|diagnosis|dx)\b", re.I)
_LEAD_CUE_RE = re.compile(r"^(?:" + "|".join(
    c for c in DIAGNOSIS_CUES if c not in vocabulary()["diagnosis_qualifiers"])
    + r")(?:\b|(?<=/))[\s:,-]*", re.I)
# Negative findings ("no fever", "not sexually active") are context, not the diagnosis.
# ("non-purulent cellulitis" is one term: "non" is not a negation cue, see context.py.)
_NEGATIVE_CLAUSE = re.compile(r"^(?:no|not|denies|without|negative for)\b", re.I)
# Background, not the question: "history of MI, hypertension" asks about hypertension. An
# admission reason is background only beside a stated need ("admitted with heart failure, needs
# VTE prophylaxis"); alone ("admitted with heart failure, fluid overloaded") it is the question.
_HISTORY_CLAUSE = re.compile(r"^(?:(?:a\s+)?(?:history|hx|pmh|background)\s+of|known)\b", re.I)
_ADMISSION_CLAUSE = re.compile(
    r"^(?:admitted|hospitali[sz]ed|presenting|presented)\s+(?:with|for)\b", re.I)
_COMPLAINT = re.compile(r"^\s*(?:c/o|complain(?:s|ing)? of)\b", re.I)
# "ED" as a condition of a man is erectile dysfunction; as a place it became "emergency
# department" (context.py), and for anyone else it stays as written (an eating disorder?).
_ED = re.compile(r"^ED$")
_NEED_CLAUSE = re.compile(r"^(?:needs?|requires?|wants?|for)\b", re.I)
# A wish to act names no condition: "wants to add a second agent", "keen to stop the statin".
_ACTION_CLAUSE = re.compile(
    r"^(?:(?:she|he|they|patient|pt)\s+)?(?:(?:needs?|requires?|wants?|would like|keen|asking|asks|"
    r"requests?|requesting|hoping|plan(?:s|ning)?)\s+to\s+\w+|"
    r"(?:interested in|thinking (?:of|about)|considering)\s+\w+ing\b)", re.I)
# A call to do more for what is treated names no condition of its own: "needs intensification",
# "not controlled", "add-on needed", "step up". Alone, it says the treated condition ("T2DM on
# metformin") is the question; after a condition ("T2DM needs intensification") it goes.
_MORE_TREATMENT = (r"(?:intensification|intensifying|escalation|escalating|step(?:ping)?[- ]?up|"
                   r"up-?titration|titration|optimi[sz](?:ation|ing)|add-?on(?:\s+(?:therapy|"
                   r"treatment|agent|drug))?|(?:a\s+)?(?:second|third|2nd|3rd|another|additional|"
                   r"further)\s+(?:agent|drug|line|medication|medicine)|better control|"
                   r"(?:treatment|therapy|medication|meds?)\s+(?:intensification|escalation|"
                   r"optimi[sz]ation|change|adjustment))")
_ESCALATION_TAIL = (
    rf"(?:(?:is\s+|are\s+|still\s+|now\s+)*(?:needs?|needing|requires?|requiring|for|awaiting|"
    rf"wants?|due)\s+(?:an?\s+|some\s+|further\s+)?{_MORE_TREATMENT}|"
    rf"{_MORE_TREATMENT}\s+(?:is\s+)?(?:needed|required|indicated|due)|"
    r"(?:(?:is|are|remains?)\s+)?(?:still\s+)?(?:not|un|poorly|inadequately|sub-?optimally|badly)"
    r"[- ]?controlled(?:\s+despite\s+(?:this|that|it|them|these))?|"
    r"(?:(?:is|are)\s+)?(?:still\s+)?(?:not|above|off)\s+(?:at\s+|to\s+)?(?:goal|target))")
_ESCALATION_CLAUSE = re.compile(rf"^(?:(?:but|and|yet|so|she|he|they|pt|patient)\s+)*"
                                rf"(?:{_ESCALATION_TAIL}|step up|add-?on)\s*[.!]?$", re.I)
_ESCALATION_END = re.compile(rf"\s+{_ESCALATION_TAIL}\s*$", re.I)
# A need for treatment of what is named ("needs IV abx", "needs acute treatment", "needs review
# of his tamsulosin") names no condition, and leaves the admission reason the question ("admitted
# with CAP, needs IV abx"); a need for prevention of another condition does not ("needs VTE
# prophylaxis").
_CARE_NEED = re.compile(
    r"^(?:(?:she|he|they|pt|patient)\s+)?(?:needs?|needing|requires?|requiring|for|awaiting|"
    r"wants?)\s+(?:(?:an?|some|further|iv|oral|po|im|empiric(?:al)?|acute|urgent|appropriate|"
    r"first[- ]line|second[- ]line|(?:his|her|their|the))\s+)*(?:abx|antibiotics?|antimicrobials?|"
    r"antivirals?|antifungals?|treatment|therapy|tx|rx|management|analgesia|pain relief|"
    r"pain control|(?:med(?:ication)?\s+)?review(?:\s+of(?:\s+(?:his|her|their|the|current))?"
    r"(?:\s+(?:meds|medications?|medicines|drugs|tablets|treatment))?)?)$", re.I)
# Which episode, not what: "2nd episode this month", "third attack in a year".
_EPISODE_CLAUSE = re.compile(
    r"^(?:\d+(?:st|nd|rd|th)|first|second|third|fourth|fifth|another|recurrent)\s+(?:episode|"
    r"attack|flare|exacerbation|infection|presentation|admission|course)(?:\s+(?:this|in|over|"
    r"within|since|of|the)\b.*)?$", re.I)
# A test and its result is a finding, not the question: "MSU +ve", "CXR: RLL consolidation".
_TEST_RESULT = re.compile(rf"^(?:{alternation('test_names_regex')})\b", re.I)
# A risk the patient carries is context for the choice, never what is prescribed for: "falls
# risk", "high bleeding risk", "at risk of falls".
_RISK_CLAUSE = re.compile(r"^(?:(?:high|higher|increased|significant|moderate|low)\s+)?(?:falls?|"
                          r"bleeding|bleed|aspiration)\s+risk$|^(?:at\s+)?(?:high\s+|increased\s+)?"
                          r"risk\s+(?:of|for)\s+(?:falls?|falling|bleeding|aspiration)$", re.I)
# History cues that open a list: "PMH HTN, CKD", "Hx asthma, eczema", "known T2DM, HTN".
_LIST_HISTORY = re.compile(r"^(?:(?:a\s+)?(?:past\s+)?(?:medical\s+)?(?:history|hx)\b|h/o|pmhx?\b|"
                           r"background|comorbid|underlying|known)", re.I)
_LIST_SEPARATOR = re.compile(r"^[\s,]*(?:(?:and|&|\+)\s+)?$", re.I)
_AFTER_DRUG_SEPARATOR = re.compile(r"^\x00+\s*,[\s,]*(?:(?:and|&|\+)\s+)?$", re.I)
_PIECE_BREAK = re.compile(r"[\x00,;\n]+|\.(?!\d)|!|\s+with\s+(?=(?:a\s+)?(?:prior|previous|"
                          r"history|h/o|hx|known|background|past)\b)")
_FILLER_RE = re.compile(rf"^(?:{alternation('filler_phrases_regex')})\b[\s!.]*$", re.I)
_QUESTION_START = re.compile(rf"^(?:{alternation('question_words')})\b", re.I)
_TRAILING_WORD = re.compile(r"(?:\s+|^)(?:please|thanks|thank you|today|now|in|a|an|the|to|for|"
                            r"with|of|and|at|on|who|is|after|following|from)\s*$", re.I)

# What a request names: up to four words, ending before "for/to/in/with", an article or
# punctuation ("recommend oxycodone for back pain" -> "oxycodone").
_REQUESTED = (r"(?:[ \t]+(?!(?:for|to|in|with|a|an|the|this|my|our|her|his)\b)[^\s,.;?!\n]+){0,4}?"
              r"(?=[ \t]+(?:for|to|in|with|a|an|the|this|my|our|her|his)\b|[,.;?!\n]|$)")
# A request ("recommend oxycodone", "can I give nitrofurantoin") names what is asked about, not
# what the patient takes: the verb and its object go.
_REQUEST_RE = re.compile(
    r"\b(?:(?:please )?recommend\w*|prescrib\w*|suggest\w*|switch(?:ing)? to|instead of|what about|"
    r"how about|(?:can|could|should|may) (?:i|we|you) (?:use|give|start|prescribe|recommend|try)|"
    r"is it (?:ok|okay|safe) to (?:use|give|start|prescribe)|what (?:do|would|should|can) (?:you|i|we)"
    r"(?: \w+)?|what to (?:give|prescribe|use)|options? for|alternatives? to|"
    r"treat(?:ment)? options?|what antibiotics?|which (?:drug|antibiotic|medication)s?|"
    r"(?:wants?|would like|planning|plans?|considering|thinking of|keen|hoping) to (?:start|begin|add|"
    r"try|commence|switch to|use)|consider(?:ing)? (?:starting|adding)|to start)" + _REQUESTED, re.I)
# The patient's wish ("requesting Xanax", "asks about sertraline") names a drug not taken yet,
# kept as a note. More of a drug, a refill or a repeat is of a drug taken ("requesting more
# oxycodone", "a refill of sertraline"), so is stopping one ("interested in stopping her statin");
# "wants to ..." is read by _REQUEST_RE ("wants to start") or stays ("wants to stop").
_WISH_RE = re.compile(
    r"\b(?:requesting|requests?|request for|asking (?:for|about)|asks (?:for|about)|wants|"
    r"would like|interested in|(?:enquir|inquir)(?:es|ing) about)"
    r"(?![ \t]+(?:(?:a|an|the|her|his|their|my)[ \t]+)?(?:refills?|repeats?|renewal|top-?up|more|"
    r"to|stop\w*|coming off|reduc\w*|taper\w*|wean\w*|switch\w* from)\b)(?:[ \t]+(?:a|an|some))?"
    + _REQUESTED, re.I)
_QUESTION_CLAUSE = re.compile(r"(?:^|(?<=[.;\n]))[^.;\n?]*\?", re.I)


# What kind of care is wished for, not a medicine: "wants acute treatment", "requests pain relief".
_CARE_WISHED = re.compile(r"\b(?:treatment|therapy|management|advice|options?|review|plan|"
                          r"prophylaxis|prevention|relief|control|help|referral|something|"
                          r"anything|input|opinion|assessment|prescription|script)$", re.I)


# Contraception is asked for, not taken: the wish is the consultation's question.
_CONTRACEPTION_WISHED = re.compile(r"\b(?:birth control|contracepti\w*|the pill)\b", re.I)


# A clause that gives an order ("Add GDMT.", "start apixaban", "optimise GDMT") asks for
# treatment; what it names is neither a condition nor a drug taken now.
_ORDER_RE = re.compile(r"(?:^|(?<=[.;,:\n]))[ \t]*(?:please[ \t]+)?(?:add|start|initiate|commence|"
                       r"begin|optimi[sz]e|maximi[sz]e|up-?titrate|titrate|intensify|escalate|"
                       r"step[ \t]+up)\b" + _REQUESTED, re.I)


def read_requests(t: Text, f: Findings) -> None:
    for m in t.matches(_ORDER_RE):
        f.note("request", said=" ".join(m.group(0).split()))
        t.take(m.start(), m.end())
    for m in t.matches(_WISH_RE):
        wish = " ".join(m.group(0).split())
        asked = _CONTRACEPTION_WISHED.search(m.group(0))
        if asked:           # "wants birth control": contraception is the question, read later
            t.take(m.start(), m.start() + asked.start())
            continue
        f.note("request" if _CARE_WISHED.search(wish) else "asked_for_drug", said=wish)
        t.take(m.start(), m.end())
    for m in t.matches(_REQUEST_RE):
        t.take(m.start(), m.end())


# A guess the writer corrects at once: "genital herpes? no - herpes zoster T5" asks about the
# zoster; the guess before "? no" is no condition of the patient.
_CORRECTED_GUESS = re.compile(r"[^,.;\n?]*\?[ \t]*(?:no|nope)\b[ \t]*[-\u2013\u2014,:][ \t]*", re.I)


def read_questions(t: Text) -> None:
    for m in t.matches(_CORRECTED_GUESS):
        t.take(m.start(), m.end())
    for m in t.matches(_QUESTION_CLAUSE):
        t.take(m.start(), m.end())


def _short_answer(raw: str, f: Findings) -> bool:
    """A clause that only answers a question; sets the matching flag."""
    if PROCEED_RE.match(raw):
        f.proceed = True
    elif NONE_RE.match(raw):
        f.bare_none = True
        # A bare "no" may also answer "pregnant?"; dialogue decides which was asked.
        f.bare_no = f.bare_no or bool(NO_RE.match(raw))
    elif UNKNOWN_RE.match(raw):
        f.bare_unknown = True
    elif YES_RE.match(raw):
        f.bare_yes = True
    elif NO_RE.match(raw):
        f.bare_no = True
    elif num := NUMBER_RE.match(raw):
        f.bare_number = float(num.group(1))
    else:
        return False
    return True


# After "Dx:" a part between commas that denies something ("no fever") or names no condition
# ("outpatient", "otherwise well") is a fact about the patient or the visit, not the diagnosis.
# No ICD-10-CM title holds ", no ..."; those with ", not ..." ("not intractable") are kept.
_DX_PART = re.compile(r",|\.(?=\s|$)")
_DENIAL = re.compile(r"^(?:no|nil|denies|denied|negative for)\b", re.I)


def _stated_diagnosis(piece: str, f: Findings, first: bool) -> str:
    kept: list[str] = []     # parts with the separator before them, as written
    pos, sep = 0, ""
    for m in [*_DX_PART.finditer(piece), None]:
        part = piece[pos:m.start() if m else len(piece)]
        cleaned = clean_piece(part)
        if cleaned and (kept or not first) and (_DENIAL.match(cleaned)
                                                or not is_condition_word(cleaned)):
            f.note("not_the_question", said=cleaned)
        elif cleaned:
            kept.append((sep if kept else "") + part)
        if m:
            pos, sep = m.end(), m.group(0)
    return clean_piece("".join(kept))


def read_leftover(t: Text, f: Findings, dx_segments: list[tuple[int, int]]) -> None:
    for a, b in dx_segments:
        pieces: list[str] = []
        for x in re.split(r"\x00+", t.leftover(a, b)):
            piece = _stated_diagnosis(x, f, first=not pieces)
            if piece:
                pieces.append(piece)
        text = ", ".join(pieces)
        if text:
            f.values["diagnosis"] = text
            f.diagnosis_explicit = True
        t.take(a, b)
    need_stated = False
    focus: list[str] = []
    history: list[str] = []
    complaints: list[str] = []
    # Background by place, ranked below the question but above "history of": a condition
    # named with its drug ("AF on apixaban", t.background), and the bare items that continue a
    # history list ("PMH HTN, CKD"). Alone, they are the question ("history of MI, hypertension").
    soft: list[str] = []
    in_history_list = False
    after_drug = False       # the piece before was named with its drug ("PMH AF on warfarin")
    escalate = False         # "needs intensification": the treated condition is the question
    left = t.leftover()
    for raw_piece, start, end, sep in _pieces(left):
        raw = raw_piece.strip()
        said = " ".join(raw.split()).strip(" .!")
        if _CARE_NEED.match(said) or _EPISODE_CLAUSE.match(said):
            f.note("care_need", said=said)     # "needs IV abx", "2nd episode this month": no condition
            continue
        at_goal = NOT_AT_GOAL.match(" " + raw)     # "LDL above goal", "BP not at target"
        if _ESCALATION_CLAUSE.match(raw) or (at_goal and not raw[at_goal.end() - 1:].strip(" .!")):
            escalate = True
            f.note("care_need", said=" ".join(raw.split()).strip(" .,!"))
            continue
        tail = _ESCALATION_END.search(raw)
        if tail:      # "T2DM needs intensification": T2DM is asked about, the call is a note
            escalate = True
            f.note("care_need", said=" ".join(tail.group(0).split()))
            raw = "now " + raw[:tail.start()]
        need_stated = need_stated or bool(_NEED_CLAUSE.match(raw))
        # "PMH: AF on warfarin, COPD": the list goes on after the drug named with an item.
        continues_list = in_history_list and bool(
            _LIST_SEPARATOR.match(sep) or (after_drug and _AFTER_DRUG_SEPARATOR.match(sep)))
        after_drug = bool(raw) and t.in_background(start, end)
        in_history_list = False
        if not raw or _short_answer(raw, f):
            continue
        # Context per concept (context.py): negated, family and hypothetical clauses are notes,
        # past ones comorbidities, "now with" / "new" ones the question.
        ctx = read_clause_loose(raw)
        cleaned = clean_piece(ctx.term if not EXPLICIT_DIAGNOSIS.match(raw) else raw)
        if _ED.match(cleaned) and f.values.get("sex") == "male":
            cleaned = "erectile dysfunction"    # "62M c/o ED" (the place was read in context.py)
        if not cleaned or not is_condition_word(cleaned):
            continue
        if ctx.negated or ctx.family or ctx.hypothetical or _NEGATIVE_CLAUSE.match(cleaned) \
                or _ACTION_CLAUSE.match(raw) or _TEST_RESULT.match(cleaned) \
                or _RISK_CLAUSE.match(cleaned) \
                or _RATE_CLAUSE.match(" ".join(raw.split()).strip(" .")) \
                or NOT_AT_GOAL.match(" " + cleaned):
            kind = ("family_history" if ctx.family else "hypothetical" if ctx.hypothetical
                    else "negated" if ctx.negated or _NEGATIVE_CLAUSE.match(cleaned)
                    else "not_the_question")
            f.note(kind, said=clean_piece(raw) or cleaned)
        elif EXPLICIT_DIAGNOSIS.match(raw):
            f.values["diagnosis"] = cleaned if "diagnosis" not in f.values else (
                f.values["diagnosis"] + ", " + cleaned)
            f.diagnosis_explicit = True
        elif ctx.historical:
            history += [h for h in re.split(r"\s+(?:and|&|\+)\s+", cleaned) if h]
            in_history_list = bool(_LIST_HISTORY.match(without_lead_words(raw)))
        elif not ctx.focus and not _COMPLAINT.match(raw) and (
                continues_list or t.in_background(start, end) or _YEARS.search(raw)):
            soft.append(cleaned)
            in_history_list = continues_list
        else:
            if _COMPLAINT.match(raw) and is_symptom(cleaned):
                complaints.append(cleaned)
            elif ctx.focus or _COMPLAINT.match(raw):
                focus.append(cleaned)    # "c/o insomnia": a complaint that names a condition
            f.diagnosis_candidates.append(cleaned)
    background = [p for p in f.diagnosis_candidates if _HISTORY_CLAUSE.match(p)
                  or (need_stated and _ADMISSION_CLAUSE.match(p))]
    if background and len(background) < len(f.diagnosis_candidates):
        f.diagnosis_candidates = [p for p in f.diagnosis_candidates if p not in background]
        for x in background:
            f.note("background", said=x)
    if complaints and len(complaints) < len(f.diagnosis_candidates):
        # "c/o dysuria x2d, uncomplicated UTI": the named condition is the question, the
        # complaint its symptom. ("c/o insomnia, HTN": the complaint is the question, above.)
        f.diagnosis_candidates = [p for p in f.diagnosis_candidates if p not in complaints]
        focus = [p for p in focus if p not in complaints]
        for x in complaints:
            f.note("symptom", said=x)
    symptoms = [p for p in f.diagnosis_candidates if p not in focus and _coded_symptom(p)]
    if symptoms and len(symptoms) < len(f.diagnosis_candidates):
        # "3 days of dysuria, acute cystitis": the condition named explains the symptom.
        f.diagnosis_candidates = [p for p in f.diagnosis_candidates if p not in symptoms]
        for x in symptoms:
            f.note("symptom", said=x)
    if focus and len(focus) < len(f.diagnosis_candidates):
        # "HTN, DM2, new gout flare": the unmarked conditions are background to the question.
        history += [p for p in f.diagnosis_candidates if p not in focus]
        f.diagnosis_candidates = focus
    loose = not ("diagnosis" in f.values or dx_segments)
    if loose and not focus:
        _urine_infection(f, left)
        _acute_beside_chronic(f, history)
    if escalate and not focus and not dx_segments and "diagnosis" not in f.values:
        _treated_is_the_question(f, soft, history)
        soft = []
    asked = bool(f.diagnosis_candidates or "diagnosis" in f.values or dx_segments)
    if soft and not asked:
        f.diagnosis_candidates = soft        # only background by place: that is the question
    elif soft and loose and not focus and not f.diagnosis_choices \
            and _long_term(f.diagnosis_candidates):
        # "T2DM on metformin, HFrEF", "depression, epilepsy on levetiracetam": long-term
        # conditions only, one named with its drug, no complaint. The first named is the
        # question, as a problem list is written; the clinician is told, to correct it.
        named = f.diagnosis_candidates + soft
        first = min(named, key=lambda x: _position(left, x))
        history += [x for x in named if x != first]
        f.diagnosis_candidates = [first]
        f.note("read_as_question", first=first,
               others=", ".join(x for x in named if x != first))
    elif soft:
        history += soft
    _flare_of_the_history(f, history)
    if f.diagnosis_explicit and "diagnosis" in f.values and f.diagnosis_candidates:
        # "HTN, asthma, dx acne": the question is stated; the other conditions named (coded, no
        # symptom, no differential "X vs Y") are the patient's: they were dropped, and with
        # them their checks.
        history += [c for c in f.diagnosis_candidates if not _DIFFERENTIAL.search(c)
                    and (coded := code_diagnosis(c)) is not None and not coded.code.startswith("R")]
        f.diagnosis_candidates = []
    if history and not f.diagnosis_candidates and "diagnosis" not in f.values and not dx_segments:
        f.diagnosis_candidates = history     # only history given: that is what is asked about
    elif history:
        f.add_items("comorbidities", [comorbidity_text(h) for h in history])


# "Hx COPD, HTN. Here with exacerbation": a flare names no condition of its own; with one
# condition in the history that flares (COPD, asthma, gout, ...) it is that condition's flare
# ("COPD exacerbation"), no longer background.
_BARE_FLARE = re.compile(r"^(?:an?\s+)?(?:acute\s+)?(?:exacerbation|flare(?:[- ]?up)?)\b", re.I)
_FLARES = re.compile(r"\b(?:copd|chronic obstructive|asthma|gout|colitis|crohn|inflammatory bowel|"
                     r"ibd|psoria|eczema|dermatitis|multiple sclerosis|rheumatoid|lupus|sle|"
                     r"heart failure|bronchiectasis)", re.I)


def _flare_of_the_history(f: Findings, history: list[str]) -> None:
    flares = [c for c in f.diagnosis_candidates if _BARE_FLARE.match(c)]
    stated = f.values.get("comorbidities", [])
    prone = [h for h in history if _FLARES.search(h)] or [c for c in stated if _FLARES.search(c)]
    if len(flares) != 1 or len(prone) != 1:
        return
    condition = prone[0]
    if condition in history:
        history.remove(condition)
    else:
        f.remove_items("comorbidities", {condition})
    f.diagnosis_candidates = [f"{condition} {flares[0]}" if c == flares[0] else c
                              for c in f.diagnosis_candidates]


def _treated_is_the_question(f: Findings, soft: list[str], history: list[str]) -> None:
    """"T2DM on metformin, prior MI, needs intensification": the condition named with its drug
    is the question, any other condition named is background. Several treated ones: ask which.
    None by place: a condition the drug was said to be for ("on metformin for T2DM")."""
    treated = list(soft) or [c for c in f.treated if not f.diagnosis_candidates]
    if not treated:
        return
    history += [c for c in f.diagnosis_candidates if c not in treated]
    f.diagnosis_candidates = treated
    if len(treated) > 1:
        f.diagnosis_choices = list(treated)
    if not soft:     # read from "on X for Y": no longer a comorbidity, it is the question
        f.remove_items("comorbidities", {comorbidity_text(c) for c in treated})


# Symptom plus test: lower urinary tract symptoms with a positive urine culture or nitrite are a
# urinary tract infection (culture-proven, or nitrite: specific for bacteriuria); leucocytes
# alone are not. "c/o dysuria, MSU +ve", "frequency and dysuria, urine dip nitrite+".
_URINARY_SYMPTOM = re.compile(
    r"^(?:dysuria|(?:urinary\s+)?(?:frequency|urgency)|haematuria|hematuria|suprapubic (?:pain|"
    r"discomfort|tenderness)|cloudy urine|smelly urine|(?:burning|stinging|pain(?:ful)?)\s+(?:on|"
    r"when|with|while)?\s*(?:urination|micturition|passing urine|peeing|voiding))$", re.I)
_POSITIVE_URINE_TEST = re.compile(
    r"\b(?:msu|urine culture|urine c/?s|urine mc&s|urine cx)\s*:?\s*(?:\+\s*ve\b|\+|positive|"
    r"pos\b|grew|growing)|\bnitrites?\s*:?\s*(?:\+\s*ve\b|\++|positive|pos\b|present)|"
    r"\b(?:positive|\+ve)\s+(?:for\s+)?nitrites?\b|\bnitrite[- ]positive\b", re.I)


def _urine_infection(f: Findings, left: str) -> None:
    """Only urinary symptoms are left, and a urine test is positive: the question is the UTI."""
    parts = [p for c in f.diagnosis_candidates for p in re.split(r"\s+(?:and|&|\+|with)\s+|/", c)]
    if not parts or not all(_URINARY_SYMPTOM.match(p.strip()) for p in parts):
        return
    test = _POSITIVE_URINE_TEST.search(left.replace("\x00", " "))
    if test:
        f.note("urine_test", conditions=", ".join(f.diagnosis_candidates),
               test=test.group(0).strip())
        f.diagnosis_candidates = ["urinary tract infection"]


def _chronic(code: str) -> bool:
    return code.startswith(tuple(context_cues()["chronic_icd10"]))


_DIFFERENTIAL = re.compile(r"\s(?:vs\.?|versus|or)\s|\?", re.I)
_ACUTE_WORDS = re.compile(r"\b(?:exacerbation|exac|flare|acute|decompensat\w*|attack|crisis)\b", re.I)


def _acute_beside_chronic(f: Findings, history: list[str]) -> None:
    """Several conditions named with no cue ("HTN, UTI"): one acute condition beside long-term
    ones is the question, the others background; otherwise, with two or more conditions, which
    one the prescription is for is asked (Findings.diagnosis_choices), never guessed."""
    if len(f.diagnosis_candidates) < 2:
        return
    coded = [code_diagnosis(c) for c in f.diagnosis_candidates]
    if any(c is None for c in coded) or any(_DIFFERENTIAL.search(c) for c in f.diagnosis_candidates):
        return       # a clause that names no condition the coder knows, or weighs two: as before
    if len({c.code[:3] for c in coded}) == 1:
        return       # one condition named twice ("GERD sx, GERD")
    acute = [t for t, c in zip(f.diagnosis_candidates, coded) if not _is_long_term(t, c)]
    if len(acute) == 1:
        history += [t for t in f.diagnosis_candidates if t not in acute]
        f.diagnosis_candidates = acute
    else:
        f.diagnosis_choices = list(f.diagnosis_candidates)


def _position(text: str, term: str) -> int:
    at = text.casefold().find(term.casefold())
    return at if at >= 0 else len(text)


def _is_long_term(text: str, coded) -> bool:
    """A long-term condition as written: a chronic code, no "flare" or "exacerbation"."""
    return coded is not None and _chronic(coded.code) and not _ACUTE_WORDS.search(text)


def _long_term(conditions: list[str]) -> bool:
    return all(_is_long_term(c, code_diagnosis(c)) for c in conditions)


def is_symptom(term: str) -> bool:
    """A complaint that a named condition may explain: a symptom code (ICD-10-CM chapter R),
    pain, or no code at all ("c/o dysuria", "c/o knee pain", "c/o feeling tired")."""
    coded = code_diagnosis(term)
    return coded is None or coded.code.startswith("R") or "pain" in coded.title.lower()


def _coded_symptom(term: str) -> bool:
    coded = code_diagnosis(term)
    return coded is not None and coded.code.startswith("R")


def _pieces(left: str):
    """Clauses of what is left, each with its span and the separator before it."""
    pos, sep = 0, ""
    for m in _PIECE_BREAK.finditer(left):
        yield left[pos:m.start()], pos, m.start(), sep
        pos, sep = m.end(), m.group(0)
    yield left[pos:], pos, len(left), sep


# How long, not what: "insomnia x 3 months", "cough x2d", "sinusitis for 10 days", "3 days of
# dysuria", "pain since yesterday" (UK shorthand "x 3/7" is days, "/52" weeks, "/12" months).
_COUNT, _UNIT = DURATION_COUNT, DURATION_UNIT
_DURATION_END = re.compile(
    rf"(?:\s+|(?<=\w)(?=[x×]\d))(?:(?:[x×]|for|over(?:\s+the)?(?:\s+(?:past|last))?)\s*)?"
    rf"{_COUNT}\s*{_UNIT}(?:'?s?\s+(?:duration|history|hx))?(?:\s+ago)?\s*$|"
    r"\s+since\s+(?:yesterday|last\s+\w+|this\s+\w+|\w+day|\d+\s*\w+\s+ago)\s*$", re.I)
# Years of it: long-standing, background beside another condition ("T2DM x 10 years, ED").
_YEARS = re.compile(r"(?:\s|^)(?:[x×]\s*|for\s+|over\s+)?\d+\s*(?:y|yrs?|years?)\b(?!\s+ago)|"
                    r"\blong-?standing\b", re.I)
_DURATION_START = re.compile(
    rf"^(?:[x×]\s*)?{_COUNT}\s*-?\s*{_UNIT}(?:'s?)?\s+(?:(?:of|hx of|history of)\s+)?(?=[^\d\s])", re.I)


# How often, not what: "4 attacks/month", "2-3 headaches a week", "3x per day" (a detail kept as
# a note when it is the whole clause, dropped after a condition: "migraine 4x/month").
_PER = r"(?:/\s*|\s+(?:per|a|an|each|every)\s+)"
_RATE_UNIT = r"(?:day|d|week|wk|w|month|mo|mth|year|yr|y|night|hour|hr|h)s?\b"
_RATE = (rf"(?:~\s*|about\s+|approx\.?\s+|up to\s+)?(?:\d+(?:\.\d+)?(?:\s*-\s*\d+)?|once|"
         rf"twice|several|few)\s*(?:x|times)?(?:\s*[A-Za-z]+){{0,2}}?{_PER}{_RATE_UNIT}")
_RATE_CLAUSE = re.compile(rf"^{_RATE}$", re.I)
_RATE_END = re.compile(rf"(?:,?\s+(?:with|having)\s+|\s+|(?<=\w)(?=\d+x))(?:[x×]\s*)?{_RATE}\s*$",
                       re.I)


def without_rate(s: str) -> str:
    new = _RATE_END.sub("", s).strip(" ,.-")
    return new if re.search(r"[A-Za-z]{2,}", new) else s


# The visit, not the condition: "BP review", "asthma follow-up", "diabetes check", "UTI sx".
_VISIT_END = re.compile(r"\s+(?:annual\s+|routine\s+|medication\s+|med\s+)?(?:review|follow[- ]?up|f/u|"
                        r"check(?:[- ]?up)?|re-?check|visit|appointment|appt)\s*$|"
                        r"\s+(?:sx|symptoms?)\s*$", re.I)
_BLOOD_PRESSURE = re.compile(r"^(?:bp|blood pressure|high bp|high blood pressure|raised bp)$", re.I)


# "for review of COPD", "follow-up of gout": the visit words before the condition go too.
_VISIT_START = re.compile(r"^(?:(?:here\s+|seen\s+)?for\s+(?:an?\s+|the\s+)?)?(?:(?:annual|routine|"
                          r"medication|med)\s+)?(?:review|follow[- ]?up|f/u|"
                          r"check(?:[- ]?up)?)\s+(?:of|for)\s+(?=[A-Za-z])", re.I)


def without_visit(s: str) -> str:
    new = _VISIT_END.sub("", _VISIT_START.sub("", s)).strip(" ,.-")
    if not re.search(r"[A-Za-z]{2,}", new):
        return s
    return "hypertension" if _BLOOD_PRESSURE.match(new) else new


def without_duration(s: str) -> str:
    s = _DURATION_START.sub("", s)
    new = _DURATION_END.sub("", s).strip(" ,.-")
    return new if re.search(r"[A-Za-z]{2,}", new) else s


_WORD = re.compile(r"[A-Za-z]{2,}|[\uac00-\ud7a3]")


def clean_piece(piece: str) -> str:
    s = re.sub(r"\s+", " ", piece.replace("\x00", " ")).strip(" .:;,-'\"")
    if s.count("(") != s.count(")"):     # "asthma (" when "(on salbutamol)" was read
        s = s.strip(" ()").strip(" .:;,-")
    s = without_visit(without_duration(without_rate(s)))
    for _ in range(6):
        new = _LEAD_CUE_RE.sub("", s).strip(" .:-,")
        if new == s:
            break
        s = new
    for _ in range(4):
        new = _TRAILING_WORD.sub("", s).strip(" .:-,?!")
        if new == s:
            break
        s = new
    # A Korean word no table knows is kept, so it is shown back rather than silently lost.
    if not _WORD.search(s) or _FILLER_RE.match(s) or _QUESTION_START.match(s):
        return ""
    if len(s) > 200:
        s = s[:200].rsplit(" ", 1)[0]
    return s
