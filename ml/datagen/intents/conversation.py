"""The conversation intent: small talk, greetings, feelings, opinions, venting, banter, thanks and goodbyes."""

from __future__ import annotations

from ml.datagen.engine import IntentSpec, frames


SPEC = IntentSpec(
    frames=frames(
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
