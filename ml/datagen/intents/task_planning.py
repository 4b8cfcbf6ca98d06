"""The task_planning intent: plans, schedules, roadmaps, itineraries, checklists, milestones."""

from __future__ import annotations

import random

from ml.datagen.engine import IntentSpec, frames
from ml.datagen.slots import STUDY_SUFFIXES, int_slot


_TODO_ITEMS: tuple[str, ...] = (
    "finish the quarterly report", "call the plumber", "gym three times", "prep Thursday's presentation",
    "grocery shopping", "dentist appointment", "reply to client emails", "study for my exam",
    "pick up the kids on Wednesday", "pay the bills", "laundry", "team meeting Monday at 10",
    "write a blog post", "renew my passport", "plan Sam's birthday", "clean the garage",
    "submit my expense report", "book flights for the conference", "meal prep", "review two pull requests",
    "call my grandma", "fix the leaking tap", "update my resume", "water the plants",
)


def _task_list(rng: random.Random) -> str:
    """Three to five distinct to-do items joined as "a, b and c"."""
    items = rng.sample(_TODO_ITEMS, rng.randint(3, 5))
    return ", ".join(items[:-1]) + " and " + items[-1]


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

SPEC = IntentSpec(
    frames=frames(
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
        "num_days": int_slot(2, 14),
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
    suffixes=STUDY_SUFFIXES + (" starting tomorrow.",),
)
