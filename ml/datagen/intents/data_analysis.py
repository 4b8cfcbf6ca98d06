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
    ),
    pools={
        "dataset": (
            "sales data", "customer churn data", "website traffic logs", "survey responses",
            "patient readmission records", "student test scores", "monthly expenses", "inventory levels",
            "employee attrition data", "sensor readings from our factory", "daily stock prices",
            "social media engagement data", "crop yield data", "delivery times", "match statistics for my football team",
            "app store reviews", "energy consumption data", "hotel booking data", "customer support tickets",
            "loan default data", "ad campaign results", "clinical trial results", "housing prices",
            "fitness tracker data", "restaurant orders", "polling data", "call center metrics",
            "air quality measurements", "temperature records", "e-commerce transactions", "subscription revenue data",
            "NPS survey results", "warehouse shipment logs", "A/B test results", "library checkout records",
        ),
        "data_format": (
            "CSV", "Excel spreadsheet", "Google Sheet", "SQL table", "JSON export", "pandas dataframe",
            "spreadsheet", "dashboard export", "CSV file",
        ),
        "var": (
            "price", "revenue", "customer age", "temperature", "conversion rate", "session length", "discount",
            "ad spend", "hours of sleep", "study time", "exam score", "tenure", "satisfaction score",
            "delivery time", "rainfall", "page load time", "order value", "number of support tickets", "salary",
            "weekly sales", "days since last login", "distance to store", "number of employees",
        ),
        "metric": (
            "revenue", "conversion rate", "churn rate", "average order value", "daily active users",
            "click-through rate", "customer lifetime value", "gross margin", "readmission rate",
            "on-time delivery rate", "net promoter score", "cost per acquisition", "retention", "sales",
            "average response time", "attendance", "bounce rate", "profit",
        ),
        "dimension": (
            "region", "month", "product category", "customer segment", "sales rep", "marketing channel",
            "age group", "store", "device type", "quarter", "country", "plan tier", "department", "weekday",
        ),
        "chart": ("bar chart", "line chart", "scatter plot", "histogram", "heatmap", "box plot", "pie chart", "stacked area chart"),
        "chart_purpose": (
            "sales over time", "the distribution of customer ages", "market share by competitor",
            "the relationship between ad spend and revenue", "survey results by age group",
            "monthly expenses by category", "website traffic by hour of day", "exam scores across three classes",
            "how delivery times vary by region", "the share of tickets by priority",
        ),
        "insight": (
            "which products are growing fastest", "why sales dropped in March", "which customers are most likely to churn",
            "what drives high ratings", "where we lose users in the funnel", "whether the new pricing worked",
            "which regions underperform", "any seasonal patterns", "any anomalies", "what predicts late deliveries",
            "which campaigns actually pay off", "whether the new process made a difference",
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
            "an online store", "a SaaS startup", "a hospital ward", "a call center", "a restaurant chain",
            "a mobile game", "a fundraising campaign", "a logistics company", "a university admissions office",
            "a gym", "a podcast", "a small accounting firm",
        ),
        "stat_test": (
            "a t-test", "a chi-square test", "a linear regression", "an ANOVA", "a correlation analysis",
            "a cohort analysis", "a time series forecast", "a cluster analysis", "a survival analysis",
        ),
        "survey_topic": (
            "remote work", "climate change", "public transport", "social media use", "four-day work weeks",
            "mental health at work", "our new app design", "online privacy", "electric cars", "school lunches",
            "the minimum wage", "video games", "our customer service",
        ),
        "survey_dimension": ("age group", "region", "department", "income bracket", "job level", "gender", "city"),
        "role": (
            "teacher", "nurse manager", "small business owner", "HR manager", "marketing analyst", "product manager",
            "coach", "researcher", "store manager", "school principal",
        ),
    },
    constraints=(
        "Explain your reasoning briefly.", "Explain it for a non-technical audience.", "Suggest a chart for it too.",
        "Mention any caveats about the data.", "Use percentages where possible.", "Keep the answer short.",
        "Round to two decimals.", "Tell me how confident I can be.",
    ),
    prefixes=("Work question: ", "For a report I'm writing, ", "Data question: "),
    suffixes=STUDY_SUFFIXES + (" for my boss.", " for tomorrow's meeting."),
)
