"""The faithfulness guard on invented summaries: each rule, the misses and false alarms it fixed.

Every example here is made up for the test (invented papers, labs and figures), so the guard is
never tuned to a real edition; the benchmark ``bench.faithfulness`` measures it on real ones.
"""

from __future__ import annotations

import pytest

from bot.edition.guard import unsupported_claims

SOURCE = (
    "Sparrow-RL: Cheap Preference Tuning for Small Models\n"
    "Mira Okafor, Tomas Lindqvist\n"
    "We study direct preference optimization for small language models. Using "
    "retrieval-augmented generation and chain-of-thought prompting, our method trains in "
    "16 hours on eight GPUs and reaches 71.4% accuracy. It performs comparable to GPT-4 on "
    "the Quokka benchmark and outperforms Heron-2 by 6 points. Gains reach up to 12% on "
    "long inputs. Preliminary results suggest that the method may reduce hallucinations in "
    "multilingual question answering. Built at Westbrook University."
)


def problems(text: str, source: str = SOURCE) -> list[str]:
    return unsupported_claims([text], source)


# -- the five false alarms of the old guard -------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "A DPO-style recipe that small teams can run.",
        "It combines RAG with careful prompting.",
        "CoT prompts make the reasoning visible.",
        "The code is plain Python.",
        "Weights are on Hugging Face.",
    ],
)
def test_generic_vocabulary_and_derived_forms_are_not_claims(text: str) -> None:
    assert problems(text) == []


def test_an_acronym_passes_when_the_source_spells_it_out() -> None:
    source = "We use retrieval-augmented generation and chain-of-thought; reinforcement "
    source += "learning from human feedback follows. Low-rank adaptation keeps it cheap."
    # Not generic vocabulary, so only the source's expansion can excuse these.
    assert problems("RAG and CoT help; RLHF follows; LoRA is cheap.", source) == []
    assert problems("The XQT stage is new.", source) == ["XQT"]


def test_title_words_and_authors_pass() -> None:
    assert problems("Sparrow-RL, from Okafor and Lindqvist, tunes small models.") == []


# -- figures ----------------------------------------------------------------------------------


def test_a_figure_needs_its_unit_not_just_its_number() -> None:
    # The old guard's miss: "16%" was found inside "16 hours".
    assert problems("It improves accuracy by 16%.") == ["16%"]
    assert problems("Training takes 16 hours.") == []
    assert problems("A 16-hour training run.") == []


def test_single_digits_with_a_unit_are_figures() -> None:
    # The old guard's miss: single digits were never checked.
    found = problems("Training takes 3 days on 4 GPUs, a 2x speedup.")
    assert found == ["3 days", "4 GPUs", "2x"]
    assert problems("It trains on eight GPUs.") == []
    assert problems("It trains on 8 GPUs.") == []  # number words in the source count


def test_a_number_with_another_unit_is_named_with_its_unit() -> None:
    assert problems("Training takes 16 days.") == ["16 days"]
    assert problems("It tops out at 71.4 hours.") == ["71.4 hours"]


def test_rounding_is_allowed_changing_is_not() -> None:
    assert problems("It reaches about 71% accuracy.") == []
    assert problems("It reaches 72% accuracy.") == ["72%"]


def test_bare_single_digits_labels_years_and_small_ordinals() -> None:
    assert problems("Three ideas stand out; step 2 matters most and it ranks 1st.") == []
    assert problems("A 3-step recipe, as in Table 4.") == []
    assert problems("Released in 2031.") == ["2031"]
    assert problems("It took three days.") == ["three days"]


def test_points_and_percent_are_one_unit() -> None:
    assert problems("It beats Heron-2 by 6 points.") == []


# -- names ------------------------------------------------------------------------------------


def test_a_name_at_the_start_of_a_sentence_is_checked() -> None:
    # The old guard's miss: only mid-sentence capitals were seen.
    assert problems("Velmora built this tuning recipe.") == ["Velmora"]
    assert problems("Karvell University built it.") == ["Karvell University"]
    # A rare dictionary word used as a name is still a name: only everyday words pass.
    assert problems("Verdigris built it.") == ["Verdigris"]


def test_everyday_words_opening_a_sentence_are_not_names() -> None:
    text = "Measure before you tune. Teams with small budgets benefit. Essential reading."
    assert problems(text) == []


def test_names_mid_sentence_and_invented_compounds() -> None:
    assert problems("It was built at Westbrook University.") == []
    assert problems("It was built by Orchard.") == ["Orchard"]
    assert problems("Fable-Agent solves this.") == ["Fable-Agent"]
    assert problems("It scores well on Quokka and on Wombat-Bench.") == ["Wombat-Bench"]


# -- comparisons ------------------------------------------------------------------------------


def test_beating_a_rival_the_source_calls_comparable_is_flagged() -> None:
    # The old guard's miss: "beats GPT-4" where the source only says "comparable to GPT-4".
    assert problems("It beats GPT-4 on Quokka.") == ["beats GPT-4"]
    assert problems("It outperforms Heron-2.") == []


@pytest.mark.parametrize(
    ("claim", "shown"),
    [
        ("It outperforms all prior methods.", "outperforms all prior methods"),
        ("It beats the state of the art.", "beats the state of the art"),
        ("It sets a new state-of-the-art.", "state-of-the-art"),
        ("This is SOTA for small models.", "SOTA"),
        ("It is the first method to do this.", "the first"),
        ("Results are better than every baseline.", "better than every baseline"),
        ("The approach surpasses existing systems.", "surpasses existing systems"),
        ("It achieves the best results so far.", "best"),
    ],
)
def test_comparisons_need_support_in_the_source(claim: str, shown: str) -> None:
    plain = "We describe a tuning recipe for small models and report its accuracy."
    assert problems(claim, plain) == [shown]


def test_comparisons_the_source_makes_pass() -> None:
    source = "Our model outperforms prior methods and achieves state-of-the-art results; "
    source += "to our knowledge it is the first open recipe."
    text = "It outperforms prior methods, is state of the art and is the first open recipe."
    assert problems(text, source) == []


def test_a_negated_comparison_is_not_a_claim() -> None:
    plain = "We describe a tuning recipe for small models."
    assert problems("It does not beat larger models.", plain) == []


# -- hedges -----------------------------------------------------------------------------------


def test_dropping_up_to_from_a_figure_is_flagged() -> None:
    assert problems("Gains reach 12% on long inputs.") == ["drops the hedge 'up to' (12%)"]
    assert problems("Gains reach up to 12% on long inputs.") == []
    assert problems("Gains may reach 12% on long inputs.") == []


def test_dropping_may_from_a_claim_is_flagged() -> None:
    text = "The method reduces hallucinations in multilingual question answering."
    assert problems(text) == ["drops the hedge 'may'"]
    hedged = "The method may reduce hallucinations in multilingual question answering."
    assert problems(hedged) == []


def test_a_claim_the_source_also_states_flatly_keeps_no_hedge() -> None:
    source = "It may lower cost for small teams. Our runs show it lowers cost for small teams."
    assert problems("It lowers cost for small teams.", source) == []


def test_several_texts_report_each_problem_once_in_order() -> None:
    texts = ["It improves accuracy by 16%.", "Velmora agrees: 16% more.", "Fine text."]
    assert unsupported_claims(texts, SOURCE) == ["16%", "Velmora"]


def test_british_spellings_of_everyday_words_are_not_names() -> None:
    source = "Agents normalise tool arguments and organise their caches by behaviour."
    summary = "Normalising arguments helps. Organising caches by behaviour helps too."
    assert unsupported_claims([summary], source) == []
