"""Reading the interaction sources' names onto the knowledge base (no fuzzy, ever)."""

from guardrails import _kb
from guardrails._interactions_build import ANSM_LEVELS, NameMapper


def mapper(aliases=None, rx=None):
    return NameMapper(_kb.load(), aliases or {}, rx or {})


def test_french_names_read_through_spelling_rules():
    m = mapper()
    assert m.map("warfarine") == ("warfarin",)
    assert m.map("clarithromycine") == ("clarithromycin",)
    assert m.map("acide valproïque") == ("valproic acid",)
    assert m.map("dinitrate d'isosorbide") == ("isosorbide dinitrate",)
    assert m.map("dalteparine sodique") == ("dalteparin",)
    assert m.map("trinitrine") == ("nitroglycerin",)


def test_aliases_win_and_unknown_names_stay_unmapped():
    m = mapper({"fer": ["iron"], "boldo": []})
    assert m.map("fer") == ("iron",)
    assert m.map("boldo") is None
    assert m.map("xyzzyplexine") is None


def test_rxnorm_id_disagreement_is_recorded():
    m = mapper(rx={"11289": "Warfarin", "1": "Aspirin"})
    assert m.map("warfarine", ["11289"]) == ("warfarin",)
    assert m.rxcui_disagree == []
    m.map("warfarine", ["1"])
    assert m.rxcui_disagree and "Aspirin" in m.rxcui_disagree[0]


def test_ansm_levels_map_to_the_issue_severities():
    assert ANSM_LEVELS["contre indication"][0] == "critical"
    assert ANSM_LEVELS["association deconseillee"][0] == "warning"
    assert ANSM_LEVELS["precaution d emploi"][0] == "warning"
    assert ANSM_LEVELS["a prendre en compte"][0] == "info"
