"""The problem_solving intent: troubleshooting and fixing concrete problems, root causes, workarounds."""

from __future__ import annotations

from ml.datagen.engine import IntentSpec, frames


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

SPEC = IntentSpec(
    frames=frames(
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
