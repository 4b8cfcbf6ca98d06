"""The summarization intent: summarize, condense, tl;dr, key points of given text."""

from __future__ import annotations

from ml.datagen.engine import IntentSpec, frames
from ml.datagen.slots import PASSAGES, STUDY_SUFFIXES


SPEC = IntentSpec(
    frames=frames(
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
    suffixes=STUDY_SUFFIXES + (" short version please.",),
)
