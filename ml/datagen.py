"""Deterministic generator of the labelled prompt dataset for the intent classifier.

The data is built compositionally: every intent has many sentence frames (questions, imperatives,
polite requests, first-person needs, context-first prompts, terse keyword prompts, multi-sentence
prompts with background) whose inline alternations ``[a|b|]`` and slots ``{name}`` are filled from
rich pools. Generic topics and domains are shared across intents on purpose, so a classifier has
to learn the intent cue (the verb and the structure of the request) rather than topic words.

Template mini-language, resolved left to right with one ``random.Random``:

* ``[a|b|]`` picks one alternative (an empty one drops the words).
* ``{pool}`` draws from a pool (a repeated ``{pool}`` repeats the same value); ``{pool2}``/``{pool3}``
  draw again from ``pool`` but never repeat an earlier draw in the same prompt; ``{^pool}`` capitalises the drawn value and ``{-pool}`` drops its
  leading article (for terse keyword prompts).
* ``a(n)`` becomes "a" or "an" depending on the word that follows.

The complexity label follows the prompt's construction: each frame has a base tier (simple = one
short ask, moderate = an ask with context or a constraint, complex = several sentences or parts)
and every appended constraint sentence raises it by one.

Output bytes depend only on the seed, ``per_intent`` and this file: there is no global random
state, no ``hash()`` of strings and no set iteration in anything that reaches the output.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ml.taxonomy import COMPLEXITIES, INTENTS

logger = logging.getLogger(__name__)

Pool = Sequence[str] | Callable[[random.Random], str]

# Share of examples that get a greeting-like prefix / a sign-off suffix / realistic noise.
PREFIX_RATE = 0.12
SUFFIX_RATE = 0.12
NOISE_RATE = 0.13
MIN_WORDS = 2
MAX_WORDS = 85
# Give up on an intent after this many attempts in a row that produced nothing new: by then the
# reachable space of distinct prompts for that intent is (practically) exhausted.
MAX_CONSECUTIVE_MISSES = 4000


@dataclass(frozen=True)
class Frame:
    """One sentence frame: a template and the complexity tier its structure implies."""

    tier: int
    template: str


@dataclass(frozen=True)
class IntentSpec:
    """Everything needed to generate prompts for one intent."""

    frames: tuple[Frame, ...]
    pools: Mapping[str, Pool]
    constraints: tuple[str, ...]
    prefixes: tuple[str, ...]
    suffixes: tuple[str, ...]


def _frames(*items: tuple[int, str]) -> tuple[Frame, ...]:
    return tuple(Frame(tier, template) for tier, template in items)


# --------------------------------------------------------------------------------------------
# Small generators for slots whose values are numbers or need internal consistency.
# --------------------------------------------------------------------------------------------


def _int_slot(lo: int, hi: int) -> Callable[[random.Random], str]:
    return lambda rng: str(rng.randint(lo, hi))


def _choice_slot(values: Sequence[str]) -> Callable[[random.Random], str]:
    return lambda rng: rng.choice(values)


_NAMES: tuple[str, ...] = (
    "Alex", "Sam", "Priya", "Jordan", "Maria", "Tom", "Aisha", "Ken", "Lena", "Omar", "Chloe",
    "Diego", "Mei", "Noah", "Fatima", "Lucas", "Zoe", "Ravi", "Emma", "Jonas", "Sofia", "Yuki",
    "Ben", "Amara", "Leo", "Nina", "Carlos", "Hannah", "Ivan", "Grace",
)


def _numbers(rng: random.Random) -> str:
    base = rng.randint(8, 900)
    spread = max(2, base // 3)
    values = [max(0, base + rng.randint(-spread, spread)) for _ in range(rng.randint(5, 9))]
    return ", ".join(str(v) for v in values)


def _sequence(rng: random.Random) -> str:
    kind = rng.randrange(7)
    if kind == 0:
        a, d = rng.randint(1, 30), rng.randint(2, 12)
        terms = [a + i * d for i in range(5)]
    elif kind == 1:
        a, r = rng.randint(1, 5), rng.randint(2, 4)
        terms = [a * r**i for i in range(5)]
    elif kind == 2:
        k = rng.randint(1, 6)
        terms = [(k + i) ** 2 for i in range(5)]
    elif kind == 3:
        a, b = rng.randint(1, 5), rng.randint(1, 8)
        terms = [a, b]
        while len(terms) < 6:
            terms.append(terms[-1] + terms[-2])
    elif kind == 4:
        a, d1, d2 = rng.randint(1, 20), rng.randint(2, 9), rng.randint(1, 5)
        terms = [a]
        for i in range(5):
            terms.append(terms[-1] + (d1 if i % 2 == 0 else -d2))
    elif kind == 5:
        start = rng.randint(1, 5)
        terms = [n * (n + 1) // 2 for n in range(start, start + 5)]
    else:
        a, d = rng.randint(60, 200), rng.randint(3, 11)
        terms = [a - i * d for i in range(5)]
    return ", ".join(str(t) for t in terms)


def _word_problem(rng: random.Random) -> str:
    a, b = rng.sample(_NAMES, 2)
    kind = rng.randrange(15)
    if kind == 0:
        v1 = rng.choice((40, 50, 60, 70, 80))
        return (
            f"A train leaves the station at {rng.randint(1, 9)} pm going {v1} km/h. A second train "
            f"leaves the same station an hour later at {v1 + rng.choice((10, 20, 30))} km/h in the "
            "same direction. When does the second train catch up?"
        )
    if kind == 1:
        w = rng.randint(3, 12)
        return (
            f"If {w} workers can build a wall in {rng.randint(4, 20)} days, how long would it take "
            f"{w + rng.randint(1, 10)} workers to build the same wall?"
        )
    if kind == 2:
        return (
            f"A jacket costs ${rng.randint(20, 180)} after a {rng.choice((10, 15, 20, 25, 30, 40))}% "
            "discount. What was the original price?"
        )
    if kind == 3:
        return (
            f"A rectangle has a perimeter of {rng.choice(range(12, 120, 6))} cm and its length is twice "
            "its width. What is its area?"
        )
    if kind == 4:
        return (
            f"{a} is {rng.randint(2, 30)} years older than {b}. In {rng.randint(2, 15)} years, {a} will "
            f"be twice as old as {b}. How old are they now?"
        )
    if kind == 5:
        return (
            f"One pipe fills a tank in {rng.randint(2, 9)} hours and another fills it in "
            f"{rng.randint(3, 12)} hours. How long does it take with both pipes open?"
        )
    if kind == 6:
        return (
            f"A recipe for {rng.randint(2, 6)} people needs {rng.choice(range(100, 800, 50))} grams of "
            f"flour. How much flour do I need for {rng.randint(7, 20)} people?"
        )
    if kind == 7:
        return (
            f"My car uses {rng.randint(4, 12)} liters per 100 km and fuel costs "
            f"{rng.choice(('1.60', '1.75', '1.89', '2.05'))} per liter. How much will a "
            f"{rng.choice(range(150, 1200, 50))} km trip cost?"
        )
    if kind == 8:
        return (
            f"There are {rng.randint(5, 40)} people at a party and everyone shakes hands with everyone "
            "else exactly once. How many handshakes are there?"
        )
    if kind == 9:
        n, m = rng.randint(3, 9), rng.randint(10, 100)
        return (
            f"If {n} machines make {n} widgets in {n} minutes, how long would {m} machines take to "
            f"make {m} widgets?"
        )
    if kind == 10:
        up = rng.randint(2, 5)
        return (
            f"A snail climbs {up} meters up a {rng.randint(10, 30)}-meter well every day and slides "
            f"back {up - 1} meters every night. How many days until it gets out?"
        )
    if kind == 11:
        return (
            f"{a} reads {rng.randint(10, 60)} pages a day. The book has {rng.randint(300, 900)} pages "
            f"and {a} is on page {rng.randint(20, 280)}. How many more days to finish?"
        )
    if kind == 12:
        return (
            f"Pens come in packs of {rng.randint(3, 12)} and notebooks in packs of {rng.randint(4, 15)}. "
            "What's the smallest number of packs of each so I end up with the same number of pens "
            "and notebooks?"
        )
    if kind == 13:
        p = rng.choice((10, 20, 25, 50))
        return f"A price goes up by {p}% and then down by {p}%. Is it back where it started?"
    k = rng.randint(4, 10)
    mean = rng.randint(10, 90)
    return (
        f"The average of {k} numbers is {mean}. After removing one number, the average of the rest is "
        f"{mean + rng.randint(-5, 5) or mean + 1}. Which number was removed?"
    )


def _probability_q(rng: random.Random) -> str:
    kind = rng.randrange(9)
    if kind == 0:
        return f"What's the probability of rolling two {rng.choice(('ones', 'threes', 'fives', 'sixes'))} with two dice?"
    if kind == 1:
        return f"If I flip a fair coin {rng.randint(3, 12)} times, what are the odds of getting at least one head?"
    if kind == 2:
        return (
            f"A bag has {rng.randint(2, 9)} red marbles and {rng.randint(2, 9)} blue marbles. If I draw "
            "two without replacement, what's the chance both are red?"
        )
    if kind == 3:
        return (
            f"In a room of {rng.randint(10, 60)} people, how likely is it that at least two share a "
            "birthday?"
        )
    if kind == 4:
        return (
            "On a game show you pick one of three doors. The host, who knows what's behind them, "
            "opens another door with a goat. Should you switch doors?"
        )
    if kind == 5:
        return (
            f"A test is {rng.choice((90, 95, 98, 99))}% accurate and the disease affects 1 in "
            f"{rng.choice((100, 500, 1000, 10000))} people. If I test positive, how likely is it that I "
            "actually have it?"
        )
    if kind == 6:
        return (
            f"If I draw {rng.randint(2, 6)} cards from a standard deck, what's the chance that at least "
            "one of them is an ace?"
        )
    if kind == 7:
        return (
            "A family has two children and at least one of them is a girl. What's the probability "
            "that both are girls?"
        )
    n = rng.randint(4, 10)
    return f"What's the probability of getting exactly {rng.randint(1, n - 1)} heads in {n} coin flips?"


# (category, "has" verb, negated verb, options)
_DEDUCTION_SETS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("pet", "has", "doesn't have", ("a cat", "a dog", "a parrot", "a rabbit", "a turtle", "a hamster")),
    ("drink", "ordered", "didn't order", ("coffee", "tea", "orange juice", "hot chocolate", "lemonade", "water")),
    ("job", "is", "isn't", ("a teacher", "a nurse", "an engineer", "a chef", "a pilot", "a lawyer")),
    ("favorite sport", "loves", "doesn't like", ("tennis", "soccer", "swimming", "chess", "cycling", "basketball")),
    ("car", "drives", "doesn't drive", ("the red car", "the blue car", "the green car", "the black car", "the white car")),
    ("instrument", "plays", "doesn't play", ("the piano", "the violin", "the drums", "the guitar", "the flute", "the cello")),
)


def _deduction(rng: random.Random) -> str:
    a, b, c, d = rng.sample(_NAMES, 4)
    kind = rng.randrange(4)
    if kind == 0:
        what, verb, negated, options = rng.choice(_DEDUCTION_SETS)
        x, y, z = rng.sample(options, 3)
        return (
            f"{a}, {b} and {c} each have a different {what}: {x}, {y} and {z}. {a} {negated} {x}, "
            f"and {b} {verb} {z}. Who has which {what}?"
        )
    if kind == 1:
        return (
            f"{a} is taller than {b}, and {c} is shorter than {b}. {d} is taller than {a}. "
            "Who is the shortest, and who is the tallest?"
        )
    if kind == 2:
        return f"{a} finished the race before {b} but after {c}. {d} finished last. Who came first?"
    what, _verb, _negated, options = rng.choice(_DEDUCTION_SETS)
    x, y, z = rng.sample(options, 3)
    return (
        f"Three friends, {a}, {b} and {c}, each chose a different {what} from {x}, {y} and {z}. "
        f"The one who chose {x} is older than {a}. {c} didn't choose {y} and is the youngest. "
        f"What did each person choose?"
    )


def _knights(rng: random.Random) -> str:
    a, b, c = rng.sample(_NAMES, 3)
    kind = rng.randrange(3)
    if kind == 0:
        return (
            f'On an island, knights always tell the truth and knaves always lie. {a} says, "{b} is a '
            f'knave." {b} says, "{a} and I are both knights." Who is a knight and who is a knave?'
        )
    if kind == 1:
        return (
            f'Knights always tell the truth and knaves always lie. {a} says, "At least one of us is '
            f'a knave." {b} says nothing. What are {a} and {b}?'
        )
    return (
        f"{a}, {b} and {c} are each either a truth-teller or a liar. {a} says {b} is lying. {b} says "
        f"{c} is lying. {c} says both {a} and {b} are lying. Who is telling the truth?"
    )


def _deal(rng: random.Random) -> str:
    kind = rng.randrange(5)
    if kind == 0:
        return (
            f"a ${rng.randint(40, 120)} monthly transit pass or paying ${rng.choice(('2.50', '2.90', '3.25'))} "
            f"per ride when I ride about {rng.randint(12, 50)} times a month"
        )
    if kind == 1:
        price = rng.randint(60, 300)
        return f"{rng.choice((15, 20, 25, 30))}% off a ${price} jacket or a ${rng.randint(10, 80)} coupon"
    if kind == 2:
        return (
            f"a job paying ${rng.randint(50, 90)}k with a one-hour commute or ${rng.randint(45, 85)}k "
            "working from home"
        )
    if kind == 3:
        return (
            f"buying a ${rng.randint(150, 900)} coffee machine or spending ${rng.choice(('3.50', '4', '4.75', '5.20'))} "
            "a day at a café"
        )
    return (
        f"a savings account paying {rng.choice(('2.5', '3', '3.8', '4.1'))}% or one paying "
        f"{rng.choice(('4.5', '4.9', '5.2'))}% with a ${rng.randint(20, 120)} yearly fee"
    )


_TODO_ITEMS: tuple[str, ...] = (
    "finish the quarterly report", "call the plumber", "gym three times", "prep Thursday's presentation",
    "grocery shopping", "dentist appointment", "reply to client emails", "study for my exam",
    "pick up the kids on Wednesday", "pay the bills", "laundry", "team meeting Monday at 10",
    "write a blog post", "renew my passport", "plan Sam's birthday", "clean the garage",
    "submit my expense report", "book flights for the conference", "meal prep", "review two pull requests",
    "call my grandma", "fix the leaking tap", "update my resume", "water the plants",
)


def _task_list(rng: random.Random) -> str:
    items = rng.sample(_TODO_ITEMS, rng.randint(3, 5))
    return ", ".join(items[:-1]) + " and " + items[-1]


# --------------------------------------------------------------------------------------------
# Pools shared by every intent (looked up when an intent has no pool of that name).
# --------------------------------------------------------------------------------------------

SHARED_POOLS: dict[str, Pool] = {
    "topic": (
        "climate change", "photosynthesis", "black holes", "the French Revolution", "inflation",
        "vaccines", "blockchain", "machine learning", "the stock market", "quantum computing",
        "the Roman Empire", "plate tectonics", "the immune system", "compound interest",
        "the water cycle", "renewable energy", "the Cold War", "DNA", "global supply chains",
        "social media", "artificial intelligence", "remote work", "the electoral college",
        "coral reefs", "the printing press", "antibiotic resistance", "the internet", "volcanoes",
        "sleep", "the moon landing", "electric cars", "recycling", "the Renaissance", "the human brain",
        "gravity", "cryptocurrency", "the minimum wage", "urban gardening", "ocean tides",
        "bird migration", "the Industrial Revolution", "the Olympics", "nuclear energy", "honeybees",
        "the Silk Road", "space exploration", "fast fashion", "the gig economy", "ancient Egypt",
        "mental health", "the housing market", "microplastics", "public transport", "the history of jazz",
        "four-day work weeks", "interest rates", "deforestation", "coffee", "chess", "wildfires",
        "the Great Depression", "earthquakes", "online privacy", "video games", "the Mars rovers",
    ),
    "domain": (
        "medicine", "finance", "law", "education", "gaming", "cooking", "travel", "sports", "software",
        "science", "history", "marketing", "HR", "real estate", "retail", "logistics", "agriculture",
        "music", "fashion", "insurance", "manufacturing", "hospitality", "e-commerce", "journalism",
        "construction", "energy", "biotech", "public health", "architecture", "banking",
    ),
    "relation": (
        "mom", "dad", "sister", "brother", "best friend", "grandma", "grandpa", "partner", "roommate",
        "boss", "coworker", "son", "daughter", "neighbor", "husband", "wife", "uncle", "aunt",
    ),
    "name": _NAMES,
    "hobby": (
        "hiking", "baking", "gardening", "chess", "photography", "fishing", "board games", "jazz",
        "running", "painting", "cycling", "old movies", "knitting", "video games", "birdwatching",
        "cooking Thai food", "camping", "yoga",
    ),
    "num_small": (
        "two", "three", "four", "five", "six", "seven", "eight", "ten", "3", "4", "5", "6", "10", "12",
    ),
    "language": (
        "Spanish", "French", "German", "Italian", "Portuguese", "Japanese", "Chinese", "Mandarin",
        "Korean", "Arabic", "Hindi", "Russian", "Dutch", "Swedish", "Turkish", "Polish", "Greek",
        "Vietnamese", "Thai", "Indonesian", "Hebrew", "Swahili", "Ukrainian", "Czech", "Tagalog",
        "Brazilian Portuguese", "Norwegian", "Finnish",
    ),
    "plang": (
        "Python", "JavaScript", "TypeScript", "Java", "C#", "C++", "Go", "Rust", "Ruby", "PHP",
        "Kotlin", "Swift", "Bash", "R", "Scala", "C", "Dart", "Elixir",
    ),
    "team_context": (
        "a team of five developers", "a small nonprofit with almost no budget", "a startup with two founders",
        "a school with 30 teachers", "a remote team spread across three time zones",
        "a family of four", "a hospital IT department", "a ten-person marketing agency",
        "a student club with 40 members", "a small restaurant with eight staff",
    ),
}

# --------------------------------------------------------------------------------------------
# Text passages pasted into prompts; shared by summarization and translation so that the
# request, not the pasted content, decides the intent.
# --------------------------------------------------------------------------------------------

PASSAGES: tuple[str, ...] = (
    "The city council voted on Tuesday to expand the bike lane network by 40 kilometers over the next "
    "three years. Supporters say it will cut traffic, while shop owners worry about losing parking.",
    "Researchers found that people who slept less than six hours a night did much worse on memory "
    "tests than those who slept eight hours, even when they felt rested.",
    "In the third quarter, revenue grew 12 percent year over year, driven mainly by subscription sales "
    "in Europe. Operating costs rose faster than expected because of new hiring.",
    "During the meeting, the team agreed to delay the launch by two weeks to fix the payment bug. "
    "Maria will update the timeline, and Sam will contact the affected customers.",
    "Coral reefs cover less than one percent of the ocean floor but support about a quarter of all "
    "marine species. Rising sea temperatures are causing widespread bleaching.",
    "The tenant agrees to pay rent on the first day of each month. Payments more than five days late "
    "incur a 50 dollar fee, and the deposit is returned within 30 days of moving out.",
    "Hi all, just a reminder that the office will be closed on Friday for maintenance. Please take "
    "your laptops home on Thursday evening.",
    "The novel follows a young woman who returns to her hometown after her father's death and slowly "
    "uncovers the secrets he kept from the family for decades.",
    "Climate change is expected to make heatwaves more frequent and intense. The report recommends "
    "that cities plant more trees, redesign buildings for cooling and set up early warning systems.",
    "Customers love the battery life and the bright screen, but many say the charger stopped working "
    "after a few months and that support was slow to respond.",
    "The study followed 2,000 patients for five years and found that those who walked at least 30 "
    "minutes a day had a 20 percent lower risk of heart disease.",
    "Our new remote work policy lets employees work from home up to three days a week, as long as "
    "they attend the Tuesday team meeting in person.",
    "The decline of the Roman Empire was gradual, shaped by economic trouble, reliance on mercenaries, "
    "political instability and pressure from migrating peoples.",
    "The update brings a redesigned dashboard, faster search and dark mode. Several users reported "
    "that the export button no longer works in older browsers.",
    "The court ruled that the company broke consumer protection law by hiding fees in the fine print "
    "and ordered it to refund affected customers.",
    "Inflation slowed to 3.1 percent in March, but food and housing costs remain high. The central "
    "bank signalled that interest rates will stay unchanged for now.",
    "The coach praised the team's defense but said the players must improve their passing before the "
    "playoffs start next month.",
    "To make the sauce, soften the onions in olive oil, add crushed tomatoes and garlic, and simmer for "
    "twenty minutes before seasoning with salt and basil.",
    "The museum's new exhibition brings together more than 200 objects from the Silk Road, including "
    "textiles, coins and manuscripts never shown in public before.",
    "Machine learning models can reflect the biases in their training data. The authors propose a way "
    "to audit datasets before training begins.",
    "The flight was delayed by four hours because of a technical problem, and passengers got meal "
    "vouchers but no explanation from the airline.",
    "Students who used spaced repetition scored higher on the final exam than students who crammed, "
    "even though both groups studied for the same total time.",
    "We're moving the billing service to the new cloud provider next weekend. Expect about two hours "
    "of downtime on Saturday night.",
    "The patient had a persistent cough and mild fever for ten days. A chest X-ray showed no pneumonia, "
    "and she was told to rest and come back if symptoms got worse.",
    "Sales of electric cars doubled last year, but charging stations in rural areas are still "
    "lagging behind, according to the industry association.",
    "The candidate promised to lower taxes for small businesses, invest in public transport and build "
    "50,000 affordable homes within four years.",
    "Honeybee populations have declined in many regions because of pesticides, habitat loss and "
    "disease, which threatens crops that depend on pollination.",
    "Thank you for your order. Your package has shipped and should arrive within three to five "
    "business days. You can track it with the link below.",
    "The startup raised 20 million dollars to bring its language learning app to Asia and plans to "
    "double its engineering team this year.",
    "The hotel was clean and the staff were friendly, but the room was smaller than in the photos and "
    "the street noise kept us awake.",
    "Quantum computers use qubits, which can hold several states at once, so they can solve some "
    "problems much faster than ordinary computers.",
    "Please find attached the revised budget. We cut travel costs by 15 percent and moved most of the "
    "marketing spend to the second half of the year.",
    "The historian argues that the printing press did more than spread books: it changed how people "
    "thought about authority, knowledge and religion.",
    "After three rounds of interviews, the committee recommends hiring the second candidate because of "
    "her experience managing large teams.",
    "The new trail is 12 kilometers long, climbs steadily through pine forest and rewards hikers with "
    "a view of the lake at the top.",
    "Dear parents, the school trip to the science museum is on May 12. Please return the signed form "
    "and ten dollars by Friday.",
    "Our app's daily active users fell slightly in June, mostly on Android, after the login screen "
    "was redesigned.",
    "The recipe has been in our family for three generations. My grandmother always said the secret "
    "is patience and a lot of butter.",
)

# Generic prefixes and suffixes; intents add their own on top.
_PREFIXES: tuple[str, ...] = (
    "hey, ", "Hey! ", "hi there, ", "Hi, ", "Hello! ", "hello, ", "ok so ", "So, ", "um, ", "pls ",
    "Please, ", "yo, ", "Hi! ", "Good morning! ", "Okay, ", "Hey there! ", "Quick one: ", "Hi again! ",
)
_SUFFIXES: tuple[str, ...] = (
    " thanks!", " thx", " asap", " Thank you!", " :)", " if you can.", " Thanks in advance.", " ty",
    " cheers", " no rush.", " please.", " pls", " Appreciate it!", " thank u",
)
_STUDY_SUFFIXES: tuple[str, ...] = (" It's for my class.", " This is for work.", " It's for a school project.", " for my homework", " (for work)")


# --------------------------------------------------------------------------------------------
# question_answering: factual questions, explanations, definitions.
# --------------------------------------------------------------------------------------------

_QA = IntentSpec(
    frames=_frames(
        (0, "What is {concept}?"),
        (0, "What's {concept}[ exactly|, in a nutshell|]?"),
        (0, "Explain {concept}[ in simple terms| like I'm five| to me| briefly|]."),
        (0, "Define {concept}."),
        (0, "{-concept} [meaning|definition|explained|simple explanation]"),
        (0, "How does {mechanism} work?"),
        (0, "[How exactly|How] does {mechanism} [work|actually work]? I've never understood it."),
        (0, "Who {person_q}?"),
        (0, "When did {event}?"),
        (0, "Why {why_q}?"),
        (0, "What causes {phenomenon}?"),
        (0, "What's the difference between {pair}?"),
        (0, "[What is|What's] the [capital|official language|currency|population] of {country}?"),
        (0, "[capital|official language|currency|population] of {country}"),
        (0, "[Can|Could] you answer this: {fact_q}?"),
        (0, "{^fact_q}?"),
        (0, "What does {jargon}?"),
        (0, "[Is it true|Is it a myth|Is it actually true] that {claim}?"),
        (0, "How do {animal_fact}?"),
        (0, "What happens when {happen}?"),
        (1, "I've always wondered how {mechanism} works. [Can|Could] you explain it?"),
        (1, "I'm studying {subject} and I don't really get {concept}. What is it?"),
        (1, "Can you explain {concept} in plain English? I have no background in {subject}."),
        (
            1,
            "My [son|daughter|nephew|niece|little brother] asked me why {why_q} and I had no idea. "
            "What's the answer?",
        ),
        (0, "What were the main causes of {historic}?"),
        (0, "How is {tech} used in {domain}?"),
        (0, "Give me a quick overview of {topic}."),
        (0, "Tell me [a few|some] [facts|interesting facts|key facts] about {topic}."),
        (0, "Explain the history of {topic}[ briefly| in a few sentences|]."),
        (0, "Why is {topic} [important|so controversial|such a big deal|in the news so much]?"),
        (1, "My friend and I can't agree on this: {fact_q}?"),
        (1, "For a quiz I'm writing, {fact_q}?"),
        (1, "I need this for [a pub quiz|my homework|a bet with my brother]: {fact_q}?"),
        (0, "I'm trying to understand {concept}. Can you help?"),
        (0, "In {domain}, what does the term \"{term}\" mean?"),
        (
            2,
            "I'm writing a report on {topic} for my {subject} class. Can you explain what it is, why it "
            "matters, and what the main debates around it are?",
        ),
        (
            2,
            "Explain how {mechanism} works. Start with the basic idea, then go into more detail, and "
            "finish with a common misconception.",
        ),
        (
            2,
            "I keep hearing about {topic} on the news but I don't really understand it. What is it, "
            "where did it come from, and why is everyone talking about it?",
        ),
        (
            2,
            "Can you explain the difference between {pair}? I always mix them up. Give an example of "
            "each and a simple way to remember which is which.",
        ),
        (2, "Who {person_q}, and why does it matter? Please add a bit of historical context too."),
        (2, "What were the main causes of {historic}, and what were its long-term effects on {affected}?"),
        (
            2,
            "I'm new to {domain}. What is {concept}, how does it work in practice, and what are the most "
            "common misunderstandings about it?",
        ),
    ),
    pools={
        "concept": (
            "a mortgage", "an index fund", "the placebo effect", "a neural network", "an API", "GDP",
            "a recession", "entropy", "osmosis", "the Pythagorean theorem", "a credit score",
            "the Krebs cycle", "an ETF", "the offside rule in soccer", "a VPN", "a hash table",
            "the greenhouse effect", "cognitive dissonance", "supply and demand", "a filibuster",
            "herd immunity", "a deductible", "the Doppler effect", "impressionism", "blood pressure",
            "cholesterol", "a tariff", "quantitative easing", "the Higgs boson", "CRISPR", "a 401(k)",
            "metadata", "a carbon footprint", "the ozone layer", "a food desert", "net neutrality",
            "a mutual fund", "the Fibonacci sequence", "climate change", "inflation", "machine learning",
            "blockchain", "photosynthesis", "a black hole", "compound interest", "the immune system",
            "quantum computing", "a habeas corpus petition", "natural selection", "an algorithm",
            "a limited liability company", "opportunity cost", "a sonnet", "the scientific method",
            "a stock split", "dark matter", "a firewall", "an S corporation", "gerrymandering",
            "the gut microbiome", "a credit default swap", "a pension", "the Turing test",
        ),
        "pair": (
            "weather and climate", "a virus and a bacterium", "stocks and bonds", "RAM and storage",
            "a crocodile and an alligator", "affect and effect", "a Roth IRA and a traditional IRA",
            "HTTP and HTTPS", "empathy and sympathy", "a psychologist and a psychiatrist",
            "baking soda and baking powder", "mitosis and meiosis", "a comet and an asteroid",
            "machine learning and deep learning", "the House and the Senate", "speed and velocity",
            "an LLC and a corporation", "latitude and longitude", "a simile and a metaphor",
            "TCP and UDP", "a recession and a depression", "type 1 and type 2 diabetes",
            "civil law and criminal law", "weight and mass", "a debit card and a credit card",
            "a cold and the flu", "an embargo and a sanction", "a hurricane and a typhoon",
            "fission and fusion", "a will and a trust", "a latte and a cappuccino",
        ),
        "mechanism": (
            "a refrigerator", "GPS", "the immune system", "a vaccine", "a credit score", "the stock market",
            "compound interest", "a nuclear reactor", "photosynthesis", "Wi-Fi", "a touchscreen",
            "noise cancellation", "blockchain", "an airplane wing", "the electoral college",
            "a search engine", "a microwave oven", "insulin", "a heat pump", "a solar panel",
            "public key encryption", "the human heart", "memory in the brain", "a 3D printer",
            "carbon dating", "inflation", "bitcoin mining", "anesthesia", "a hybrid car", "an MRI scanner",
            "the stock exchange", "a jury trial", "a credit card", "tidal power", "a rainbow", "recycling",
        ),
        "person_q": (
            "invented the telephone", "wrote Pride and Prejudice", "was the first person to walk on the moon",
            "painted the Mona Lisa", "discovered penicillin", "was Ada Lovelace", "was Nelson Mandela",
            "came up with the theory of relativity", "won the first FIFA World Cup", "was Marie Curie",
            "composed The Four Seasons", "invented the printing press", "was the first woman in space",
            "wrote the Declaration of Independence", "designed the Eiffel Tower", "was Genghis Khan",
            "coined the term artificial intelligence", "was Frida Kahlo", "built the first airplane",
            "discovered DNA's double helix", "was Cleopatra", "founded Wikipedia", "invented the World Wide Web",
            "was the first emperor of China", "wrote One Hundred Years of Solitude", "was Alan Turing",
        ),
        "event": (
            "the Berlin Wall fall", "World War I start", "the Titanic sink", "the Western Roman Empire fall",
            "humans first land on the moon", "the first iPhone come out", "the Black Death reach Europe",
            "women get the vote in the UK", "the euro become a currency", "the Great Fire of London happen",
            "the Cold War end", "the printing press appear in Europe", "the internet become public",
            "the dinosaurs die out", "the Renaissance begin", "the French Revolution start",
            "the first Olympic Games take place", "the Great Depression begin",
        ),
        "why_q": (
            "is the sky blue", "do we have leap years", "do cats purr", "does ice float",
            "do leaves change color in autumn", "is the ocean salty", "do we dream",
            "do onions make you cry", "did the dinosaurs go extinct", "do interest rates affect house prices",
            "does bread go stale", "is Pluto no longer a planet", "do planes leave white trails",
            "do we get goosebumps", "do prices go up over time", "does the moon have phases",
            "do we yawn", "is the Dead Sea so salty", "do we have different blood types",
            "do some countries drive on the left", "is coffee bitter", "does metal feel colder than wood",
        ),
        "phenomenon": (
            "the northern lights", "earthquakes", "inflation", "hiccups", "migraines", "thunder",
            "rainbows", "tides", "jet lag", "acid rain", "muscle cramps", "a recession", "the seasons",
            "lightning", "coral bleaching", "static electricity", "high blood pressure", "tsunamis",
            "brain freeze", "climate change", "wildfires", "allergies", "deja vu",
        ),
        "country": (
            "Australia", "Canada", "Brazil", "Kenya", "Mongolia", "Peru", "Norway", "Vietnam", "Nigeria",
            "Portugal", "Egypt", "New Zealand", "Chile", "Thailand", "Morocco", "Finland", "Argentina",
            "Indonesia", "Switzerland", "Ghana", "Iceland", "Bhutan", "Colombia", "Poland",
        ),
        "fact_q": (
            "how many bones are in the human body", "how far away is the sun", "what is the tallest mountain in the world",
            "how long does light take to reach Earth from the sun", "how many players are on a rugby team",
            "what language do they speak in Brazil", "how old is the universe", "what is the largest organ in the body",
            "how many time zones does Russia have", "what year did the Cold War end", "how fast does sound travel",
            "how many calories are in a banana", "what is the deepest point in the ocean",
            "how does a bill become law in the US", "how much of the earth is covered by water",
            "how many chromosomes do humans have", "what does a notary public do", "how do tax brackets work",
            "who holds the record for the most Olympic gold medals", "how long is a marathon",
            "what is the longest river in Africa", "how many moons does Jupiter have", "who was the first US president",
            "how much caffeine is in an espresso", "is there a speed limit on German autobahns",
            "which planet is closest to the sun", "how many teeth does an adult have",
        ),
        "jargon": (
            "EBITDA mean in finance", "amortization mean on a loan statement", "tort mean in law",
            "latency mean in networking", "mise en place mean in cooking", "churn mean in marketing",
            "sprint mean in software development", "triage mean in a hospital", "due diligence mean in business",
            "a bear market mean", "GDP stand for", "HTML stand for", "NASA stand for", "DNA stand for",
            "ROI stand for", "SaaS stand for", "HIPAA stand for", "NATO stand for", "RSVP stand for",
            "a quorum mean in a meeting", "escrow mean when buying a house", "a hat trick mean in sports",
        ),
        "term": (
            "liquidity", "burn rate", "due process", "bandwidth", "a control group", "the bottom line",
            "a lead", "a deliverable", "a benchmark", "compliance", "onboarding", "a retainer",
            "underwriting", "technical debt", "a placebo", "a margin", "attrition", "a stakeholder",
        ),
        "claim": (
            "we only use 10% of our brains", "goldfish have a three-second memory",
            "lightning never strikes the same place twice", "the Great Wall of China is visible from space",
            "bats are blind", "cracking your knuckles causes arthritis", "sugar makes kids hyperactive",
            "humans have only five senses", "Napoleon was very short", "bulls hate the color red",
            "you lose most of your body heat through your head", "Einstein failed math",
            "hair grows back thicker after shaving", "chameleons change color to blend in",
        ),
        "animal_fact": (
            "bees make honey", "birds find their way when they migrate", "octopuses change color",
            "salmon find their way back to the river they were born in", "bats use echolocation",
            "cats always land on their feet", "whales communicate", "plants know which way is up",
            "ants find food", "camels survive without water", "penguins stay warm", "fireflies glow",
        ),
        "happen": (
            "a star dies", "the central bank raises interest rates", "you get a vaccine",
            "a company goes bankrupt", "a president vetoes a bill", "water freezes", "a volcano erupts",
            "you don't sleep for two days", "two galaxies collide", "a country defaults on its debt",
            "you crack an egg into boiling water", "a patent expires", "the polar ice caps melt",
        ),
        "subject": (
            "biology", "economics", "chemistry", "world history", "physics", "law", "statistics",
            "nursing", "political science", "astronomy", "accounting", "psychology", "computer science",
            "geography", "philosophy", "business",
        ),
        "historic": (
            "World War I", "the Great Depression", "the fall of the Roman Empire", "the 2008 financial crisis",
            "the French Revolution", "the Cold War", "the Dust Bowl", "the collapse of the Soviet Union",
            "the American Civil War", "the Industrial Revolution", "the Protestant Reformation",
        ),
        "affected": ("Europe", "the world economy", "ordinary people", "the United States", "trade", "politics today"),
        "tech": (
            "AI", "machine learning", "blockchain", "data analytics", "automation", "cloud computing",
            "virtual reality", "the Internet of Things", "3D printing", "GPS tracking",
        ),
    },
    constraints=(
        "Keep it brief.", "Please include an example.", "Use simple language.", "Answer in two or three sentences.",
        "Mention a source if you can.", "Explain it like I'm a beginner.", "No jargon please.",
        "A short answer is fine.", "Give me the key facts only.",
    ),
    prefixes=("quick question: ", "Random question, ", "I've been wondering, ", "Just curious, ", "Question: "),
    suffixes=_STUDY_SUFFIXES + (" just curious.", " I always forget."),
)


# --------------------------------------------------------------------------------------------
# creative_writing: stories, poems, lyrics, jokes, slogans, dialogue, scripts, worldbuilding.
# --------------------------------------------------------------------------------------------

_CREATIVE = IntentSpec(
    frames=_frames(
        (0, "Write a(n) {form} about {subject}."),
        (0, "[Can|Could] you write me a(n) {form} about {subject}?"),
        (0, "{form} about {subject}"),
        (0, "Tell me a joke about {joke_topic}."),
        (0, "Compose a(n) {poem_form} about {subject}."),
        (0, "Give me {num_small} {copy_form} for {business}."),
        (0, "Make up a(n) {form} about {subject}."),
        (0, "Write a(n) {poem_form} about {topic}."),
        (0, "Write me a(n) {form}[ please|]."),
        (1, "I'm trying to write a(n) {form} about {subject} but I'm stuck. Can you write one for me?"),
        (1, "It's my {relation}'s birthday next week. Write a(n) {tone} {poem_form} for the card."),
        (1, "Write a(n) {tone} {form} about {subject}."),
        (0, "I need a(n) {occasion_form} for {occasion}."),
        (0, "Write a dialogue between {character} and {character2}[ about {subject}|]."),
        (0, "Write lyrics for a(n) {music_genre} song about {subject}."),
        (0, "Describe a fantasy world where {world_premise}."),
        (0, "Create a character profile for {character}[, including their backstory|, with a secret they hide|]."),
        (0, "Continue this story: \"{story_start}\""),
        (1, "Write the opening paragraph of a(n) {genre} novel about {subject}."),
        (1, "Could you help me write a(n) {form} for my {relation}? It's about {subject}."),
        (1, "I'm writing a(n) {genre} story. Can you describe the villain, {character}, in vivid detail?"),
        (1, "Rewrite {famous_story} as a(n) {genre} story."),
        (1, "Write a(n) {form} in the style of {style_author} about {subject}."),
        (1, "Brainstorm {num_small} plot ideas for a(n) {genre} story set in {setting}."),
        (1, "Write a short scene where {character} meets {character2} in {setting}."),
        (0, "Invent a myth that explains why {myth_q}."),
        (1, "Write a(n) {tone} limerick about {joke_topic}."),
        (
            1,
            "Help me write a toast for {occasion}. [Keep it short and sweet.|It should be a little funny "
            "but heartfelt.|Something that will make people laugh.]",
        ),
        (1, "Write a(n) {form} that starts with the line \"{story_start}\""),
        (0, "Give me a catchy {copy_single} for {business}."),
        (0, "Write a funny poem about working in {domain}."),
        (
            1,
            "I want a(n) {form} for my kids tonight about {subject}. [Nothing scary.|Make it "
            "calming.|Something with animals would be nice.]",
        ),
        (
            2,
            "Write a(n) {tone} short story about {subject}. Tell it from the point of view of "
            "{character}, keep it under {word_limit} words, and end with a twist.",
        ),
        (
            2,
            "I'm working on a(n) {genre} novel set in {setting}. My main character is {character}. Can "
            "you write a tense scene where they discover {discovery}, with plenty of dialogue and "
            "sensory detail?",
        ),
        (
            2,
            "Write a(n) {poem_form} for {occasion}. Make it {tone}, mention {detail}, and keep it under "
            "{num_lines} lines.",
        ),
        (
            2,
            "Create a worldbuilding guide for a(n) {genre} setting where {world_premise}. Describe the "
            "geography, the politics and one important historical event.",
        ),
        (
            2,
            "My {relation} loves {hobby}. Write a(n) {tone} {form} about it that I can read at "
            "{occasion}, and work in a reference to {detail}.",
        ),
        (
            2,
            "Write a comedy sketch set in {setting}. One character is {character}, the other is "
            "{character2}. It should be about a page long and end with a punchline.",
        ),
        (
            2,
            "Write {music_genre} song lyrics about {subject}. Include two verses, a chorus and a bridge, "
            "and make the chorus easy to sing along to.",
        ),
        (
            2,
            "I run {business}. Come up with a short brand story, {num_small} slogan options and a(n) "
            "{tone} product description for our website.",
        ),
    ),
    pools={
        "form": (
            "story", "short story", "poem", "haiku", "limerick", "sonnet", "song", "rap verse",
            "bedtime story", "fable", "fairy tale", "piece of flash fiction", "free verse poem", "ballad",
            "monologue", "short scene", "children's story", "ghost story", "love letter", "short poem",
            "acrostic poem", "two-sentence horror story", "myth", "diary entry", "nursery rhyme",
            "screenplay scene", "spoken word piece", "comic strip script", "riddle poem", "epic poem",
        ),
        "poem_form": (
            "poem", "haiku", "sonnet", "limerick", "villanelle", "ode", "elegy", "free verse poem",
            "ballad", "acrostic poem", "rhyming poem", "short poem", "prose poem",
        ),
        "subject": (
            "a dragon who is afraid of heights", "a lonely robot on Mars", "two rival chefs",
            "a detective in 1920s Chicago", "the ocean at night", "autumn leaves", "my cat's secret life",
            "a haunted lighthouse", "first love", "a time traveler stuck in the wrong century",
            "a small-town coffee shop", "climate change", "the last bookstore on Earth",
            "a soccer team that never wins", "my grandmother's recipe book", "a city where it never stops raining",
            "an AI that learns to paint", "a pirate who gets seasick", "moving to a new country", "friendship",
            "a knight who hates fighting", "the first day of school", "a wizard who lost his memory",
            "a dog waiting for its owner", "a nurse on a night shift", "a forgotten planet",
            "a road trip gone wrong", "a village under the sea", "a teenager who can hear thoughts",
            "the moon landing", "a rainy Sunday", "a retired superhero", "a bakery run by ghosts",
            "a chess prodigy", "a ship lost in the Arctic", "a programmer who finds a bug in reality",
            "spring in Tokyo", "a music box that plays by itself", "homesickness",
            "a wedding that goes hilariously wrong", "a hospital during a blackout", "social media",
            "remote work", "coffee", "the stock market", "growing old", "a stray cat in Istanbul",
            "the night before an exam", "a broken umbrella", "a penguin who wants to fly",
        ),
        "tone": (
            "funny", "dark", "melancholic", "whimsical", "hopeful", "suspenseful", "romantic", "sarcastic",
            "epic", "heartwarming", "creepy", "bittersweet", "lighthearted", "noir", "uplifting", "absurd",
            "nostalgic", "dramatic",
        ),
        "occasion": (
            "my best friend's wedding", "my mom's 60th birthday", "a retirement party", "Valentine's Day",
            "a graduation card", "my sister's baby shower", "a farewell card for a coworker", "Mother's Day",
            "our tenth anniversary", "the team holiday party", "my grandfather's funeral", "a housewarming",
            "Father's Day", "a colleague's promotion",
        ),
        "occasion_form": ("toast", "short speech", "poem", "short verse", "card message", "rhyming message", "eulogy"),
        "copy_form": (
            "slogans", "taglines", "catchy names", "jingle ideas", "Instagram captions", "mottos",
            "product names", "headline ideas",
        ),
        "copy_single": ("slogan", "tagline", "name", "jingle", "motto", "Instagram caption", "headline"),
        "business": (
            "a vegan bakery", "a dog-walking service", "a cybersecurity startup", "a local gym",
            "an eco-friendly water bottle", "a dental clinic", "a coffee subscription", "a bike repair shop",
            "a language learning app", "a small law firm", "a craft brewery", "a children's bookstore",
            "a meal-prep company", "a travel agency", "an AI note-taking app", "a plant nursery",
            "an online chess club", "a budgeting app for students", "a hospital fundraiser",
            "a recycling campaign", "a yoga studio", "a food truck",
        ),
        "character": (
            "a grumpy wizard", "a shy astronaut", "a retired pirate", "a teenage hacker", "a talking cat",
            "a medieval blacksmith", "a ghost who loves gossip", "a corporate lawyer",
            "a sentient vending machine", "a Victorian inventor", "a dragon librarian", "a nervous superhero",
            "an overly honest robot", "a spy who can't keep secrets", "a sushi chef", "a forgetful god",
            "a tired nurse", "a cynical detective", "a kid who talks to trees", "an ambitious mayor",
        ),
        "genre": (
            "fantasy", "sci-fi", "mystery", "horror", "romance", "thriller", "historical", "dystopian",
            "comedy", "western", "cyberpunk", "fairy tale", "noir", "adventure", "young adult",
        ),
        "music_genre": (
            "country", "pop", "blues", "punk rock", "hip-hop", "folk", "jazz", "K-pop", "heavy metal",
            "reggae", "indie", "sea shanty", "R&B", "musical theatre",
        ),
        "joke_topic": (
            "programmers", "cats", "accountants", "coffee", "Monday mornings", "dentists", "math teachers",
            "penguins", "cloud computing", "gym memberships", "lawyers", "cheese", "physics", "Wi-Fi",
            "airport security", "statisticians", "vegans", "my cooking", "group projects", "printers",
        ),
        "world_premise": (
            "magic is powered by music", "the oceans have dried up", "everyone can fly except one person",
            "cities float above the clouds", "time runs backwards", "dreams are traded as currency",
            "dragons run the government", "the sun never sets", "books are illegal", "plants can talk",
            "everyone has a robot twin", "memories can be sold", "it's always winter",
        ),
        "story_start": (
            "The door was already open when I got home.", "Nobody in the village had ever seen snow.",
            "The letter arrived forty years too late.", "The clock struck thirteen for the third time.",
            "She found the map inside an old library book.", "The robot watched the sunset and felt something new.",
            "On the last day of summer, the lake disappeared.", "He had exactly one hour to convince the king.",
            "The phone rang at 3 a.m., and the voice was mine.", "Every house on our street went dark at once.",
        ),
        "famous_story": (
            "Cinderella", "Romeo and Juliet", "Little Red Riding Hood", "the story of the Trojan horse",
            "Goldilocks and the three bears", "Jack and the Beanstalk", "the tortoise and the hare", "Hamlet",
            "the boy who cried wolf", "Snow White", "the Odyssey",
        ),
        "style_author": (
            "Edgar Allan Poe", "Dr. Seuss", "Shakespeare", "Emily Dickinson", "a 1940s radio drama",
            "a nature documentary narrator", "Hemingway", "a pirate captain", "a sports commentator",
            "a medieval bard", "Jane Austen",
        ),
        "setting": (
            "a space station", "Victorian London", "a high school in Seoul", "a remote Arctic research base",
            "a floating city", "a hospital", "1980s Berlin", "a small fishing village", "a video game",
            "ancient Rome", "a night train across Europe", "a haunted shopping mall", "a desert oasis",
        ),
        "myth_q": (
            "the moon changes shape", "cats hate water", "the sea is salty", "owls stay awake at night",
            "mountains have snow on top", "rivers run to the sea", "we have thunderstorms", "the stars twinkle",
        ),
        "discovery": (
            "a hidden letter", "that their best friend is a spy", "that the map was fake",
            "a door that shouldn't exist", "that they're not human", "that the city is sinking",
        ),
        "detail": (
            "our first trip to the beach", "her love of gardening", "his terrible puns", "the old blue car",
            "the dog", "rainy afternoons", "the time we got lost in Rome", "her famous lasagna",
        ),
        "word_limit": ("200", "300", "500", "800", "1000"),
        "num_lines": ("8", "12", "14", "16", "20"),
    },
    constraints=(
        "Keep it under 100 words.", "Make it rhyme.", "Give it a twist ending.", "Write it in the second person.",
        "Use lots of dialogue.", "Avoid clichés.", "Make it suitable for kids.", "End on a hopeful note.",
        "Write it in the past tense.", "Include the word lantern.", "Keep it under 200 words.",
        "Tell it from the villain's point of view.", "Make it funny.", "Keep it short.",
    ),
    prefixes=("For a school project, ", "Feeling creative today. ", "I need something fun: ", "Creative request: "),
    suffixes=_STUDY_SUFFIXES + (" make it good!", " surprise me."),
)


# --------------------------------------------------------------------------------------------
# code_generation: write, implement, refactor, convert code; SQL, regex, tests, APIs.
# --------------------------------------------------------------------------------------------

_CODE = IntentSpec(
    frames=_frames(
        (0, "Write a(n) {plang} {code_artifact} that {code_task}."),
        (0, "{plang} {code_kw}"),
        (0, "Implement {algorithm} in {plang}."),
        (0, "Write a SQL query that {sql_task}."),
        (0, "[Give me|Write|I need] a regex that {regex_target}."),
        (0, "regex [that|which] {regex_target}"),
        (0, "Show me {plang} code for {algorithm}."),
        (0, "How do I write a function in {plang} that {code_task}?"),
        (0, "Create a(n) {ui_framework} component that {ui_task}."),
        (0, "Can you code a(n) {plang} {code_artifact} that {code_task}?"),
        (0, "[sql query that|sql that|query that|sql:] {sql_task}"),
        (0, "Convert this code to {plang}: {snippet}"),
        (1, "Refactor this to be more readable: {snippet}"),
        (1, "Write unit tests with {test_framework} for a function that {code_task}."),
        (1, "I need a(n) {framework} endpoint that {endpoint_task}."),
        (0, "Generate {infra_artifact} for a(n) {app_kind} app."),
        (0, "Write a(n) {sql_dialect} query that {sql_task}."),
        (1, "I'm learning {plang}. Could you show me how to write a program that {code_task}?"),
        (1, "Rewrite this so it runs faster: {snippet}"),
        (1, "Add error handling and logging to this function: {snippet}"),
        (0, "Translate this snippet into {plang}: {snippet}"),
        (0, "Write a bash one-liner that {shell_task}."),
        (1, "Can you scaffold a(n) {project} in {plang}? Just the main classes and functions for now."),
        (1, "Write a(n) {plang} class for a(n) {class_entity} with methods to {class_methods}."),
        (0, "Need a quick {plang} snippet that {code_task}."),
        (1, "Write a(n) {plang} program for my {project} that {code_task}."),
        (0, "Write a GraphQL schema for a(n) {project}."),
        (1, "Write a(n) {plang} function to calculate {calc} for my {domain} app."),
        (1, "I'm trying to write a(n) {plang} function that {code_task}. Can you write it for me?"),
        (1, "We use {framework} at work. Write an endpoint that {endpoint_task}."),
        (0, "What's the code to {code_inf} in {plang}?"),
        (
            2,
            "I'm building a(n) {project} in {plang}. Write a(n) {code_artifact} that {code_task}, "
            "include type hints and docstrings, and add a short usage example at the end.",
        ),
        (
            2,
            "Write a(n) {framework} API for a(n) {project} with endpoints to create, read, update and "
            "delete records. Use an in-memory store for now, validate inputs, and return proper status "
            "codes.",
        ),
        (
            2,
            "Here's my function: {snippet} Can you rewrite it in {plang}, make it handle empty inputs, "
            "and add unit tests with {test_framework}?",
        ),
        (
            2,
            "Write a(n) {plang} script that {code_task}. It should take the input path as a command-line "
            "argument, log its progress, and exit with a non-zero code on failure.",
        ),
        (
            2,
            "We need {infra_artifact} for our {app_kind} service. It should build the app, run the "
            "tests, and only deploy when the main branch passes. Please comment each step.",
        ),
        (
            2,
            "Create a(n) {ui_framework} component that {ui_task}. It should be accessible, fetch its "
            "data from an API, and show a loading state and an error state.",
        ),
        (
            2,
            "Implement {algorithm} in {plang} with a clean interface. Include tests for the edge cases "
            "and explain the time complexity in a comment.",
        ),
        (
            2,
            "For our {domain} team I need a(n) {plang} {code_artifact} that {code_task}. Keep it "
            "dependency-free, add docstrings, and write {num_small} unit tests.",
        ),
    ),
    pools={
        "code_artifact": (
            "function", "script", "class", "command-line tool", "program", "method", "module",
            "helper function", "utility", "async function",
        ),
        "code_task": (
            "reverses a string", "checks if a number is prime", "reads a CSV file and prints the average of each column",
            "parses a JSON response from an API", "sorts a list of dictionaries by a given key",
            "validates an email address", "returns the nth Fibonacci number", "merges two sorted arrays",
            "removes duplicates from a list while keeping the order", "downloads a web page and extracts all the links",
            "counts word frequencies in a text file", "converts Celsius to Fahrenheit",
            "finds the longest common prefix of a list of strings", "flattens a nested list",
            "generates a random secure password", "uploads a file to an S3 bucket", "sends an email with an attachment",
            "resizes all images in a folder", "retries an HTTP request with exponential backoff",
            "calculates the monthly payment on a loan", "checks whether a string is a palindrome",
            "finds the second largest number in an array", "converts a Roman numeral to an integer",
            "reads a config file and validates the required fields", "renames files in a folder by date",
            "computes the distance between two GPS coordinates", "groups transactions by month and sums them",
            "detects a cycle in a linked list", "parses log lines and counts errors per hour",
            "paginates through results from a REST API", "hashes passwords with a salt",
            "converts a timestamp to another time zone", "backs up a database every night",
            "watches a folder for new files", "shuffles a deck of cards", "calculates BMI from height and weight",
            "scrapes product prices from a web page", "validates a credit card number with the Luhn algorithm",
            "builds an inverted index from a set of documents", "splits a large file into smaller chunks",
            "computes a moving average over a list of numbers", "deep-merges two dictionaries",
            "checks if two strings are anagrams", "converts XML to JSON", "counts the vowels in a sentence",
            "finds all prime numbers below n", "debounces a search input", "caches the results of an expensive call",
        ),
        "code_inf": (
            "reverse a list", "read a file line by line", "make an HTTP GET request", "get the current date",
            "sort a dictionary by value", "connect to a PostgreSQL database", "parse command-line arguments",
            "generate a UUID", "sleep for two seconds", "read environment variables", "write JSON to a file",
            "check if a key exists in a map", "spawn a background thread",
        ),
        "algorithm": (
            "binary search", "quicksort", "merge sort", "Dijkstra's algorithm", "a linked list",
            "a stack using two queues", "a trie", "breadth-first search", "an LRU cache", "a min-heap",
            "the sieve of Eratosthenes", "A* pathfinding", "a token bucket rate limiter", "a binary search tree",
            "topological sort", "a bloom filter", "a thread pool", "the knapsack problem with dynamic programming",
            "Conway's Game of Life", "a simple tokenizer", "depth-first search", "a hash map from scratch",
        ),
        "code_kw": (
            "fizzbuzz", "quicksort", "debounce function", "linked list", "binary search", "http server",
            "read csv", "jwt auth middleware", "websocket client", "singleton class", "file upload endpoint",
            "todo app", "palindrome check", "retry decorator", "matrix multiplication", "hello world",
            "tic tac toe", "bubble sort", "email validator", "rest api client", "unit test example",
            "async file reader", "password generator", "calculator", "snake game", "web scraper",
            "linked list reversal", "dijkstra", "producer consumer queue", "rate limiter",
        ),
        "sql_task": (
            "returns the top 5 customers by total revenue", "finds duplicate email addresses in the users table",
            "counts orders per month for the last year", "lists employees who earn more than their managers",
            "shows each customer's most recent order date", "deletes rows older than 90 days from the logs table",
            "calculates a running total of sales by day", "finds products that have never been ordered",
            "returns the second highest salary", "shows the average rating per movie with at least 10 reviews",
            "pivots monthly sales into columns", "finds users who signed up but never logged in",
            "joins patients with their appointments and counts no-shows per doctor",
            "ranks students by exam score within each class",
        ),
        "sql_dialect": ("PostgreSQL", "MySQL", "SQLite", "SQL Server", "BigQuery", "Snowflake", "Oracle"),
        "regex_target": (
            "matches US phone numbers", "validates a UK postcode", "extracts hashtags from a tweet",
            "matches dates in YYYY-MM-DD format", "finds all URLs in a block of text", "validates an IPv4 address",
            "checks for a strong password with at least one digit and one symbol",
            "captures the domain from an email address", "strips HTML tags", "matches hex color codes",
            "finds repeated words", "validates a version number like 1.2.3", "matches times like 14:30",
        ),
        "snippet": (
            "def add(a, b): return a+b", "for i in range(len(items)): print(items[i])",
            "const doubled = nums.map(n => n * 2);", "if (x == true) { return true; } else { return false; }",
            "SELECT * FROM users WHERE age > 30",
            "public int sum(int[] a) { int s = 0; for (int i = 0; i < a.length; i++) s += a[i]; return s; }",
            "function getUser(id) { return fetch('/api/users/' + id).then(r => r.json()) }",
            "let total = 0; for (const item of cart) { total += item.price * item.qty }",
            "x = [i*i for i in range(10) if i % 2 == 0]",
            "result = [] ; for x in data: if x > 0: result.append(x)",
            "def is_even(n): if n % 2 == 0: return True else: return False",
            "var names = new List<string>(); foreach (var u in users) { names.Add(u.Name); }",
        ),
        "framework": ("Flask", "FastAPI", "Express", "Django", "Spring Boot", "Rails", "ASP.NET", "Laravel", "Gin", "NestJS"),
        "endpoint_task": (
            "returns a list of users as JSON", "accepts a file upload and stores it", "handles user login with JWT",
            "creates a new order and validates the payload", "returns paginated search results",
            "deletes a blog post by id", "reports the health of the service", "receives a webhook from Stripe",
        ),
        "ui_framework": ("React", "Vue", "Svelte", "Angular", "SwiftUI", "Flutter", "Jetpack Compose"),
        "ui_task": (
            "shows a list of todos with a checkbox for each", "renders a login form with validation",
            "displays a countdown timer", "opens a modal when a button is clicked", "implements infinite scrolling",
            "renders a sortable table", "toggles dark mode", "shows a weather widget", "lets users upload a profile picture",
        ),
        "test_framework": ("pytest", "unittest", "Jest", "JUnit", "Mocha", "RSpec", "Go's testing package", "xUnit", "Vitest"),
        "app_kind": ("Node.js", "Python Flask", "Django", "Go", "Spring Boot", "React", "Rails", "FastAPI", "ASP.NET Core"),
        "infra_artifact": (
            "a Dockerfile", "a docker-compose file", "a GitHub Actions workflow", "a Kubernetes deployment manifest",
            "a Makefile", "a Terraform module", "a GitLab CI pipeline", "an nginx config",
        ),
        "project": (
            "budget tracker", "chat app", "inventory system for a small shop", "weather dashboard", "URL shortener",
            "recipe website", "to-do list app", "library management system", "Discord bot", "expense splitter",
            "flashcard app", "booking system for a dental clinic", "game leaderboard", "patient appointment tracker",
            "online store checkout", "fitness tracker", "school grading system",
        ),
        "shell_task": (
            "finds all files larger than 100MB", "counts lines in every .py file", "kills the process on port 8080",
            "renames all .jpeg files to .jpg", "deletes log files older than a week",
            "prints the 10 most common IP addresses in an access log", "backs up my home folder to a zip file",
        ),
        "class_entity": (
            "bank account", "shopping cart", "parking lot", "library book", "deck of cards", "matrix",
            "temperature sensor", "student record", "hotel reservation", "playlist",
        ),
        "class_methods": (
            "add and remove items", "deposit and withdraw money", "serialize it to JSON", "compare two instances",
            "compute totals", "validate its fields", "save and load it from a file",
        ),
        "calc": (
            "compound interest", "shipping costs by weight", "a patient's BMI", "a student's GPA",
            "the tax on an invoice", "the average rating", "overtime pay", "calories burned",
        ),
    },
    constraints=(
        "Include comments.", "Add type hints.", "Handle edge cases like empty input.", "Don't use any external libraries.",
        "Make it efficient for large inputs.", "Write it in a functional style.", "Add error handling.",
        "Include a couple of unit tests.", "Keep it under 30 lines.", "Use async/await.",
        "Explain the time complexity briefly.", "Follow PEP 8.", "No explanations, just the code.",
    ),
    prefixes=("Coding question: ", "Dev question: ", "For a side project, "),
    suffixes=_STUDY_SUFFIXES + (" with comments pls", " in one file."),
)


# --------------------------------------------------------------------------------------------
# data_analysis: datasets, statistics, trends, correlations, charts, pivots, A/B tests, KPIs.
# --------------------------------------------------------------------------------------------

_DATA = IntentSpec(
    frames=_frames(
        (0, "Analyze [my|our|the] {dataset}[ and tell me what stands out|]."),
        (0, "What trends do you see in our {dataset}?"),
        (0, "Is there a correlation between {var} and {var2} in [my|our|the] {dataset}?"),
        (0, "Make a pivot table of {metric} by {dimension}."),
        (0, "What's the best chart to show {chart_purpose}?"),
        (0, "Calculate the mean, median and standard deviation of {numbers}."),
        (0, "{metric} by {dimension}[ breakdown| trend| over the last year] from [the|our] {dataset}"),
        (0, "Find the outliers in [my|our|the] {dataset}."),
        (0, "Plot {metric} over time for each {dimension}."),
        (0, "correlation between {var} and {var2}[ in my data| in this dataset]"),
        (1, "I have a(n) {data_format} of {dataset}. Can you help me find {insight}?"),
        (1, "Here are our monthly {metric} figures: {numbers}. What's the trend?"),
        (
            1,
            "Our A/B test had {conv_a} conversions out of {n_a} visitors for version A and {conv_b} out "
            "of {n_b} for version B. Is the difference significant?",
        ),
        (0, "Which KPIs should I track for {kpi_business}?"),
        (1, "Break down {metric} by {dimension} and highlight anything unusual."),
        (1, "How should I visualize {chart_purpose}? I was thinking of a(n) {chart}."),
        (1, "Run {stat_test} on the {dataset} and interpret the results."),
        (1, "Can you look at these numbers and tell me if {metric} is improving? {numbers}"),
        (1, "Compare {metric} across each {dimension} in our {dataset}."),
        (1, "I've got {dataset} in a(n) {data_format}. What statistics should I look at first?"),
        (1, "Segment our customers using the {dataset} and describe each group."),
        (1, "Is this sample big enough? We surveyed {n_people} people out of about {n_pop}."),
        (1, "Forecast next quarter's {metric} from the last two years of {dataset}."),
        (0, "How do I interpret a correlation of {corr} between {var} and {var2}?"),
        (0, "What does an R-squared of {r_squared} mean for my model of {var}?"),
        (1, "I need to figure out {insight} from our {dataset}."),
        (0, "Look at the {dataset} and tell me {insight}."),
        (0, "Which {dimension} has the highest {metric} in this {data_format}?"),
        (1, "I'm a(n) {role} and I have {dataset}. How can I tell {insight}?"),
        (
            1,
            "I ran a survey about {survey_topic} with {n_people} responses. How should I analyze the "
            "answers by {survey_dimension}?",
        ),
        (0, "What's the year-over-year growth in {metric} if it went from {num_a} to {num_b}?"),
        (
            2,
            "I have a(n) {data_format} with {n_rows} rows of {dataset}, with columns for {var}, {var2} "
            "and {dimension}. I want to know {insight}. Which analysis should I run, and what charts "
            "would help me present it?",
        ),
        (
            2,
            "Our {metric} dropped {pct}% last month. Using the {dataset}, break it down by {dimension} "
            "and {dimension2}, check whether it's seasonal, and tell me which segment drove the decline.",
        ),
        (
            2,
            "We ran an A/B test on our checkout page for two weeks. Version A converted {conv_a} of "
            "{n_a} visitors and version B converted {conv_b} of {n_b}. Is B really better, how confident "
            "can we be, and what should we check before rolling it out?",
        ),
        (
            2,
            "Here's a sample of our {dataset}: {numbers}. Calculate the average and the spread, flag any "
            "outliers, and describe the overall trend in two or three sentences.",
        ),
        (
            2,
            "Outline a KPI dashboard for {kpi_business}. Which metrics should be on it, how should each "
            "be calculated from our {dataset}, and which chart suits each one?",
        ),
        (
            2,
            "Using the {dataset} from the last {num_small} years, look for seasonality, compare "
            "year-over-year {metric}, and tell me if anything looks like an anomaly.",
        ),
        (
            2,
            "I work in {domain} and I've been given {dataset} in a(n) {data_format}. My manager wants to "
            "know {insight}. Where do I start, which statistics matter, and how do I check the result "
            "isn't just noise?",
        ),
    ),
    pools={
        "dataset": (
            "sales data", "customer churn data", "website traffic logs", "survey responses",
            "patient readmission records", "student test scores", "monthly expenses", "inventory levels",
            "employee attrition data", "sensor readings from our factory", "daily stock prices",
            "social media engagement data", "crop yield data", "delivery times", "match statistics for my football team",
            "app store reviews", "energy consumption data", "hotel booking data", "customer support tickets",
            "loan default data", "ad campaign results", "clinical trial results", "housing prices",
            "fitness tracker data", "restaurant orders", "polling data", "call center metrics",
            "air quality measurements", "temperature records", "e-commerce transactions", "subscription revenue data",
            "NPS survey results", "warehouse shipment logs", "A/B test results", "library checkout records",
        ),
        "data_format": (
            "CSV", "Excel spreadsheet", "Google Sheet", "SQL table", "JSON export", "pandas dataframe",
            "spreadsheet", "dashboard export", "CSV file",
        ),
        "var": (
            "price", "revenue", "customer age", "temperature", "conversion rate", "session length", "discount",
            "ad spend", "hours of sleep", "study time", "exam score", "tenure", "satisfaction score",
            "delivery time", "rainfall", "page load time", "order value", "number of support tickets", "salary",
            "weekly sales", "days since last login", "distance to store", "number of employees",
        ),
        "metric": (
            "revenue", "conversion rate", "churn rate", "average order value", "daily active users",
            "click-through rate", "customer lifetime value", "gross margin", "readmission rate",
            "on-time delivery rate", "net promoter score", "cost per acquisition", "retention", "sales",
            "average response time", "attendance", "bounce rate", "profit",
        ),
        "dimension": (
            "region", "month", "product category", "customer segment", "sales rep", "marketing channel",
            "age group", "store", "device type", "quarter", "country", "plan tier", "department", "weekday",
        ),
        "chart": ("bar chart", "line chart", "scatter plot", "histogram", "heatmap", "box plot", "pie chart", "stacked area chart"),
        "chart_purpose": (
            "sales over time", "the distribution of customer ages", "market share by competitor",
            "the relationship between ad spend and revenue", "survey results by age group",
            "monthly expenses by category", "website traffic by hour of day", "exam scores across three classes",
            "how delivery times vary by region", "the share of tickets by priority",
        ),
        "insight": (
            "which products are growing fastest", "why sales dropped in March", "which customers are most likely to churn",
            "what drives high ratings", "where we lose users in the funnel", "whether the new pricing worked",
            "which regions underperform", "any seasonal patterns", "any anomalies", "what predicts late deliveries",
            "which campaigns actually pay off", "whether the new process made a difference",
        ),
        "numbers": _numbers,
        "conv_a": _int_slot(20, 600),
        "conv_b": _int_slot(20, 600),
        "n_a": _int_slot(1000, 20000),
        "n_b": _int_slot(1000, 20000),
        "n_people": _int_slot(40, 2500),
        "n_pop": _choice_slot(("5,000", "12,000", "40,000", "200,000", "1 million", "3,500")),
        "n_rows": _choice_slot(("500", "2,000", "10,000", "50,000", "120,000", "1 million")),
        "num_a": _int_slot(100, 5000),
        "num_b": _int_slot(100, 5000),
        "pct": _int_slot(3, 40),
        "corr": _choice_slot(("0.42", "-0.7", "0.15", "0.85", "-0.3", "0.6", "0.05")),
        "r_squared": _choice_slot(("0.12", "0.35", "0.6", "0.8", "0.95")),
        "kpi_business": (
            "an online store", "a SaaS startup", "a hospital ward", "a call center", "a restaurant chain",
            "a mobile game", "a fundraising campaign", "a logistics company", "a university admissions office",
            "a gym", "a podcast", "a small accounting firm",
        ),
        "stat_test": (
            "a t-test", "a chi-square test", "a linear regression", "an ANOVA", "a correlation analysis",
            "a cohort analysis", "a time series forecast", "a cluster analysis", "a survival analysis",
        ),
        "survey_topic": (
            "remote work", "climate change", "public transport", "social media use", "four-day work weeks",
            "mental health at work", "our new app design", "online privacy", "electric cars", "school lunches",
            "the minimum wage", "video games", "our customer service",
        ),
        "survey_dimension": ("age group", "region", "department", "income bracket", "job level", "gender", "city"),
        "role": (
            "teacher", "nurse manager", "small business owner", "HR manager", "marketing analyst", "product manager",
            "coach", "researcher", "store manager", "school principal",
        ),
    },
    constraints=(
        "Explain your reasoning briefly.", "Explain it for a non-technical audience.", "Suggest a chart for it too.",
        "Mention any caveats about the data.", "Use percentages where possible.", "Keep the answer short.",
        "Round to two decimals.", "Tell me how confident I can be.",
    ),
    prefixes=("Work question: ", "For a report I'm writing, ", "Data question: "),
    suffixes=_STUDY_SUFFIXES + (" for my boss.", " for tomorrow's meeting."),
)


# --------------------------------------------------------------------------------------------
# reasoning: logic puzzles, riddles, deductions, math word problems, arguments, probability.
# --------------------------------------------------------------------------------------------

_REASONING = IntentSpec(
    frames=_frames(
        (0, "Solve this riddle: {riddle}"),
        (0, "{riddle}"),
        (0, "What comes next in the sequence {seq}?"),
        (0, "{seq}, [what's the next number|what comes next|next number]?"),
        (0, "Is this argument valid? \"{arg}\""),
        (0, "Prove that {proof}."),
        (0, "{lateral}"),
        (0, "I need help with this riddle: {riddle}"),
        (1, "I'm trying to solve this puzzle: {deduction}"),
        (1, "{word_problem}"),
        (1, "Think step by step. {word_problem}"),
        (
            0,
            "If all {class_noun} are {class_noun2} and some {class_noun2} are {class_noun3}, must some "
            "{class_noun} be {class_noun3}?",
        ),
        (
            1,
            "All {class_noun} are {class_noun2}. No {class_noun2} are {class_noun3}. Can any "
            "{class_noun} be {class_noun3}?",
        ),
        (0, "What's the flaw in this reasoning: \"{arg}\""),
        (0, "Identify the logical fallacy here: {arg}"),
        (0, "{probability_q}"),
        (1, "Here's a brain teaser: {probability_q} Explain how you get the answer."),
        (1, "{deduction}"),
        (1, "Which is the better deal: {deal}? Walk me through your reasoning."),
        (1, "Weigh the arguments for and against {proposition}, then reach a conclusion."),
        (1, "Can you check my logic? {my_logic}"),
        (1, "Help me reason through this: {word_problem}"),
        (0, "True or false, and why: \"{logic_statement}\""),
        (1, "Evaluate this claim: \"{arg}\" Is the conclusion justified?"),
        (1, "Use logic to figure this out: {deduction}"),
        (1, "A friend argues that {argument_clause}. Is that a sound argument?"),
        (
            1,
            "Build the strongest argument for and against the claim that {topic} [does more harm than "
            "good|is overrated|will matter more in 20 years], then decide which side wins.",
        ),
        (0, "If {premise}, what can we logically conclude?"),
        (2, "{deduction} Explain each step of your deduction."),
        (2, "{knights}"),
        (
            2,
            "I'm torn between {option_pair}. Lay out the pros and cons of each, weigh them against each "
            "other, and tell me which argument is stronger and why.",
        ),
        (2, "Consider this: {word_problem} Solve it step by step and then check your answer a second way."),
        (
            2,
            "Here's a puzzle for you. {riddle} Don't just give the answer; explain the reasoning that "
            "gets you there.",
        ),
        (
            2,
            "Someone told me: \"{arg}\" Break the argument into premises and conclusion, say whether "
            "it's valid, and point out any hidden assumptions.",
        ),
        (
            2,
            "{probability_q} Work it out step by step, explain where intuition goes wrong, and give the "
            "final number.",
        ),
    ),
    pools={
        "riddle": (
            "What has keys but can't open locks?", "What gets wetter the more it dries?",
            "I speak without a mouth and hear without ears. What am I?",
            "What can travel around the world while staying in a corner?",
            "The more you take, the more you leave behind. What are they?", "What has a neck but no head?",
            "What comes once in a minute, twice in a moment, but never in a thousand years?",
            "What has cities but no houses, forests but no trees, and water but no fish?",
            "What has many teeth but can't bite?", "What goes up but never comes down?",
            "I have branches but no fruit, trunk or leaves. What am I?",
            "What can you catch but not throw?", "What belongs to you but other people use it more?",
            "What runs but never walks, has a bed but never sleeps?",
        ),
        "seq": _sequence,
        "arg": (
            "If it rains, the street gets wet. The street is wet, so it must have rained.",
            "Every time I wash my car it rains, so washing my car causes rain.",
            "Most successful people wake up early, so waking up early will make me successful.",
            "My grandfather smoked and lived to 95, so smoking can't be that bad.",
            "Everyone I know liked the movie, so it must be the best movie of the year.",
            "All squares are rectangles and this shape is a rectangle, so it's a square.",
            "Sales went up after we changed the logo, so the new logo increased sales.",
            "Nobody has proved that ghosts don't exist, so they must exist.",
            "Either we ban cars downtown or the city will choke on traffic.",
            "If we let students retake one test, soon they'll want to retake every test.",
            "It snowed a lot this winter, so climate change can't be real.",
            "This diet worked for my sister, so it will work for everyone.",
            "The expert is rich, so her advice about money must be right.",
            "If the alarm goes off, there's a fire. There's no fire, so the alarm didn't go off.",
        ),
        "proof": (
            "the sum of two odd numbers is always even", "there are infinitely many prime numbers",
            "the square root of 2 is irrational", "any number divisible by 6 is also divisible by 3",
            "the product of two consecutive integers is always even", "a triangle can't have two right angles",
            "the sum of the first n odd numbers is n squared",
        ),
        "lateral": (
            "How many times a day do the hour and minute hands of a clock overlap?",
            "How can you measure exactly 4 liters with only a 3-liter jug and a 5-liter jug?",
            "You have 8 balls and one is slightly heavier. How do you find it with two weighings on a balance?",
            "A farmer has to cross a river with a wolf, a goat and a cabbage, but can only take one at a time. How does he do it?",
            "How do you cut a cake into 8 equal pieces with only three straight cuts?",
            "If you pass the person in second place in a race, what place are you in?",
            "Two fathers and two sons go fishing and catch three fish, yet each gets one. How is that possible?",
            "A man lives on the 10th floor but takes the elevator only to the 7th and walks up. Why?",
            "Three light switches downstairs control one bulb upstairs. You can go up once. How do you find the right switch?",
        ),
        "word_problem": _word_problem,
        "probability_q": _probability_q,
        "deduction": _deduction,
        "knights": _knights,
        "deal": _deal,
        "class_noun": (
            "bloops", "razzies", "lazzies", "cats", "mammals", "doctors", "artists", "students", "pilots",
            "musicians", "birds", "teachers", "vegetarians", "engineers", "poets", "runners", "zorbs", "wugs",
            "reptiles", "chess players",
        ),
        "proposition": (
            "banning cars from city centers", "a four-day work week", "making voting mandatory",
            "taxing sugary drinks", "replacing exams with projects", "nuclear power as a fix for climate change",
            "universal basic income", "remote work for everyone", "banning phones in schools",
            "free public transport", "lowering the voting age to 16",
        ),
        "my_logic": (
            "Our sales go up every December, so hiring more staff in December will increase sales.",
            "If I save 10% more each month, I'll be able to retire five years earlier.",
            "Since no one complained about the new policy, everyone must like it.",
            "The bus was late three days in a row, so it'll probably be late tomorrow too.",
            "Kids who read more get better grades, so making kids read more will raise their grades.",
            "Our app crashes more on weekends, so weekend users must be doing something wrong.",
        ),
        "logic_statement": (
            "If no cats are dogs, then no dogs are cats.", "Some numbers are even, so some even things are numbers.",
            "If every student passed, then at least one student passed.",
            "If it's not raining, it's sunny.", "All roses are flowers, so all flowers are roses.",
            "If A is taller than B and B is taller than C, then A is taller than C.",
        ),
        "argument_clause": (
            "since crime dropped after the new mayor took office, the mayor caused the drop",
            "buying lottery tickets every week makes you more likely to win eventually",
            "video games cause violence because many violent criminals play them",
            "because it's been cold all week, global warming must be a myth",
            "raising the minimum wage will close every small business",
            "expensive wine must taste better because it costs more",
            "since the last three coin flips were heads, the next one is probably tails",
        ),
        "premise": (
            "every statement on this card is false", "all bloops are razzies and no razzies are lazzies",
            "the barber shaves everyone who doesn't shave themselves", "no one who likes jazz likes opera, and Ana likes opera",
            "every even number greater than 2 is the sum of two primes", "some doctors are runners and all runners are early risers",
        ),
        "option_pair": (
            "renting and buying a home", "a higher-paying job and one with better hours", "a used car and a new one",
            "learning Python first and learning JavaScript first", "a gap year and starting college right away",
            "paying off my loan early and investing the money", "a big wedding and eloping",
        ),
    },
    constraints=(
        "Show your work.", "Explain each step.", "Don't just give me the answer.", "Double-check your answer.",
        "Explain it simply.", "Think it through carefully.",
    ),
    prefixes=("Brain teaser time! ", "Here's one for you: ", "Puzzle: ", "Riddle me this: "),
    suffixes=_STUDY_SUFFIXES + (" no googling!", " I'm stuck."),
)


# --------------------------------------------------------------------------------------------
# summarization: summarize, condense, tl;dr, key points of given text.
# --------------------------------------------------------------------------------------------

_SUMMARIZATION = IntentSpec(
    frames=_frames(
        (0, "Summarize this {text_type}: {excerpt}"),
        (0, "[tl;dr|TL;DR please|tldr|Give me the tl;dr]: {excerpt}"),
        (0, "Summarize the plot of {book}."),
        (0, "Give me the key points of this {text_type}."),
        (0, "Can you summarize [this|the following][ for me|]? {excerpt}"),
        (0, "What's the gist of this? {excerpt}"),
        (0, "Sum up {book} in a few sentences."),
        (0, "Boil this down: {excerpt}"),
        (0, "[summary of|summarize|short summary of] {book}"),
        (0, "Make this shorter: {excerpt}"),
        (0, "I need a quick summary of this {text_type}: {excerpt}"),
        (1, "Condense the following into {length_limit}: {excerpt}"),
        (1, "Shorten this paragraph to {length_limit}: {excerpt}"),
        (1, "I don't have time to read this {text_type} about {topic}. What are the main takeaways?"),
        (1, "Write an executive summary of this {text_type} for {audience}."),
        (1, "Summarize this {text_type} for {audience}: {excerpt}"),
        (1, "Recap the {text_type} below in {length_limit}. {excerpt}"),
        (1, "Give me a one-paragraph overview of {book}, without spoilers."),
        (0, "Can you pull out the key takeaways from this {text_type}? {excerpt}"),
        (0, "Summarize the main arguments of this essay on {topic}."),
        (0, "Highlight the most important points in this {text_type}: {excerpt}"),
        (1, "Here's a(n) {text_type} I got today: {excerpt} What's the short version?"),
        (0, "Turn these notes into a brief recap: {excerpt}"),
        (1, "Summarize each chapter of {book} in one sentence."),
        (1, "In a few bullet points, what does this {text_type} say? {excerpt}"),
        (0, "Summarize the main findings of this paper on {topic}."),
        (0, "Could you distill this {text_type} into a few key points? {excerpt}"),
        (1, "Summarize this {domain} report for {audience}."),
        (2, "Summarize this {text_type} in {length_limit}, then list any action items and who owns them: {excerpt}"),
        (
            2,
            "I'm preparing a briefing for {audience}. Summarize the following {text_type} in plain "
            "language, keep it under 100 words, and flag anything that sounds risky: {excerpt}",
        ),
        (
            2,
            "Here is a(n) {text_type} about {topic}. Give me a one-sentence summary, then three key "
            "points, then one open question it leaves unanswered.",
        ),
        (
            2,
            "Please condense this into {length_limit} for {audience}, keep the numbers accurate, and "
            "drop the background details. {excerpt}",
        ),
        (
            2,
            "Can you summarize the notes from today's {meeting_kind}? Focus on the decisions we made and "
            "skip the small talk. {excerpt}",
        ),
        (
            2,
            "I have to present {book} to my book club tomorrow and I only read half. Summarize the plot, "
            "the main characters and the ending in a few short paragraphs.",
        ),
    ),
    pools={
        "text_type": (
            "article", "research paper", "meeting transcript", "email thread", "book chapter", "report",
            "blog post", "lecture", "podcast transcript", "contract", "policy document", "news story",
            "set of product reviews", "earnings call transcript", "Slack thread", "essay", "case study",
            "set of interview notes", "press release", "legal brief", "white paper", "Wikipedia page",
            "video transcript", "court ruling", "quarterly report", "discharge note", "terms of service",
            "grant proposal", "paragraph", "email", "newsletter", "review",
        ),
        "excerpt": PASSAGES,
        "book": (
            "Pride and Prejudice", "1984", "The Great Gatsby", "Hamlet", "To Kill a Mockingbird", "The Odyssey",
            "Moby-Dick", "Frankenstein", "The Lord of the Rings", "Don Quixote", "The Hunger Games",
            "Crime and Punishment", "the first Harry Potter book", "Romeo and Juliet", "The Little Prince",
            "Sapiens", "Atomic Habits", "The Art of War", "Macbeth", "Jane Eyre", "Dune", "The Alchemist",
            "Brave New World", "Of Mice and Men",
        ),
        "audience": (
            "my boss", "a busy executive", "a ten-year-old", "our investors", "the rest of the team",
            "non-technical stakeholders", "my study group", "patients", "new employees", "our newsletter",
            "the board", "my parents",
        ),
        "length_limit": (
            "one sentence", "three bullet points", "50 words", "a short paragraph", "a tweet", "five bullet points",
            "two sentences", "100 words", "a single line",
        ),
        "meeting_kind": ("standup", "board meeting", "client call", "all-hands", "sprint review", "parent-teacher meeting"),
    },
    constraints=(
        "Keep it under 50 words.", "Use bullet points.", "Keep the tone neutral.", "Don't leave out any numbers.",
        "Write it in plain English.", "Just the main points.", "One paragraph max.",
    ),
    prefixes=("Busy day, ", "Need this fast: ", "No time to read this. "),
    suffixes=_STUDY_SUFFIXES + (" short version please.",),
)


# --------------------------------------------------------------------------------------------
# translation: between natural languages, "how do you say", localisation.
# --------------------------------------------------------------------------------------------

_TRANSLATION = IntentSpec(
    frames=_frames(
        (0, "Translate \"{phrase}\" into {language}."),
        (0, "How do you say \"{phrase}\" in {language}?"),
        (0, "What does \"{foreign_phrase}\" mean in English?"),
        (0, "{language} for \"{phrase}\"?"),
        (0, "translate to {language}: {phrase}"),
        (0, "\"{phrase}\" in {language}"),
        (0, "What's the {language} word for {word}?"),
        (0, "Translate this[ into English|][ please|]: {foreign_phrase}"),
        (0, "How do I say {word} in {language}?"),
        (0, "{word} in {language}?"),
        (0, "I need to tell my {relation} \"{phrase}\" in {language}."),
        (0, "Can you translate this email into {language}? {excerpt}"),
        (0, "Translate the following paragraph from English to {language}: {excerpt}"),
        (1, "Localize {ui_text} for the {market} market."),
        (1, "I'm traveling to {country} next week. How would I say \"{phrase}\" in the local language?"),
        (1, "Please translate this into {language} and keep it {register}: {phrase}"),
        (
            1,
            "How would a native speaker say \"{phrase}\" in {language}? I want it to sound natural, not "
            "word for word.",
        ),
        (1, "Is there a(n) {language} equivalent of the expression \"{idiom}\"?"),
        (1, "Translate \"{phrase}\" into {language} and {language2}."),
        (1, "My {relation} only speaks {language}. How do I write \"{phrase}\" to them?"),
        (0, "Convert this text from {language} into {language2}: {foreign_phrase}"),
        (1, "Give me a formal and an informal way to say \"{phrase}\" in {language}."),
        (1, "What's the correct translation of \"{foreign_phrase}\"? A friend sent it to me."),
        (0, "Translate {ui_text} into {language}."),
        (0, "I need this menu item in {language}: {dish}"),
        (0, "Say \"{phrase}\" in {language}[ please|]."),
        (1, "Put this line into {language} for our subtitles: \"{phrase}\""),
        (0, "Can you render this {text_type_t} in {language}? {excerpt}"),
        (0, "Translate this short article about {topic} into {language}."),
        (
            2,
            "Please translate this {text_type_t} into {language}. Keep the tone {register}, don't "
            "translate brand names, and add a note wherever a phrase has no direct equivalent: {excerpt}",
        ),
        (
            2,
            "We're launching in the {market} market next month. Can you localize {ui_text}, adapt the "
            "dates and currency to local conventions, and flag anything culturally awkward?",
        ),
        (
            2,
            "I'm writing to my host family in {country} before my exchange year. Translate this into "
            "{language} and make it warm but polite: {phrase}",
        ),
        (
            2,
            "Translate this paragraph into {language}, then back into English so I can check the meaning "
            "didn't change: {excerpt}",
        ),
        (
            2,
            "Here's a sentence in another language: \"{foreign_phrase}\" Can you translate it into "
            "English, explain any idioms, and tell me how formal it sounds?",
        ),
    ),
    pools={
        "phrase": (
            "good morning", "where is the train station", "I'm allergic to peanuts", "thank you for your help",
            "the meeting has been moved to Thursday", "happy birthday", "how much does this cost", "I love you",
            "nice to meet you", "can I have the bill, please", "I'm lost", "do you speak English",
            "where is the nearest pharmacy", "I would like to book a table for two", "see you tomorrow",
            "congratulations on your new job", "I don't understand", "my flight has been cancelled",
            "could you speak more slowly", "we look forward to working with you", "please find the invoice attached",
            "the museum is closed on Mondays", "I need a doctor", "what time does the store open",
            "sorry I'm late", "welcome to our hotel", "your order has shipped", "merry Christmas and happy new year",
            "I'm a vegetarian", "it was a pleasure meeting you", "can you recommend a good restaurant",
            "the wifi password is on the back of the menu", "thanks for coming to my party",
        ),
        "foreign_phrase": (
            "je ne sais pas quoi dire", "¿dónde está la estación de tren?", "Ich habe heute keine Zeit",
            "Grazie mille per tutto", "Obrigado pela ajuda", "Wo ist die nächste Apotheke?", "C'est la vie",
            "Hace mucho calor hoy", "Ik hou van fietsen", "Jag förstår inte", "Dziękuję bardzo",
            "Merci pour votre patience", "Non vedo l'ora di vederti", "Estoy aprendiendo a cocinar",
            "Kannst du mir helfen?", "arigatou gozaimasu", "ありがとうございます", "谢谢你的帮助", "Спасибо большое",
            "شكرا جزيلا", "감사합니다", "Hakuna matata", "Qué tengas un buen día", "Je suis désolé pour le retard",
            "Das ist mir Wurst", "Saudade de você", "Ojalá que llueva café",
        ),
        "word": (
            "butterfly", "library", "cheers", "bill", "window", "friendship", "homework", "appointment",
            "receipt", "headache", "pharmacy", "invoice", "deadline", "sunflower", "keyboard", "grandmother",
            "breakfast", "umbrella", "train ticket", "thank you", "hello", "goodbye", "beer", "water",
        ),
        "ui_text": (
            "the onboarding screens of our app", "this error message", "our checkout page", "our product description",
            "the push notification texts", "this marketing email", "my restaurant's menu", "our website's FAQ",
            "our privacy policy", "the dialogue in our game", "the app store listing", "our welcome email",
        ),
        "market": (
            "Brazilian", "Mexican", "Japanese", "German", "French-Canadian", "Korean", "Italian", "Indian",
            "Spanish", "Chinese", "Middle Eastern", "Dutch", "Polish", "Turkish",
        ),
        "country": (
            "Japan", "Italy", "Mexico", "Germany", "Brazil", "Turkey", "Vietnam", "Greece", "Morocco",
            "South Korea", "France", "Poland", "Argentina", "Egypt", "Thailand",
        ),
        "register": ("formal", "casual", "polite", "professional", "friendly", "neutral"),
        "idiom": (
            "break a leg", "it's raining cats and dogs", "piece of cake", "the ball is in your court",
            "kill two birds with one stone", "once in a blue moon", "under the weather", "spill the beans",
            "hit the nail on the head", "bite the bullet", "cost an arm and a leg",
        ),
        "dish": (
            "grilled salmon with lemon butter", "vegetable soup of the day", "chocolate lava cake",
            "spicy chicken wings", "gluten-free pasta with pesto", "slow-cooked beef stew", "mushroom risotto",
        ),
        "text_type_t": ("email", "paragraph", "message", "announcement", "letter", "note", "review", "product description"),
        "excerpt": PASSAGES,
    },
    constraints=(
        "Keep it formal.", "Make it sound natural.", "Keep it short.", "Include the pronunciation.",
        "Explain any words that don't translate directly.", "Use the polite form.",
    ),
    prefixes=("Language question: ", "Travel question: ", "Quick translation: "),
    suffixes=_STUDY_SUFFIXES + (" gracias!", " merci!"),
)


# --------------------------------------------------------------------------------------------
# conversation: small talk, greetings, feelings, opinions, venting, banter, thanks and goodbyes.
# --------------------------------------------------------------------------------------------

_CONVERSATION = IntentSpec(
    frames=_frames(
        (0, "{greeting_word}[!|,|] {how_are_you}?"),
        (0, "{greeting_word} [there|friend|buddy|again|everyone|my friend][!|]"),
        (0, "{^how_are_you}?"),
        (
            0,
            "[Tell me about yourself|Tell me a bit about yourself|So tell me about yourself|Who are you, "
            "anyway|What are you like]?",
        ),
        (0, "[What's your name|Do you have a name|What should I call you|Who am I talking to]?"),
        (0, "Do you have a favorite {favorite_thing}?"),
        (0, "What's your favorite {favorite_thing}?"),
        (
            0,
            "[Thanks|Thank you|Thanks a lot|Cheers], [that was really helpful|you're the best|I "
            "appreciate it|that made my day|you've been great]!",
        ),
        (
            0,
            "[Goodbye|Bye|See you later|Talk to you tomorrow|Good night|Catch you later|Gotta go], [it "
            "was nice chatting|have a good one|take care|thanks for the chat]!",
        ),
        (0, "I'm feeling {feeling} today."),
        (0, "I just {life_event}!"),
        (0, "Let's [chat|talk] about {chat_topic}."),
        (0, "{compliment}[, you know that|, honestly|]!"),
        (0, "Would you rather {wyr}?"),
        (0, "[lol|haha|hahaha|lmao] [that's|that is] [hilarious|so funny|a good one|amazing]"),
        (0, "Nice to meet you, I'm {name}."),
        (
            0,
            "[Do you ever get tired|Do you dream|Are you a real person|Do you have feelings|Do you get "
            "bored|Are you happy|Do you like your job|What do you do all day|Do you ever sleep]?",
        ),
        (1, "I'm so excited, my {relation} is visiting this weekend!"),
        (
            1,
            "Ugh, I had such a long day. {vent} [Can we just chat for a bit?|I just needed to say that "
            "out loud.|Anyway, how was your day?]",
        ),
        (1, "I can't sleep. Want to talk[ for a while| about something random|]?"),
        (1, "Guess what? I {life_event}!"),
        (1, "I'm {name}, by the way. What do you like to talk about?"),
        (1, "What do you think about {chat_topic}? Just curious what you'd say."),
        (1, "I'm bored. Say something [funny|interesting|random|nice]."),
        (1, "This weekend I {weekend_activity}. What about you?"),
        (1, "[I'm back|Hey, it's me again|Guess who's back]! Did you miss me?"),
        (1, "Remember me? [We talked yesterday.|It's {name}.|I told you about my {relation}.]"),
        (1, "I'm feeling {feeling} and I don't really know why. Can we just talk?"),
        (1, "Just wanted to say hi and tell you I {life_event}."),
        (1, "I was just thinking about {topic} on my walk. Do you ever think about stuff like that?"),
        (1, "My {relation} thinks it's weird that I chat with you. What do you think?"),
        (1, "It's {weather} here today and I'm {feeling}. How's your day going?"),
        (
            2,
            "Hey, it's been a rough week. {vent} I'm not looking for advice, I just want to chat about "
            "something fun for a bit. What's on your mind?",
        ),
        (
            2,
            "Good morning! I just {life_event} and I'm feeling {feeling}. Tell me something nice to "
            "start the day, and ask me about my plans.",
        ),
        (
            2,
            "I moved to a new city last month and I don't know many people yet. Honestly it's nice just "
            "to talk to someone. How's your day going?",
        ),
        (
            2,
            "So my {relation} and I had a silly debate at dinner: would you rather {wyr}? What would you "
            "pick, and why? I want to hear your take before I tell you mine.",
        ),
    ),
    pools={
        "greeting_word": (
            "Hi", "Hey", "Hello", "Good morning", "Good evening", "Hey there", "Yo", "Hiya", "Morning",
            "Howdy", "Hi again", "Heya", "Evening", "Sup", "Greetings",
        ),
        "how_are_you": (
            "how are you", "how's it going", "how are you doing today", "what's up", "how's your day going",
            "how have you been", "what's new", "how's life", "you doing okay", "how's everything",
            "how was your day", "how are things", "what are you up to",
        ),
        "feeling": (
            "tired", "really happy", "stressed out", "a bit lonely", "anxious", "bored", "super excited",
            "a bit down", "great", "overwhelmed", "nostalgic", "grateful", "kind of restless",
            "proud of myself", "grumpy", "sleepy", "pretty chill", "weirdly energetic",
        ),
        "life_event": (
            "got a new puppy", "finished my exams", "got promoted", "moved into my first apartment",
            "ran my first 5k", "started a new job", "had the best pizza of my life", "finally finished that book",
            "got back from vacation", "passed my driving test", "adopted a cat", "turned 30",
            "learned to bake bread", "saw an amazing concert", "became an aunt", "got engaged",
            "finished a huge project at work", "planted my first garden",
        ),
        "chat_topic": (
            "movies", "music", "the weekend", "travel", "food", "sports", "the weather", "video games",
            "pets", "books", "space", "coffee", "climate change", "your favorite things", "anything really",
            "summer plans", "the Olympics", "art", "TV shows", "funny stuff", "dogs versus cats", "pineapple on pizza",
        ),
        "favorite_thing": (
            "movie", "book", "color", "song", "food", "season", "animal", "holiday", "video game", "band",
            "sport", "city", "word", "dessert", "TV show", "time of day",
        ),
        "vent": (
            "My boss kept me late again.", "Traffic was awful.", "Nothing went right today.",
            "My meetings ran over all afternoon.", "The kids were wild today.", "My train was cancelled twice.",
            "I didn't get the apartment I wanted.", "It rained the whole time.", "Everyone at work was in a mood.",
        ),
        "wyr": (
            "be able to fly or be invisible", "live in the mountains or by the sea", "have a cat or a dog",
            "travel to the past or the future", "give up pizza or chocolate forever", "always be too hot or too cold",
            "read minds or see the future", "never use social media again or never watch TV again",
        ),
        "compliment": (
            "You're pretty funny", "You're really nice to talk to", "You're smarter than I expected",
            "You're a good listener", "You always cheer me up", "I like chatting with you",
        ),
        "weekend_activity": (
            "went hiking", "binge-watched a whole series", "visited my grandparents", "tried a new ramen place",
            "cleaned the entire house", "played video games all day", "went to a wedding", "did absolutely nothing",
            "went to the beach",
        ),
        "weather": ("sunny", "raining", "freezing", "really hot", "snowing", "super windy", "grey and gloomy"),
    },
    constraints=(),
    prefixes=("lol ", "Soooo ", "Hmm, ", "Ahh ", "Okay so "),
    suffixes=(" :)", " lol", " haha", " 😊", " hehe", " :D", "!!", " 🙂"),
)


# --------------------------------------------------------------------------------------------
# task_planning: plans, schedules, roadmaps, itineraries, checklists, milestones.
# --------------------------------------------------------------------------------------------

_PERSONAL_GOALS: tuple[str, ...] = (
    "launch a podcast", "move to a new apartment", "plan a wedding on a budget", "train for a half marathon",
    "renovate my kitchen", "learn Spanish", "start a vegetable garden", "write my thesis", "prepare for a job interview",
    "declutter my house", "get my finances in order", "learn to code", "write a novel", "switch careers into UX design",
    "get ready for a new baby", "get ready for tax season", "set up a home office", "build an emergency fund",
    "read 30 books this year", "learn the guitar", "get back into running", "apply to grad school",
)
_TEAM_GOALS: tuple[str, ...] = (
    "migrate our database to PostgreSQL", "launch a new product", "roll out a new CRM to the sales team",
    "move our app to Kubernetes", "open a small bakery", "open an online store", "run a fundraising campaign",
    "redesign our company website", "organize a community cleanup", "onboard five new engineers",
    "prepare our restaurant for a health inspection", "launch our app in three new countries",
    "get ready for a security audit", "move to a new office", "switch to a four-day week", "plan our annual conference",
)

_PLANNING = IntentSpec(
    frames=_frames(
        (0, "Create a(n) {timeframe} plan to {goal}."),
        (0, "Help me plan {event}."),
        (0, "Make a checklist for {checklist_subject}."),
        (0, "Plan a(n) {num_days}-day itinerary for {destination}."),
        (0, "{num_days}-day {destination} itinerary"),
        (0, "Draft a study plan for {exam}."),
        (0, "Give me a weekly schedule to {goal}."),
        (0, "[checklist|to-do list|packing list] for {checklist_subject}"),
        (0, "Break {project} into milestones."),
        (0, "I need a plan to {goal}."),
        (1, "I'm trying to {goal} but I never know where to start. Can you make me a schedule?"),
        (0, "[Plan|Schedule|Organize] my [week|day|weekend|month][ for me|]."),
        (1, "What steps should I take to {goal}? Put them in order with rough deadlines."),
        (1, "I need a roadmap for {project} over the next {num_small} months."),
        (1, "Organize my week. Here's what I have to do: {task_list}."),
        (1, "I want to {goal} by {deadline}. How should I schedule it?"),
        (1, "Prioritize these tasks and put them into a timeline: {task_list}."),
        (1, "Build me a daily routine that fits around {routine_constraint}."),
        (1, "With {routine_constraint}, how do I find time to {personal_goal}? Make me a weekly plan."),
        (0, "Can you map out a step-by-step plan to {goal}?"),
        (1, "We're {team_context} and we want to {team_goal}. What should the plan look like?"),
        (
            1,
            "Plan my {num_days} days in {destination}[ on a budget| with kids| with lots of food stops| "
            "without a car].",
        ),
        (0, "What's a realistic timeline to {goal}?"),
        (1, "Create a project plan for {project} with phases and deadlines."),
        (1, "I have {num_small} weeks until {exam}. Make me a study schedule."),
        (0, "Set up a(n) {timeframe} content calendar for {calendar_subject}."),
        (1, "Help me organize {event}: what needs to happen and when?"),
        (0, "Organize a(n) {timeframe} training schedule so I can {fitness_goal}."),
        (1, "Plan a(n) {timeframe} lesson unit on {topic} for my {grade} class."),
        (0, "Create a 90-day onboarding plan for a new hire in {domain}."),
        (
            2,
            "We're {team_context}. We need to {team_goal} by {deadline}. Can you lay out a phased plan "
            "with owners, milestones and the main risks for each phase?",
        ),
        (
            2,
            "I'm going to {destination} for {num_days} days with my {relation}. We like {hobby} and hate "
            "crowds. Plan a day-by-day itinerary with a rough budget and one rest day.",
        ),
        (
            2,
            "Plan {project} for us. Break it into phases, estimate how long each takes, list the "
            "dependencies, and suggest what to do first if we only get half the budget.",
        ),
        (
            2,
            "I have {routine_constraint} and want to {personal_goal} within {timeframe_words}. Make a "
            "weekly plan that's realistic, with specific time blocks and a buffer for bad weeks.",
        ),
        (
            2,
            "Can you make a moving checklist and timeline? We move on {move_date}, we have {num_small} "
            "rooms to pack, and we still need to {moving_todo}.",
        ),
        (
            2,
            "Our team has to {team_goal}. Draft a roadmap with quarterly milestones, the key "
            "deliverables for each quarter, and how we'll track progress.",
        ),
        (
            2,
            "Help me plan {event}. There are about {guests} people, the budget is tight, and I have "
            "{num_small} weeks. Give me a timeline, a task list and who should do what.",
        ),
    ),
    pools={
        "goal": _PERSONAL_GOALS + _TEAM_GOALS,
        "personal_goal": _PERSONAL_GOALS,
        "team_goal": _TEAM_GOALS,
        "timeframe": (
            "30-day", "6-week", "3-month", "one-year", "two-week", "weekly", "90-day", "12-week", "six-month", "4-week",
        ),
        "timeframe_words": ("three months", "six weeks", "a year", "90 days", "two months", "the summer"),
        "event": (
            "a birthday party for my 7-year-old", "a team offsite for 20 people", "a family reunion",
            "a product launch event", "a charity bake sale", "a surprise anniversary dinner",
            "a conference for 300 attendees", "a wedding for 80 guests", "a hackathon", "a baby shower",
            "our book club's first meeting", "Thanksgiving dinner for 12", "a school science fair", "a farewell party",
        ),
        "destination": (
            "Tokyo", "Rome", "Lisbon", "Iceland", "New York", "Bali", "Peru", "Paris", "the Scottish Highlands",
            "Mexico City", "Cape Town", "Vietnam", "Barcelona", "Seoul", "Yellowstone", "the Amalfi Coast",
            "Istanbul", "Kyoto and Osaka", "Patagonia", "Morocco", "Vienna", "Costa Rica",
        ),
        "num_days": _int_slot(2, 14),
        "checklist_subject": (
            "moving house", "a camping trip", "launching a website", "my first week at a new job",
            "a newborn's arrival", "a job interview", "closing the office for the holidays", "a product release",
            "starting university", "a GDPR audit", "a ski trip", "a conference talk", "hosting a dinner party",
            "a security review before launch", "selling my car", "a road trip", "the first day of school",
        ),
        "exam": (
            "the GRE", "the bar exam", "my final exams", "the AWS Solutions Architect exam", "the MCAT", "the IELTS",
            "the CPA exam", "my driving theory test", "the SAT", "a Python certification", "the USMLE",
            "my history midterm", "the PMP exam",
        ),
        "project": (
            "a website redesign", "a mobile app MVP", "our ERP migration", "a kitchen renovation", "the annual report",
            "an office move", "a data warehouse project", "the marketing campaign for our new product",
            "a community garden", "our cloud migration", "a new employee training program",
            "a hospital's switch to electronic records", "a school fundraising drive", "a small indie game",
            "a research study",
        ),
        "task_list": _task_list,
        "deadline": (
            "the end of the month", "June", "next Friday", "the end of the year", "Christmas", "our Q3 review",
            "my birthday", "spring", "the semester break", "the end of the quarter",
        ),
        "routine_constraint": (
            "a full-time job and two kids", "night shifts", "a two-hour commute", "university classes in the mornings",
            "marathon training", "working from home", "a newborn", "a part-time job and evening classes",
        ),
        "calendar_subject": (
            "our bakery's Instagram", "a tech blog", "a fitness YouTube channel", "our school newsletter",
            "a law firm's LinkedIn page", "our nonprofit's social media",
        ),
        "fitness_goal": (
            "run a 10k", "do 20 pull-ups", "lose 5 kilos", "swim a mile", "improve my flexibility", "get ready for a ski trip",
        ),
        "grade": ("8th grade", "high school", "university seminar", "adult evening", "5th grade", "ESL"),
        "move_date": ("the 15th", "March 1st", "the last weekend of June", "a Saturday in three weeks"),
        "moving_todo": (
            "find movers", "sell the old sofa", "change the kids' schools", "set up internet at the new place",
            "give notice to our landlord",
        ),
        "guests": ("15", "25", "40", "60", "100", "150"),
    },
    constraints=(
        "Keep it realistic.", "Include deadlines.", "Put it in a table.", "Assume I only have evenings free.",
        "Keep the budget under $500.", "Include some buffer time.", "Keep weekends free.", "Start next Monday.",
    ),
    prefixes=("Planning question: ", "I'm trying to get organized. ", "New year, new me: "),
    suffixes=_STUDY_SUFFIXES + (" starting tomorrow.",),
)


# --------------------------------------------------------------------------------------------
# problem_solving: troubleshooting and fixing concrete problems, root causes, workarounds.
# --------------------------------------------------------------------------------------------

_TECH_PROBLEMS: tuple[str, ...] = (
    "my laptop won't turn on", "my wifi keeps dropping every few minutes", "my phone battery drains really fast",
    "my printer says it's offline even though it's connected", "my emails keep going to spam",
    "my Zoom audio keeps echoing", "my monitor flickers randomly", "my website loads really slowly",
    "my Bluetooth headphones keep disconnecting", "my Excel formula returns #REF!", "my laptop fan is always loud",
    "my phone won't charge", "my keyboard types the wrong characters", "I keep getting locked out of my account",
    "my TV has sound but no picture", "my smart speaker won't connect to wifi", "my hard drive is making clicking noises",
    "my npm install keeps failing", "my Python script runs out of memory", "my git push gets rejected",
    "the page layout breaks on mobile", "my computer takes ten minutes to boot", "my webcam isn't detected",
    "my game keeps crashing on startup", "my phone storage is always full",
)
_HOME_PROBLEMS: tuple[str, ...] = (
    "my car makes a grinding noise when I brake", "my sourdough won't rise", "the leaves on my tomato plants are turning yellow",
    "my bathroom sink is clogged", "my bike chain keeps slipping", "my dishwasher leaves white spots on the glasses",
    "my basil is wilting", "my fridge is making a loud buzzing noise", "my cake always sinks in the middle",
    "my shower has almost no water pressure", "the garage door won't close all the way", "my houseplants have fungus gnats",
    "my washing machine won't drain", "my car won't start on cold mornings", "my home office gets too hot in the afternoon",
    "the heating in my apartment barely works", "my bread comes out dense", "my toilet keeps running",
    "there's a damp patch on my bedroom ceiling", "my rice always turns out mushy",
)
_LIFE_PROBLEMS: tuple[str, ...] = (
    "my dog keeps barking at night", "my toddler refuses to sleep in her own bed",
    "two people on my team keep arguing in meetings", "customer complaints doubled after our last update",
    "my budget never balances at the end of the month", "my cat keeps peeing outside the litter box",
    "my roommate never does the dishes", "our team keeps missing deadlines", "my kid's grades suddenly dropped",
    "I can't focus when I work from home", "I procrastinate on everything important",
    "my neighbors are loud every night", "I keep forgetting to pay my bills on time",
)

_PROBLEM = IntentSpec(
    frames=_frames(
        (0, "{^problem}. How do I fix it?"),
        (0, "{^problem}, any ideas?"),
        (0, "Help! {^problem}."),
        (0, "My {device} {symptom}. What should I do?"),
        (0, "{device} {symptom}[, help| help|]"),
        (0, "How do I fix \"{-error}\"?"),
        (0, "Getting {error}. How do I fix this?"),
        (0, "Any idea why my {device} {symptom}?"),
        (0, "How do I get rid of {nuisance}?"),
        (0, "My {plant} {plant_symptom}. How do I save it?"),
        (0, "I need help, {problem}."),
        (1, "{^tech_problem}. I've already tried {tried}. What else can I do?"),
        (1, "{^home_problem}. I've already tried {home_tried}. What else can I do?"),
        (1, "{^life_problem}. I've tried {life_tried}, but it didn't help. What else can I do?"),
        (1, "I'm getting this error: {error}. What's wrong and how do I fix it?"),
        (0, "What could be causing this? {^problem}."),
        (0, "Is there a workaround for {issue}?"),
        (0, "Can you help me debug this? I keep getting {error}."),
        (1, "Since {since_when}, {tech_problem}. Any suggestions?"),
        (0, "Troubleshoot this for me: {problem}."),
        (0, "How can I stop this from happening? {^problem}."),
        (1, "I run a(n) {small_business} and {biz_problem}. How do I solve this?"),
        (0, "{^problem} and it's driving me crazy. Any fixes?"),
        (0, "What's the best way to deal with this: {problem}?"),
        (1, "My code works locally but fails in CI with {error}. How do I fix it?"),
        (1, "I'm trying to {attempt} but {blocker}. What am I doing wrong?"),
        (1, "{^problem}. Is this something I can fix myself or do I need a professional?"),
        (1, "I'm giving a talk on {topic} tomorrow and my slides keep crashing PowerPoint. How do I fix it?"),
        (0, "{^problem}. What's the root cause likely to be?"),
        (
            2,
            "Since {since_when}, {tech_problem}. I've tried {tried} and {tried2}, but nothing worked. "
            "What could be causing this, and what should I try next?",
        ),
        (
            2,
            "Ever since {home_since}, {home_problem}. I've tried {home_tried} and {home_tried2} with no "
            "luck. What's likely going on, and what should I try next?",
        ),
        (
            2,
            "{^life_problem}, and it's starting to really stress me out. I've tried {life_tried}. What's "
            "probably behind it, and what practical steps could fix it?",
        ),
        (
            2,
            "Our {system} has been {sys_symptom} since {since_when}. The logs show {error}. Walk me "
            "through finding the root cause and a safe fix.",
        ),
        (
            2,
            "I manage {team_context} and {team_problem}. I've tried {tried_people}. How can I resolve "
            "this without making things worse?",
        ),
        (
            2,
            "My {device} {symptom}, but only when {condition}. I've already tried {tried}. What could be "
            "wrong, and how do I fix it without losing my data?",
        ),
        (
            2,
            "{^problem}. It started {since_when_ago}, and it's getting worse. What are the likely "
            "causes, how do I check each one, and when should I call someone?",
        ),
    ),
    pools={
        "problem": _TECH_PROBLEMS + _HOME_PROBLEMS + _LIFE_PROBLEMS,
        "tech_problem": _TECH_PROBLEMS,
        "home_problem": _HOME_PROBLEMS,
        "life_problem": _LIFE_PROBLEMS,
        "device": (
            "laptop", "phone", "printer", "router", "TV", "car", "dishwasher", "washing machine", "PS5", "iPad",
            "smartwatch", "fridge", "microwave", "air conditioner", "headphones", "Xbox", "Kindle", "coffee machine",
            "desktop PC", "dryer",
        ),
        "symptom": (
            "won't turn on", "keeps restarting", "is really slow", "won't connect to wifi", "keeps freezing",
            "makes a weird noise", "overheats", "shows a black screen", "won't charge", "keeps disconnecting",
            "is leaking", "beeps every few minutes", "won't update", "smells like burning", "keeps shutting off",
        ),
        "error": (
            "ModuleNotFoundError: No module named 'pandas'", "npm ERR! code EACCES",
            "a CORS error saying No 'Access-Control-Allow-Origin' header",
            "TypeError: Cannot read properties of undefined (reading 'map')", "a NullPointerException",
            "Segmentation fault (core dumped)", "Permission denied (publickey)", "ERR_CONNECTION_REFUSED",
            "a 404 on my Flask route", "KeyError: 'user_id'", "fatal: refusing to merge unrelated histories",
            "error 0x80070005 during Windows Update", "OutOfMemoryError: Java heap space",
            "SSL certificate problem: unable to get local issuer certificate", "port is already allocated from Docker",
            "a blue screen with CRITICAL_PROCESS_DIED", "E: Unable to locate package", "IndexError: list index out of range",
            "deadlock detected in PostgreSQL", "The printer driver is unavailable", "DNS_PROBE_FINISHED_NXDOMAIN",
        ),
        "tried": (
            "restarting it", "unplugging it for a minute", "updating the drivers", "reinstalling the app",
            "clearing the cache", "checking all the cables", "a factory reset", "googling the error",
            "replacing the batteries", "running the built-in troubleshooter", "moving the router",
            "changing the password", "turning it off and on again", "updating everything",
        ),
        "home_tried": (
            "a plunger", "a different detergent", "watering less", "moving it to a sunnier spot",
            "following the recipe exactly", "calling the landlord", "adjusting the settings", "cleaning the filter",
            "a longer proofing time", "checking the fuse box",
        ),
        "home_since": (
            "we moved in", "the weather turned cold", "last winter", "I switched brands", "a few weeks ago",
            "the plumber's visit", "we got a new oven",
        ),
        "life_tried": (
            "setting clear rules", "a reward chart", "talking to them about it", "a budgeting app",
            "ignoring it", "a strict schedule", "reminders on my phone",
        ),
        "tried_people": (
            "talking to them separately", "setting clearer deadlines", "a team retrospective", "bringing in HR",
            "changing who owns what", "weekly one-on-ones",
        ),
        "since_when": (
            "the last update", "yesterday", "I moved apartments", "a power outage", "last week",
            "we switched providers", "I spilled water on it", "a few days ago", "we hired two new people",
            "we upgraded the server", "I installed a new antivirus",
        ),
        "since_when_ago": ("about a week ago", "two days ago", "after the last update", "last month", "this morning"),
        "issue": (
            "an app that won't export my data", "a printer that only works from one laptop", "a flaky VPN connection",
            "an old system that can't handle dates after 2038", "a bank app that doesn't run on my old phone",
            "a flight cancellation with no rebooking option", "a landlord who won't fix the heating",
            "a website that blocks my browser", "a Bluetooth speaker that won't pair with Windows",
        ),
        "small_business": (
            "coffee shop", "small online store", "dental practice", "bakery", "yoga studio", "IT support team",
            "food truck", "hair salon", "bookshop",
        ),
        "biz_problem": (
            "customers keep cancelling at the last minute", "our card reader keeps declining payments",
            "staff keep calling in sick on weekends", "our reviews suddenly got worse",
            "orders get mixed up during rush hour", "the booking system double-books people",
            "we keep running out of stock", "our website checkout keeps timing out",
        ),
        "attempt": (
            "connect my printer to wifi", "install some Python packages", "set up two-factor authentication",
            "mount a TV on drywall", "get my sourdough starter going", "pair my watch with my phone",
            "share my screen on Teams", "reset my router", "bleed the radiators", "deploy my app to Heroku",
        ),
        "blocker": ("it keeps failing", "nothing happens", "it says access denied", "it times out", "it only half works"),
        "system": (
            "production API", "checkout service", "nightly data pipeline", "staging server", "mobile app backend",
            "payment integration", "company VPN",
        ),
        "sys_symptom": ("timing out", "crashing every few hours", "returning 500 errors", "running out of memory", "getting slower"),
        "team_problem": (
            "two people keep clashing over code reviews", "morale dropped after the reorg",
            "nobody speaks up in meetings", "one person keeps missing deadlines",
            "we keep getting surprised by last-minute scope changes",
        ),
        "condition": (
            "it's on battery", "I open Chrome", "the room is warm", "I'm on a video call",
            "it's been on for an hour", "I plug in my second monitor",
        ),
        "plant": (
            "monstera", "fiddle leaf fig", "basil", "orchid", "succulent", "peace lily", "tomato plant",
            "lemon tree", "snake plant", "lawn",
        ),
        "plant_symptom": (
            "has brown spots on the leaves", "is drooping even though I water it", "has yellow leaves",
            "is growing really leggy", "has white fuzz on the soil", "keeps dropping its leaves",
        ),
        "nuisance": (
            "mold in my bathroom", "fruit flies in my kitchen", "a red wine stain on the carpet",
            "the musty smell in my car", "ants in the pantry", "condensation on my windows", "rust on my bike",
            "the echo in my home office", "spam calls", "a squeaky door",
        ),
    },
    constraints=(
        "I'd rather not spend money on this.", "Please explain step by step.", "It's urgent.",
        "I've tried the obvious stuff already.", "Keep it simple please.", "What's the quickest fix?",
        "I'm a total beginner at this.",
    ),
    prefixes=("Help! ", "Ugh, ", "Please help: ", "Urgent: ", "Tech question: ", "Any ideas? "),
    suffixes=(" Please help!", " any help appreciated", " I'm desperate.", " so annoying."),
)


# Membership only: capitalised words that must stay capitalised after a lower-casing prefix.
_PROPER_FIRST_WORDS: frozenset[str] = frozenset(
    word
    for pool in (_NAMES, SHARED_POOLS["language"], SHARED_POOLS["plang"])
    for value in pool
    for word in value.split()[:1]
)

SPECS: dict[str, IntentSpec] = {
    "question_answering": _QA,
    "creative_writing": _CREATIVE,
    "code_generation": _CODE,
    "data_analysis": _DATA,
    "reasoning": _REASONING,
    "summarization": _SUMMARIZATION,
    "translation": _TRANSLATION,
    "conversation": _CONVERSATION,
    "task_planning": _PLANNING,
    "problem_solving": _PROBLEM,
}


# --------------------------------------------------------------------------------------------
# Rendering.
# --------------------------------------------------------------------------------------------

_ALT_RE = re.compile(r"\[([^\[\]]*)\]")
_SLOT_RE = re.compile(r"\{([\^-]?)([a-z_]+?)(\d?)\}")
_LEADING_ARTICLE_RE = re.compile(r"^(?:a|an|the) ", re.IGNORECASE)
_ARTICLE_RE = re.compile(r"\b([Aa])\(n\) (\W*)(\S+)")
_SPACE_RE = re.compile(r"\s+")
_SPACE_BEFORE_PUNCT_RE = re.compile(r" +([,.?!:;])")
_TRAILING_PUNCT = " \t\n.,;:!?…"
# Words that start with a vowel letter but a consonant sound, and the reverse.
_CONSONANT_SOUND_PREFIXES = ("uni", "use", "usu", "one", "eu", "ur", "uti")
_VOWEL_SOUND_PREFIXES = ("hour", "honest", "heir")
_VOWEL_SOUND_LETTERS = "AEFHILMNORSX"  # initialisms read letter by letter: "an SQL", "an HTTP"


def _draw(pool: Pool, rng: random.Random, avoid: Sequence[str]) -> str:
    value = pool(rng) if callable(pool) else rng.choice(pool)
    # A bounded retry keeps {x} and {x2} different without building filtered copies of the pool.
    for _ in range(20):
        if value not in avoid:
            break
        value = pool(rng) if callable(pool) else rng.choice(pool)
    return value


def _render(template: str, spec: IntentSpec, rng: random.Random) -> str:
    text = _ALT_RE.sub(lambda m: rng.choice(m.group(1).split("|")), template)
    drawn: dict[str, list[str]] = {}
    by_slot: dict[str, str] = {}

    def fill(match: re.Match[str]) -> str:
        modifier, name, index = match.groups()
        slot = name + index
        if slot in by_slot:
            value = by_slot[slot]  # a repeated {x} means the same thing twice ("all {x} are ... some {x}")
        else:
            pool = spec.pools.get(name) or SHARED_POOLS.get(name)
            if pool is None:
                raise KeyError(f"template {template!r} uses unknown pool {name!r}")
            value = by_slot[slot] = _draw(pool, rng, drawn.get(name, ()))
            drawn.setdefault(name, []).append(value)
        if modifier == "-":
            return _LEADING_ARTICLE_RE.sub("", value)
        return value[:1].upper() + value[1:] if modifier == "^" else value

    return _SLOT_RE.sub(fill, text)


def _article(match: re.Match[str]) -> str:
    a, lead, word = match.groups()
    bare = word.lstrip("\"'(")
    lower = bare.lower()
    if bare[:1].isdigit():
        vowel = re.match(r"(8|1[18])(\D|$)", lower) is not None  # "an 8-day", "an 11-day"
    elif (bare[:2].isupper() and bare[:2].isalpha()) or re.fullmatch(r"[A-Z][^a-z]*", bare):
        vowel = bare[0] in _VOWEL_SOUND_LETTERS
    else:
        vowel = lower[:1] in "aeiou" and not lower.startswith(_CONSONANT_SOUND_PREFIXES)
        vowel = vowel or lower.startswith(_VOWEL_SOUND_PREFIXES)
    return f"{a}{'n' if vowel else ''} {lead}{word}"


def _tidy(text: str) -> str:
    text = _ARTICLE_RE.sub(_article, text)
    text = _SPACE_RE.sub(" ", text).strip()
    text = _SPACE_BEFORE_PUNCT_RE.sub(r"\1", text)
    text = text.replace(",,", ",").replace("!,", "!").replace(",!", "!").replace(",?", "?")
    return text[:1].upper() + text[1:]


def _lower_first(text: str) -> str:
    # Keep "I", initialisms ("SQL ..."), names and languages ("Lena", "Python") as they are.
    first = text.split(" ", 1)[0].strip(",.:;!?")
    if text.startswith(("I ", "I'")) or (len(text) > 1 and text[1].isupper()) or first in _PROPER_FIRST_WORDS:
        return text
    return text[:1].lower() + text[1:]


# --------------------------------------------------------------------------------------------
# Noise: the kinds of mistakes real users make, applied to a minority of prompts.
# --------------------------------------------------------------------------------------------

_TXT_SPEAK: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(rf"\b{word}\b", re.IGNORECASE), short)
    for word, short in (
        ("you're", "ur"), ("you", "u"), ("your", "ur"), ("please", "pls"), ("thanks", "thx"), ("are", "r"),
        ("because", "cuz"), ("okay", "ok"), ("tomorrow", "tmrw"), ("people", "ppl"), ("really", "rly"),
        ("going to", "gonna"), ("want to", "wanna"), ("don't know", "dunno"), ("message", "msg"),
        ("something", "smth"), ("before", "b4"), ("with", "w/"),
    )
)
_WORD_RE = re.compile(r"[A-Za-z]{4,}")


def _typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(3)
    if kind == 0:
        return word[:i] + word[i + 1 :]
    if kind == 1:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return word[:i] + word[i] + word[i:]


def _add_noise(text: str, rng: random.Random) -> str:
    ops = rng.sample(("lower", "nopunct", "typo", "typo", "txt"), rng.randint(1, 2))
    for op in ops:
        if op == "lower":
            text = text.lower()
        elif op == "nopunct":
            text = text.rstrip(_TRAILING_PUNCT).replace("?", "").replace("'", "")
        elif op == "typo":
            # "typo" can be sampled twice, giving up to two misspelt words.
            words = list(_WORD_RE.finditer(text))
            if words:
                start, end = rng.choice(words).span()
                text = text[:start] + _typo(text[start:end], rng) + text[end:]
        else:
            for pattern, short in _TXT_SPEAK:
                if rng.random() < 0.7:
                    text = pattern.sub(short, text)
    return _SPACE_RE.sub(" ", text).strip()


# --------------------------------------------------------------------------------------------
# Public API.
# --------------------------------------------------------------------------------------------


def normalize_text(text: str) -> str:
    """Return the deduplication key of a prompt: lowercase, whitespace collapsed, no trailing punctuation."""
    return _SPACE_RE.sub(" ", text.lower()).strip().rstrip(_TRAILING_PUNCT).strip()


# Raw labels and their spelled-out multi-word forms ("data analysis") would hand the model its answer;
# single-word names such as "translation" are ordinary words in real prompts and stay allowed.
_GIVEAWAYS: tuple[str, ...] = tuple(
    form for name in INTENTS if "_" in name for form in (name, name.replace("_", " "))
)


def _is_acceptable(text: str) -> bool:
    words = len(text.split())
    if not MIN_WORDS <= words <= MAX_WORDS:
        return False
    lowered = text.lower()
    return not any(name in lowered for name in _GIVEAWAYS)


def _make_example(intent: str, spec: IntentSpec, rng: random.Random) -> tuple[dict[str, str], str]:
    """Return the example and its core text (the prompt before prefix, suffix and noise)."""
    frame = rng.choice(spec.frames)
    text = _render(frame.template, spec, rng)
    tier = frame.tier
    if spec.constraints and tier < 2:
        roll = rng.random()
        count = 2 if roll < 0.06 else 1 if roll < (0.32 if tier == 0 else 0.2) else 0
        if count:
            text = text.rstrip()
            if text[-1:].isalnum():
                text += "."
            text += " " + " ".join(rng.sample(spec.constraints, count))
            tier += count
    text = core = _tidy(text)
    if rng.random() < PREFIX_RATE:
        prefix = rng.choice(_PREFIXES + spec.prefixes)
        lowers = prefix.rstrip()[-1:] not in ".!?:"
        text = prefix + (_lower_first(text) if lowers else text)
    if rng.random() < SUFFIX_RATE:
        suffix = rng.choice(spec.suffixes if intent == "conversation" else _SUFFIXES + spec.suffixes)
        text = text.rstrip() + suffix
    if rng.random() < NOISE_RATE:
        text = _add_noise(text, rng)
    example = {"text": text, "intent": intent, "complexity": COMPLEXITIES[min(tier, len(COMPLEXITIES) - 1)]}
    return example, core


def generate(seed: int = 13, per_intent: int = 400) -> list[dict[str, str]]:
    """Generate ``per_intent`` unique labelled prompts per intent, deterministically for ``seed``."""
    if per_intent < 1:
        raise ValueError(f"per_intent must be at least 1, got {per_intent}")
    missing = [intent for intent in INTENTS if intent not in SPECS]
    if missing:
        raise ValueError(f"no generator spec for intents: {', '.join(missing)}")
    started = time.perf_counter()
    rng = random.Random(seed)
    seen: set[str] = set()  # membership only; output order never depends on it
    examples: list[dict[str, str]] = []
    for intent in INTENTS:
        spec = SPECS[intent]
        produced = 0
        misses = 0
        while produced < per_intent:
            example, core = _make_example(intent, spec, rng)
            key, core_key = normalize_text(example["text"]), normalize_text(core)
            # Deduplicating on the core too keeps typo/greeting variants of one prompt from filling
            # the quota (and from straddling a train/validation split as near-duplicates).
            if key in seen or core_key in seen or not _is_acceptable(example["text"]):
                misses += 1
                if misses >= MAX_CONSECUTIVE_MISSES:
                    raise ValueError(
                        f"intent {intent!r}: the generator's space is exhausted after {produced} unique "
                        f"prompts; cannot reach per_intent={per_intent} (lower it or add frames/pools)"
                    )
                continue
            misses = 0
            seen.add(key)
            seen.add(core_key)
            examples.append(example)
            produced += 1
    order = {intent: i for i, intent in enumerate(INTENTS)}
    examples.sort(key=lambda e: (order[e["intent"]], e["text"]))
    logger.info(
        "generated %d examples (%d per intent, seed %d) in %.2fs",
        len(examples), per_intent, seed, time.perf_counter() - started,
    )
    return examples


def write_jsonl(examples: Sequence[Mapping[str, str]], path: Path) -> None:
    """Write examples as UTF-8 JSON Lines with sorted keys, one object per newline-terminated line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for example in examples:
            handle.write(json.dumps(example, ensure_ascii=False, sort_keys=True) + "\n")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: generate the dataset and write it as JSON Lines."""
    parser = argparse.ArgumentParser(
        prog="python -m ml.datagen", description="Generate the labelled intent dataset as JSON Lines."
    )
    parser.add_argument("--out", type=Path, required=True, help="output JSONL path")
    parser.add_argument("--seed", type=int, default=13, help="random seed (default: 13)")
    parser.add_argument("--per-intent", type=int, default=400, help="examples per intent (default: 400)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        examples = generate(seed=args.seed, per_intent=args.per_intent)
    except ValueError as exc:
        logger.error("%s", exc)
        return 2
    write_jsonl(examples, args.out)
    logger.info("wrote %d examples to %s", len(examples), args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
