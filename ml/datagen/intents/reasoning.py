"""The reasoning intent: logic puzzles, riddles, deductions, math word problems, arguments, probability."""

from __future__ import annotations

import random

from ml.datagen.engine import IntentSpec, frames
from ml.datagen.slots import NAMES, STUDY_SUFFIXES, choice_slot, int_slot


def _sequence(rng: random.Random) -> str:
    """The first terms of a number sequence with a findable rule (arithmetic, geometric, squares, ...)."""
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
    """A self-consistent math word problem (trains, workers, discounts, ages, ...)."""
    a, b = rng.sample(NAMES, 2)
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
        return f"If {n} machines make {n} widgets in {n} minutes, how long would {m} machines take to make {m} widgets?"
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
    """A probability question (dice, coins, marbles, birthdays, Monty Hall, ...)."""
    kind = rng.randrange(9)
    if kind == 0:
        return (
            f"What's the probability of rolling two {rng.choice(('ones', 'threes', 'fives', 'sixes'))} with two dice?"
        )
    if kind == 1:
        return f"If I flip a fair coin {rng.randint(3, 12)} times, what are the odds of getting at least one head?"
    if kind == 2:
        return (
            f"A bag has {rng.randint(2, 9)} red marbles and {rng.randint(2, 9)} blue marbles. If I draw "
            "two without replacement, what's the chance both are red?"
        )
    if kind == 3:
        return f"In a room of {rng.randint(10, 60)} people, how likely is it that at least two share a birthday?"
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
            "A family has two children and at least one of them is a girl. What's the probability that both are girls?"
        )
    n = rng.randint(4, 10)
    return f"What's the probability of getting exactly {rng.randint(1, n - 1)} heads in {n} coin flips?"


# (category, "has" verb, negated verb, options)
_DEDUCTION_SETS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("pet", "has", "doesn't have", ("a cat", "a dog", "a parrot", "a rabbit", "a turtle", "a hamster")),
    ("drink", "ordered", "didn't order", ("coffee", "tea", "orange juice", "hot chocolate", "lemonade", "water")),
    ("job", "is", "isn't", ("a teacher", "a nurse", "an engineer", "a chef", "a pilot", "a lawyer")),
    ("favorite sport", "loves", "doesn't like", ("tennis", "soccer", "swimming", "chess", "cycling", "basketball")),
    (
        "car",
        "drives",
        "doesn't drive",
        ("the red car", "the blue car", "the green car", "the black car", "the white car"),
    ),
    (
        "instrument",
        "plays",
        "doesn't play",
        ("the piano", "the violin", "the drums", "the guitar", "the flute", "the cello"),
    ),
)


def _deduction(rng: random.Random) -> str:
    """A who-has-what or ordering deduction puzzle about four distinct people."""
    a, b, c, d = rng.sample(NAMES, 4)
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
    """A knights-and-knaves (truth-teller and liar) puzzle."""
    a, b, c = rng.sample(NAMES, 3)
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
    """Two offers to compare, such as a transit pass against paying per ride."""
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
            f"a job paying ${rng.randint(50, 90)}k with a one-hour commute or ${rng.randint(45, 85)}k working from home"
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


def _rent_calc(rng: random.Random) -> str:
    """A closed calculation about "my" money: every number is given, nothing is the person's dataset."""
    rent, pct, years = rng.choice((900, 1100, 1400, 1650, 2000)), rng.randint(2, 6), rng.randint(3, 6)
    salary, raise_pct, bonus = rng.choice((42, 55, 60, 72)), rng.randint(2, 5), rng.randint(3, 10)
    return rng.choice(
        (
            f"my rent is {rent} and goes up {pct}% a year, what do I pay in total over {years} years?",
            f"if I put {rent} a year into savings at {pct}% interest, how much do I have after {years} years?",
            f"job A pays {salary}k plus a {bonus}% bonus, job B pays {salary + 4}k flat. if A gives {raise_pct}% "
            f"raises every year, which pays more over {years} years?",
            f"I earn {salary}k and get {raise_pct}% raises each year. how many years until I earn {salary + 15}k?",
            f"a {rent} dollar laptop loses {pct * 5}% of its value every year. what is it worth after {years} years?",
        )
    )


def _date_q(rng: random.Random) -> str:
    """A calendar deduction: the weekday of a later date from a stated one."""
    day = rng.choice(("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"))
    return rng.choice(
        (
            f"in a leap year Feb 1 falls on a {day}. what day of the week is March 1?",
            f"if today is {day}, what day of the week will it be in 100 days?",
            f"if Jan 1 is a {day} and it's not a leap year, what day is Dec 31?",
            f"my birthday was on a {day} this year. what day will it fall on next year if it's not a leap year?",
        )
    )


def _party_calc(rng: random.Random) -> str:
    """A closed quantity problem dressed as planning: all numbers are stated."""
    people, per, box = rng.randint(12, 60), rng.choice((2, 3, 4)), rng.choice((4, 6, 8))
    return rng.choice(
        (
            f"I'm planning a party for {people} people. each pizza feeds {per} and they come in boxes of {box}. "
            "how many boxes do I need?",
            f"{people} people need to cross a river, the boat takes {box} including the rower and one person must "
            "row it back each time. how many crossings?",
            f"we're seating {people} guests at tables of {box}. how many tables, and how many empty seats?",
        )
    )


def _tank(rng: random.Random) -> str:
    """Two rates working against each other."""
    fill, drain = rng.randint(2, 6), rng.randint(7, 12)
    return f"a tank fills in {fill} hours and drains in {drain} hours. if both are open, how long until it's full?"


def _equation(rng: random.Random) -> str:
    """A linear equation with an integer solution."""
    x, a, b = rng.randint(-9, 15), rng.randint(2, 9), rng.randint(1, 30)
    return f"{a}x + {b} = {a * x + b}"


SPEC = IntentSpec(
    frames=frames(
        (0, "Solve this riddle: {riddle}"),
        (0, "{riddle}"),
        (0, "What comes next in the sequence {seq}?"),
        (0, "{seq}, [what's the next number|what comes next|next number]?"),
        (0, 'Is this argument valid? "{arg}"'),
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
        (0, 'What\'s the flaw in this reasoning: "{arg}"'),
        (0, "Identify the logical fallacy here: {arg}"),
        (0, "{probability_q}"),
        (1, "Here's a brain teaser: {probability_q} Explain how you get the answer."),
        (1, "{deduction}"),
        (1, "Which is the better deal: {deal}? Walk me through your reasoning."),
        (1, "Weigh the arguments for and against {proposition}, then reach a conclusion."),
        (1, "Can you check my logic? {my_logic}"),
        (1, "Help me reason through this: {word_problem}"),
        (0, 'True or false, and why: "{logic_statement}"'),
        (1, 'Evaluate this claim: "{arg}" Is the conclusion justified?'),
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
            "Here's a puzzle for you. {riddle} Don't just give the answer; explain the reasoning that gets you there.",
        ),
        (
            2,
            'Someone told me: "{arg}" Break the argument into premises and conclusion, say whether '
            "it's valid, and point out any hidden assumptions.",
        ),
        (
            2,
            "{probability_q} Work it out step by step, explain where intuition goes wrong, and give the final number.",
        ),
        # Styles the frames above lack (docs/labeling.md): terse fragments, context before the ask, blunt
        # lower-case imperatives, polite indirect asks, non-native phrasing, pasted material, boundary cases.
        (1, "{rent_calc}"),
        (0, "{date_q}"),
        (1, "pls solve step by step: {word_problem}"),
        (0, 'this argument is valid or not? "{arg}"'),
        (1, "My {relation} gave me this riddle at dinner and I still can't get it: {riddle}"),
        (0, "next number? {seq}"),
        (
            2,
            "I'm a(n) {occupation} studying for the GMAT between shifts and my brain is fried. {word_problem} Can you show every step and tell me which step people usually mess up?",
        ),
        (1, "how to solve this? {probability_q}"),
        (1, "would you mind checking my answer? {word_problem} I got {wrong_ans}."),
        (1, "{schedule_puzzle}"),
        (0, "which is bigger, {compare_expr}?"),
        (1, "If {premise}, and nothing else is known, what follows? Explain."),
        (0, "trick question: {lateral}"),
        (1, "{tank}"),
        (0, "solve for x: {equation}"),
        (1, "is there any way you could walk me through this one? {deduction}"),
        (
            2,
            "{word_problem} I think the answer is {wrong_ans} but my {relation} says I'm wrong. Solve it, show where one of us slipped, and check it a second way.",
        ),
        (1, "settle a bet: {probability_q}"),
        (0, "how many {count_puzzle}?"),
        (1, "{party_calc}"),
        (0, "odd one out: {odd_one}"),
        (1, "logic puzzle for you: {deduction}"),
        (
            2,
            "My rent is {rent} and rises {pct_r}% every year. My salary is {salary}k and rises 2% a year. After how many years does rent take more than a third of my salary? Show the working year by year.",
        ),
        (0, "{compare_expr}, which one is larger and why"),
        (1, "explain like I'm bad at math: {word_problem}"),
        (0, "quick maths: {quick_math}"),
        (1, "can you find the flaw? my {relation} says {argument_clause}"),
        (0, "riddle: {riddle}"),
        (1, "please help me understand the answer of this puzzle, I don't get it: {lateral}"),
    ),
    pools={
        "rent_calc": _rent_calc,
        "date_q": _date_q,
        "party_calc": _party_calc,
        "tank": _tank,
        "equation": _equation,
        "wrong_ans": int_slot(3, 120),
        "rent": choice_slot(("800", "1200", "1500", "1800", "2400")),
        "pct_r": int_slot(3, 8),
        "salary": choice_slot(("38", "45", "52", "60", "75")),
        "schedule_puzzle": (
            "Five meetings A to E go in one afternoon. A is before C, B comes right after A, D is last and E is not first. What is the order?",
            "Four friends each take one weekday for the school run, Monday to Thursday. Ana can't do Monday, Ben goes the day after Ana, and Chris goes before Dee. Who takes which day?",
            "Three tasks take 2, 3 and 4 hours. Task 3 needs task 1 done first. If two people work in parallel, what's the shortest time to finish everything?",
            "A train leaves at 9:40 and the trip takes 2 hours 35 minutes with a 20 minute delay. When does it arrive?",
            "Mia is older than Leo, Leo is older than Sam, and Ava is younger than Sam. Who is the second oldest?",
        ),
        "compare_expr": (
            "2^10 or 10^3",
            "0.999... or 1",
            "3^4 or 4^3",
            "half of a third or a third of a half",
            "the square root of 50 or 7",
            "25% of 80 or 80% of 25",
            "1/7 or 0.14",
        ),
        "count_puzzle": (
            "handshakes happen if 10 people each shake hands once",
            "squares are on a chessboard in total",
            "ways can 4 people sit in a row",
            "different 3-letter codes can you make from A, B, C, D without repeats",
            "times does the digit 7 appear from 1 to 100",
            "games are played in a knockout tournament with 32 teams",
        ),
        "odd_one": (
            "2, 3, 5, 9, 11",
            "apple, banana, carrot, cherry",
            "circle, square, triangle, cube",
            "8, 27, 64, 100, 125",
            "Mars, Venus, Moon, Jupiter",
        ),
        "quick_math": (
            "what's 15% of 240",
            "if 3 pens cost 4.50 how much do 7 cost",
            "17 x 24 in your head",
            "a 40 dollar shirt is 25% off, then another 10% off. final price?",
            "how long is 1000 minutes in hours and minutes",
        ),
        "riddle": (
            "What has keys but can't open locks?",
            "What gets wetter the more it dries?",
            "I speak without a mouth and hear without ears. What am I?",
            "What can travel around the world while staying in a corner?",
            "The more you take, the more you leave behind. What are they?",
            "What has a neck but no head?",
            "What comes once in a minute, twice in a moment, but never in a thousand years?",
            "What has cities but no houses, forests but no trees, and water but no fish?",
            "What has many teeth but can't bite?",
            "What goes up but never comes down?",
            "I have branches but no fruit, trunk or leaves. What am I?",
            "What can you catch but not throw?",
            "What belongs to you but other people use it more?",
            "What runs but never walks, has a bed but never sleeps?",
            "What has a neck but no head?",
            "The more you take, the more you leave behind. What am I?",
            "What can travel around the world while staying in a corner?",
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
            "the sum of two odd numbers is always even",
            "there are infinitely many prime numbers",
            "the square root of 2 is irrational",
            "any number divisible by 6 is also divisible by 3",
            "the product of two consecutive integers is always even",
            "a triangle can't have two right angles",
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
            "bloops",
            "razzies",
            "lazzies",
            "cats",
            "mammals",
            "doctors",
            "artists",
            "students",
            "pilots",
            "musicians",
            "birds",
            "teachers",
            "vegetarians",
            "engineers",
            "poets",
            "runners",
            "zorbs",
            "wugs",
            "reptiles",
            "chess players",
        ),
        "proposition": (
            "banning cars from city centers",
            "a four-day work week",
            "making voting mandatory",
            "taxing sugary drinks",
            "replacing exams with projects",
            "nuclear power as a fix for climate change",
            "universal basic income",
            "remote work for everyone",
            "banning phones in schools",
            "free public transport",
            "lowering the voting age to 16",
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
            "If no cats are dogs, then no dogs are cats.",
            "Some numbers are even, so some even things are numbers.",
            "If every student passed, then at least one student passed.",
            "If it's not raining, it's sunny.",
            "All roses are flowers, so all flowers are roses.",
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
            "everyone he knows liked the movie so it must be the best movie of the year",
            "since the last two winters were mild, climate change can't be real",
        ),
        "premise": (
            "every statement on this card is false",
            "all bloops are razzies and no razzies are lazzies",
            "the barber shaves everyone who doesn't shave themselves",
            "no one who likes jazz likes opera, and Ana likes opera",
            "every even number greater than 2 is the sum of two primes",
            "some doctors are runners and all runners are early risers",
        ),
        "option_pair": (
            "renting and buying a home",
            "a higher-paying job and one with better hours",
            "a used car and a new one",
            "learning Python first and learning JavaScript first",
            "a gap year and starting college right away",
            "paying off my loan early and investing the money",
            "a big wedding and eloping",
        ),
    },
    constraints=(
        "Show your work.",
        "Explain each step.",
        "Don't just give me the answer.",
        "Double-check your answer.",
        "Explain it simply.",
        "Think it through carefully.",
    ),
    prefixes=("Brain teaser time! ", "Here's one for you: ", "Puzzle: ", "Riddle me this: "),
    suffixes=(*STUDY_SUFFIXES, " no googling!", " I'm stuck."),
)
