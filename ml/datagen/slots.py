"""Slot helpers and the pools, passages and sign-offs that several intents share."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import cast

from ml.datagen.engine import Pool


def int_slot(lo: int, hi: int) -> Callable[[random.Random], str]:
    """A pool that draws an integer in ``[lo, hi]``, written in digits."""
    return lambda rng: str(rng.randint(lo, hi))


def choice_slot(values: Sequence[str]) -> Callable[[random.Random], str]:
    """A pool that draws one of ``values``, exactly as the tuple ``values`` itself would."""
    return lambda rng: rng.choice(values)


# First names: the shared "name" pool, and the people in the reasoning puzzles.
NAMES: tuple[str, ...] = (
    "Alex",
    "Sam",
    "Priya",
    "Jordan",
    "Maria",
    "Tom",
    "Aisha",
    "Ken",
    "Lena",
    "Omar",
    "Chloe",
    "Diego",
    "Mei",
    "Noah",
    "Fatima",
    "Lucas",
    "Zoe",
    "Ravi",
    "Emma",
    "Jonas",
    "Sofia",
    "Yuki",
    "Ben",
    "Amara",
    "Leo",
    "Nina",
    "Carlos",
    "Hannah",
    "Ivan",
    "Grace",
)

# --------------------------------------------------------------------------------------------
# Pools shared by every intent (looked up when an intent has no pool of that name).
# --------------------------------------------------------------------------------------------

SHARED_POOLS: dict[str, Pool] = {
    "topic": (
        "climate change",
        "photosynthesis",
        "black holes",
        "the French Revolution",
        "inflation",
        "vaccines",
        "blockchain",
        "machine learning",
        "the stock market",
        "quantum computing",
        "the Roman Empire",
        "plate tectonics",
        "the immune system",
        "compound interest",
        "the water cycle",
        "renewable energy",
        "the Cold War",
        "DNA",
        "global supply chains",
        "social media",
        "artificial intelligence",
        "remote work",
        "the electoral college",
        "coral reefs",
        "the printing press",
        "antibiotic resistance",
        "the internet",
        "volcanoes",
        "sleep",
        "the moon landing",
        "electric cars",
        "recycling",
        "the Renaissance",
        "the human brain",
        "gravity",
        "cryptocurrency",
        "the minimum wage",
        "urban gardening",
        "ocean tides",
        "bird migration",
        "the Industrial Revolution",
        "the Olympics",
        "nuclear energy",
        "honeybees",
        "the Silk Road",
        "space exploration",
        "fast fashion",
        "the gig economy",
        "ancient Egypt",
        "mental health",
        "the housing market",
        "microplastics",
        "public transport",
        "the history of jazz",
        "four-day work weeks",
        "interest rates",
        "deforestation",
        "coffee",
        "chess",
        "wildfires",
        "the Great Depression",
        "earthquakes",
        "online privacy",
        "video games",
        "the Mars rovers",
        "tariffs",
        "the Ottoman Empire",
        "lithium mining",
        "bitcoin halving",
        "the Big Bang",
        "the placebo effect",
        "CRISPR",
        "the Suez Canal",
        "daylight saving time",
        "jet lag",
        "the ozone layer",
        "gut bacteria",
        "the Marshall Plan",
        "sourdough fermentation",
        "submarine cables",
        "GPS",
        "the Byzantine Empire",
        "carbon credits",
        "sleep apnea",
        "the metric system",
        "the Apollo program",
        "tsunamis",
        "the EU",
        "noise pollution",
    ),
    "domain": (
        "medicine",
        "finance",
        "law",
        "education",
        "gaming",
        "cooking",
        "travel",
        "sports",
        "software",
        "science",
        "history",
        "marketing",
        "HR",
        "real estate",
        "retail",
        "logistics",
        "agriculture",
        "music",
        "fashion",
        "insurance",
        "manufacturing",
        "hospitality",
        "e-commerce",
        "journalism",
        "construction",
        "energy",
        "biotech",
        "public health",
        "architecture",
        "banking",
    ),
    "relation": (
        "mom",
        "dad",
        "sister",
        "brother",
        "best friend",
        "grandma",
        "grandpa",
        "partner",
        "roommate",
        "boss",
        "coworker",
        "son",
        "daughter",
        "neighbor",
        "husband",
        "wife",
        "uncle",
        "aunt",
        "mother-in-law",
        "step-dad",
        "cousin",
        "girlfriend",
        "boyfriend",
        "flatmate",
        "teacher",
        "manager",
    ),
    "name": NAMES,
    "hobby": (
        "hiking",
        "baking",
        "gardening",
        "chess",
        "photography",
        "fishing",
        "board games",
        "jazz",
        "running",
        "painting",
        "cycling",
        "old movies",
        "knitting",
        "video games",
        "birdwatching",
        "cooking Thai food",
        "camping",
        "yoga",
        "pottery",
        "rock climbing",
        "crosswords",
        "surfing",
        "woodworking",
        "anime",
        "salsa dancing",
        "sourdough",
        "Formula 1",
        "thrifting",
        "astronomy",
        "karaoke",
    ),
    "num_small": (
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "ten",
        "3",
        "4",
        "5",
        "6",
        "10",
        "12",
    ),
    "language": (
        "Spanish",
        "French",
        "German",
        "Italian",
        "Portuguese",
        "Japanese",
        "Chinese",
        "Mandarin",
        "Korean",
        "Arabic",
        "Hindi",
        "Russian",
        "Dutch",
        "Swedish",
        "Turkish",
        "Polish",
        "Greek",
        "Vietnamese",
        "Thai",
        "Indonesian",
        "Hebrew",
        "Swahili",
        "Ukrainian",
        "Czech",
        "Tagalog",
        "Brazilian Portuguese",
        "Norwegian",
        "Finnish",
    ),
    "plang": (
        "Python",
        "JavaScript",
        "TypeScript",
        "Java",
        "C#",
        "C++",
        "Go",
        "Rust",
        "Ruby",
        "PHP",
        "Kotlin",
        "Swift",
        "Bash",
        "R",
        "Scala",
        "C",
        "Dart",
        "Elixir",
    ),
    "occupation": (
        "nurse on night shifts",
        "high school teacher",
        "truck driver",
        "PhD student",
        "single mom of two",
        "retired engineer",
        "bartender",
        "junior accountant",
        "warehouse worker",
        "freelance designer",
        "pharmacist",
        "first-year med student",
        "project manager",
        "small business owner",
        "software developer",
        "stay-at-home dad",
        "social worker",
        "chef",
        "paramedic",
        "librarian",
        "electrician",
        "real estate agent",
        "farmer",
        "call center agent",
    ),
    "city": (
        "Lagos",
        "Manila",
        "Toronto",
        "Berlin",
        "São Paulo",
        "Mumbai",
        "Leeds",
        "Denver",
        "Osaka",
        "Nairobi",
        "Kraków",
        "Melbourne",
        "Dublin",
        "Monterrey",
        "Cairo",
        "Lyon",
    ),
    "team_context": (
        "a team of five developers",
        "a small nonprofit with almost no budget",
        "a startup with two founders",
        "a school with 30 teachers",
        "a remote team spread across three time zones",
        "a family of four",
        "a hospital IT department",
        "a ten-person marketing agency",
        "a student club with 40 members",
        "a small restaurant with eight staff",
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
    "Our app's daily active users fell slightly in June, mostly on Android, after the login screen was redesigned.",
    "The recipe has been in our family for three generations. My grandmother always said the secret "
    "is patience and a lot of butter.",
)

# Generic prefixes and suffixes for every intent; intents add their own on top (see the generator).
PREFIXES: tuple[str, ...] = (
    "hey, ",
    "Hey! ",
    "hi there, ",
    "Hi, ",
    "Hello! ",
    "hello, ",
    "ok so ",
    "So, ",
    "um, ",
    "pls ",
    "Please, ",
    "yo, ",
    "Hi! ",
    "Good morning! ",
    "Okay, ",
    "Hey there! ",
    "Quick one: ",
    "Hi again! ",
)
SUFFIXES: tuple[str, ...] = (
    " thanks!",
    " thx",
    " asap",
    " Thank you!",
    " :)",
    " if you can.",
    " Thanks in advance.",
    " ty",
    " cheers",
    " no rush.",
    " please.",
    " pls",
    " Appreciate it!",
    " thank u",
)
# Context sign-offs that most intents add to their own suffixes.
STUDY_SUFFIXES: tuple[str, ...] = (
    " It's for my class.",
    " This is for work.",
    " It's for a school project.",
    " for my homework",
    " (for work)",
)

# Membership only: capitalised words that must stay capitalised after a lower-casing prefix.
PROPER_FIRST_WORDS: frozenset[str] = frozenset(
    word
    for pool in (NAMES, SHARED_POOLS["language"], SHARED_POOLS["plang"])
    for value in cast(Sequence[str], pool)  # these pools are lists of words
    for word in value.split()[:1]
)
