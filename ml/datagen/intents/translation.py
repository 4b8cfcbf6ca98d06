"""The translation intent: between natural languages, "how do you say", localisation."""

from __future__ import annotations

from ml.datagen.engine import IntentSpec, frames
from ml.datagen.slots import PASSAGES, STUDY_SUFFIXES


SPEC = IntentSpec(
    frames=frames(
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
    suffixes=STUDY_SUFFIXES + (" gracias!", " merci!"),
)
