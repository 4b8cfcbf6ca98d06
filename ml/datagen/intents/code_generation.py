"""The code_generation intent: write, implement, refactor, convert code; SQL, regex, tests, APIs."""

from __future__ import annotations

from ml.datagen.engine import IntentSpec, frames
from ml.datagen.slots import STUDY_SUFFIXES


SPEC = IntentSpec(
    frames=frames(
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
    suffixes=STUDY_SUFFIXES + (" with comments pls", " in one file."),
)
