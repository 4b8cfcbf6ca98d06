"""The creative_writing intent: stories, poems, lyrics, jokes, slogans, dialogue, scripts, worldbuilding."""

from __future__ import annotations

from ml.datagen.engine import IntentSpec, frames
from ml.datagen.slots import STUDY_SUFFIXES


SPEC = IntentSpec(
    frames=frames(
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
    suffixes=STUDY_SUFFIXES + (" make it good!", " surprise me."),
)
