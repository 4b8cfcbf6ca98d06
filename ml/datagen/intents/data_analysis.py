"""The data_analysis intent: datasets, statistics, trends, correlations, charts, pivots, A/B tests, KPIs."""

from __future__ import annotations

import random

from ml.datagen.engine import IntentSpec, frames
from ml.datagen.slots import STUDY_SUFFIXES, choice_slot, int_slot


def _numbers(rng: random.Random) -> str:
    """A comma-separated list of 5 to 9 numbers scattered around a random base."""
    base = rng.randint(8, 900)
    spread = max(2, base // 3)
    values = [max(0, base + rng.randint(-spread, spread)) for _ in range(rng.randint(5, 9))]
    return ", ".join(str(v) for v in values)


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _month_series(rng: random.Random) -> str:
    """Four to eight consecutive months with values around a base, written "Jan 120, Feb 135, ..."."""
    start, count, base = rng.randrange(12), rng.randint(4, 8), rng.randint(20, 900)
    return ", ".join(
        f"{_MONTHS[(start + i) % 12]} {max(1, base + rng.randint(-base // 3, base // 3))}" for i in range(count)
    )


def _week_series(rng: random.Random) -> str:
    """A week of daily counts with one day that stands out, written "Mon 40, Tue 38, ..."."""
    base = rng.randint(15, 400)
    odd = rng.randrange(7)
    values = [base + rng.randint(-base // 8, base // 8) for _ in _DAYS]
    values[odd] = values[odd] * rng.choice((2, 3)) if rng.random() < 0.6 else max(1, values[odd] // 3)
    return ", ".join(f"{day} {value}" for day, value in zip(_DAYS, values, strict=True))


def _expenses(rng: random.Random) -> str:
    """A month of personal spending by category, e.g. "rent 1200, groceries 430, ..."."""
    items = rng.sample(_EXPENSE_ITEMS, rng.randint(4, 6))
    return ", ".join(f"{item} {rng.randint(lo, hi)}" for item, lo, hi in items)


_EXPENSE_ITEMS: tuple[tuple[str, int, int], ...] = (
    ("rent", 600, 2200),
    ("groceries", 200, 700),
    ("eating out", 50, 500),
    ("transport", 40, 300),
    ("subscriptions", 20, 120),
    ("utilities", 60, 250),
    ("clothes", 0, 300),
    ("kids", 100, 600),
    ("gym", 20, 80),
    ("coffee", 15, 120),
)


def _region_table(rng: random.Random) -> str:
    """A small pasted table of one figure per segment, e.g. "North 120, South 95, ..."."""
    labels = rng.choice(_SEGMENTS)
    base = rng.randint(30, 2000)
    return ", ".join(f"{label} {base + rng.randint(-base // 2, base // 2)}" for label in labels)


_SEGMENTS: tuple[tuple[str, ...], ...] = (
    ("North", "South", "East", "West"),
    ("store A", "store B", "store C"),
    ("18-24", "25-34", "35-44", "45-54", "55+"),
    ("web", "iOS", "Android"),
    ("basic plan", "pro plan", "team plan"),
    ("Q1", "Q2", "Q3", "Q4"),
)


def _scores(rng: random.Random) -> str:
    """Six to ten test scores out of 100."""
    base = rng.randint(45, 85)
    return ", ".join(str(min(100, max(0, base + rng.randint(-15, 15)))) for _ in range(rng.randint(6, 10)))


def _pace(rng: random.Random) -> str:
    """Weekly average running paces in min:sec per km."""
    sec = rng.randint(300, 420)
    out = []
    for _ in range(rng.randint(5, 8)):
        sec += rng.randint(-12, 8)
        out.append(f"{sec // 60}:{sec % 60:02d}")
    return ", ".join(out)


SPEC = IntentSpec(
    frames=frames(
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
        # Styles the frames above lack (docs/labeling.md): terse fragments, context before the ask, blunt
        # lower-case imperatives, polite indirect asks, non-native phrasing, pasted material, boundary cases.
        (
            1,
            "I run a(n) {small_biz_d} and {biz_metric} dropped {pct}% since {month_name}. Here are the monthly numbers: {month_series}. What changed?",
        ),
        (
            1,
            "we're planning next year's staffing and need to understand demand first. weekly {count_thing} last quarter: {numbers}. any pattern?",
        ),
        (0, "{month_series}. anything unusual?"),
        (0, "daily {count_thing} last week: {week_series}. what's going on?"),
        (1, "my spending last month: {expenses}. where is my money actually going?"),
        (0, "is {pct}% vs {pct2}% a real difference with {n_people} people in each group?"),
        (
            1,
            "we surveyed {n_people} {survey_who} and {pct_big}% said {survey_answer}. how confident can I be in that number?",
        ),
        (0, "which chart for {chart_purpose}"),
        (0, "bar or line chart for {chart_purpose}?"),
        (1, "my running pace per week, min per km: {pace}. am I actually getting faster?"),
        (1, "my {kid}'s test scores this year: {scores}. improving or just noise?"),
        (
            2,
            "I'm a(n) {role} and my manager wants a slide by Friday on why {metric} fell. I have {dataset} in a(n) {data_format} with {n_rows} rows. Which breakdowns should I run, which chart goes on the slide, and how do I show it isn't just seasonality?",
        ),
        (1, "could you take a look at these numbers and tell me if anything stands out? {region_table}"),
        (0, "{metric} by segment: {region_table}. which one is the problem?"),
        (0, "please analyse for me this data: {numbers}"),
        (0, "how to know if my test is significant? A got {conv_a}/{n_a}, B got {conv_b}/{n_b}"),
        (1, "Would you mind looking at our {dataset}? It has {n_rows} rows and I'd like to know {insight}."),
        (0, "how can I tell if {var} actually drives {var2} in my data or if it's just correlation"),
        (1, "my p-value is {p_val} on the {dataset}, is the effect real?"),
        (
            1,
            "I have {n_people} survey answers on a 1-5 scale about {survey_topic}. what's the right way to analyse them by {survey_dimension}?",
        ),
        (
            2,
            "Context: we're a small {small_biz_d} trying to decide whether to open on Sundays. Average customers per day over the last {num_small} months: {week_series}. Is Sunday demand worth it, how much do the days vary, and which chart would convince my business partner?",
        ),
        (0, "mean or median for {var} in my data? it's really skewed"),
        (1, "our electricity use in kWh for the last few months: {numbers}. is winter really that much worse?"),
        (
            1,
            "I'm a(n) {occupation} and I track {personal_metric} in a spreadsheet: {numbers}. is there a trend or am I imagining it?",
        ),
        (0, "{metric} went from {num_a} to {num_b}, big deal or normal fluctuation?"),
        (
            2,
            "I teach two classes and I've got the final exam scores: class A averaged {avg_a} (n={n_class}) and class B {avg_b} (n={n_class2}). Is the gap meaningful, what else should I look at, and how would you plot it for the parents' evening?",
        ),
        (0, "outliers? {numbers}"),
        (1, "sales are down and my boss is panicking. here's revenue by month: {month_series}. seasonal or real?"),
        (0, "what does this tell you: {region_table}"),
        (1, "Is there any way you could tell me what these {dataset} numbers say? {numbers}"),
        (0, "trend in {month_series}?"),
    ),
    pools={
        "month_series": _month_series,
        "week_series": _week_series,
        "expenses": _expenses,
        "region_table": _region_table,
        "scores": _scores,
        "pace": _pace,
        "pct_big": int_slot(35, 88),
        "avg_a": int_slot(55, 85),
        "avg_b": int_slot(55, 85),
        "n_class": int_slot(18, 34),
        "p_val": choice_slot(("0.07", "0.04", "0.049", "0.12", "0.003", "0.06", "0.2")),
        "small_biz_d": (
            "bakery",
            "bike shop",
            "dental clinic",
            "coffee cart",
            "bookstore",
            "hair salon",
            "pet grooming business",
        ),
        "biz_metric": (
            "sales",
            "foot traffic",
            "bookings",
            "online orders",
            "repeat customers",
        ),
        "month_name": (
            "March",
            "the summer",
            "January",
            "we raised prices",
            "the new competitor opened",
            "September",
        ),
        "count_thing": (
            "call volumes",
            "signups",
            "support tickets",
            "deliveries",
            "website visits",
            "returns",
        ),
        "survey_who": (
            "customers",
            "employees",
            "parents",
            "students",
            "nurses",
            "app users",
        ),
        "survey_answer": (
            "they'd pay more for faster delivery",
            "they feel burned out",
            "they'd recommend us",
            "they want a four-day week",
            "the app is hard to use",
        ),
        "kid": (
            "son",
            "daughter",
            "kid",
        ),
        "personal_metric": (
            "my weight",
            "my sleep hours",
            "my blood pressure",
            "my daily steps",
            "my screen time",
            "my monthly savings",
        ),
        "dataset": (
            "sales data",
            "customer churn data",
            "website traffic logs",
            "survey responses",
            "patient readmission records",
            "student test scores",
            "monthly expenses",
            "inventory levels",
            "employee attrition data",
            "sensor readings from our factory",
            "daily stock prices",
            "social media engagement data",
            "crop yield data",
            "delivery times",
            "match statistics for my football team",
            "app store reviews",
            "energy consumption data",
            "hotel booking data",
            "customer support tickets",
            "loan default data",
            "ad campaign results",
            "clinical trial results",
            "housing prices",
            "fitness tracker data",
            "restaurant orders",
            "polling data",
            "call center metrics",
            "air quality measurements",
            "temperature records",
            "e-commerce transactions",
            "subscription revenue data",
            "NPS survey results",
            "warehouse shipment logs",
            "A/B test results",
            "library checkout records",
            "gym membership data",
            "parking sensor data",
            "school attendance records",
            "podcast download stats",
            "Airbnb booking data",
            "bike share trips",
            "food waste logs from our canteen",
        ),
        "data_format": (
            "CSV",
            "Excel spreadsheet",
            "Google Sheet",
            "SQL table",
            "JSON export",
            "pandas dataframe",
            "spreadsheet",
            "dashboard export",
            "CSV file",
        ),
        "var": (
            "price",
            "revenue",
            "customer age",
            "temperature",
            "conversion rate",
            "session length",
            "discount",
            "ad spend",
            "hours of sleep",
            "study time",
            "exam score",
            "tenure",
            "satisfaction score",
            "delivery time",
            "rainfall",
            "page load time",
            "order value",
            "number of support tickets",
            "salary",
            "weekly sales",
            "days since last login",
            "distance to store",
            "number of employees",
        ),
        "metric": (
            "revenue",
            "conversion rate",
            "churn rate",
            "average order value",
            "daily active users",
            "click-through rate",
            "customer lifetime value",
            "gross margin",
            "readmission rate",
            "on-time delivery rate",
            "net promoter score",
            "cost per acquisition",
            "retention",
            "sales",
            "average response time",
            "attendance",
            "bounce rate",
            "profit",
        ),
        "dimension": (
            "region",
            "month",
            "product category",
            "customer segment",
            "sales rep",
            "marketing channel",
            "age group",
            "store",
            "device type",
            "quarter",
            "country",
            "plan tier",
            "department",
            "weekday",
        ),
        "chart": (
            "bar chart",
            "line chart",
            "scatter plot",
            "histogram",
            "heatmap",
            "box plot",
            "pie chart",
            "stacked area chart",
        ),
        "chart_purpose": (
            "sales over time",
            "the distribution of customer ages",
            "market share by competitor",
            "the relationship between ad spend and revenue",
            "survey results by age group",
            "monthly expenses by category",
            "website traffic by hour of day",
            "exam scores across three classes",
            "how delivery times vary by region",
            "the share of tickets by priority",
            "how our budget is split",
            "the gap between two groups",
            "monthly expenses by category",
            "before and after results",
            "how five regions compare",
        ),
        "insight": (
            "which products are growing fastest",
            "why sales dropped in March",
            "which customers are most likely to churn",
            "what drives high ratings",
            "where we lose users in the funnel",
            "whether the new pricing worked",
            "which regions underperform",
            "any seasonal patterns",
            "any anomalies",
            "what predicts late deliveries",
            "which campaigns actually pay off",
            "whether the new process made a difference",
        ),
        "numbers": _numbers,
        "conv_a": int_slot(20, 600),
        "conv_b": int_slot(20, 600),
        "n_a": int_slot(1000, 20000),
        "n_b": int_slot(1000, 20000),
        "n_people": int_slot(40, 2500),
        "n_pop": choice_slot(("5,000", "12,000", "40,000", "200,000", "1 million", "3,500")),
        "n_rows": choice_slot(("500", "2,000", "10,000", "50,000", "120,000", "1 million")),
        "num_a": int_slot(100, 5000),
        "num_b": int_slot(100, 5000),
        "pct": int_slot(3, 40),
        "corr": choice_slot(("0.42", "-0.7", "0.15", "0.85", "-0.3", "0.6", "0.05")),
        "r_squared": choice_slot(("0.12", "0.35", "0.6", "0.8", "0.95")),
        "kpi_business": (
            "an online store",
            "a SaaS startup",
            "a hospital ward",
            "a call center",
            "a restaurant chain",
            "a mobile game",
            "a fundraising campaign",
            "a logistics company",
            "a university admissions office",
            "a gym",
            "a podcast",
            "a small accounting firm",
        ),
        "stat_test": (
            "a t-test",
            "a chi-square test",
            "a linear regression",
            "an ANOVA",
            "a correlation analysis",
            "a cohort analysis",
            "a time series forecast",
            "a cluster analysis",
            "a survival analysis",
        ),
        "survey_topic": (
            "remote work",
            "climate change",
            "public transport",
            "social media use",
            "four-day work weeks",
            "mental health at work",
            "our new app design",
            "online privacy",
            "electric cars",
            "school lunches",
            "the minimum wage",
            "video games",
            "our customer service",
        ),
        "survey_dimension": ("age group", "region", "department", "income bracket", "job level", "gender", "city"),
        "role": (
            "teacher",
            "nurse manager",
            "small business owner",
            "HR manager",
            "marketing analyst",
            "product manager",
            "coach",
            "researcher",
            "store manager",
            "school principal",
        ),
    },
    constraints=(
        "Explain your reasoning briefly.",
        "Explain it for a non-technical audience.",
        "Suggest a chart for it too.",
        "Mention any caveats about the data.",
        "Use percentages where possible.",
        "Keep the answer short.",
        "Round to two decimals.",
        "Tell me how confident I can be.",
    ),
    prefixes=("Work question: ", "For a report I'm writing, ", "Data question: "),
    suffixes=(*STUDY_SUFFIXES, " for my boss.", " for tomorrow's meeting."),
)
