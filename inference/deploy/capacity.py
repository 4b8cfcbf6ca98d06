"""A fleet plan from measured capacity profiles: instances, autoscaling target and cost per candidate instance type.

A profile (written by `mlops capacity measure`, benchmarks.capacity) holds the open-loop rate one server sustained
within a p95 budget on the machine measured. Everything here past that figure is arithmetic on stated assumptions:

- per-vCPU linear scaling: an instance type with V vCPUs sustains knee * V / C, where C is the CPUs the measured
  server could use, capped at MAX_SCALE times the measured rate (a larger box is not trusted to scale further);
- headroom: each instance is run at (1 - headroom) of its scaled knee, and that is the autoscaling target;
- prices: the dated table in prices/sagemaker_realtime.json (its source, date, and which prices are confirmed).

Every figure in a plan says whether it is measured, scaled, derived or priced (`basis`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ml.errors import MlopsError

PROFILE_KIND = "intent-mlops/capacity-profile"
PROFILE_SCHEMA = 1
PRICE_TABLE = "sagemaker_realtime.json"
DEFAULT_REGION = "us-east-1"
DEFAULT_HEADROOM = 0.3
# Per-vCPU scaling is an extrapolation; beyond this multiple of the measured CPUs it is not trusted.
MAX_SCALE = 8.0
# At least two instances per production variant, so that a failed instance or Availability Zone leaves the variant
# serving: AWS Config's managed rule flags a variant with one instance as NON_COMPLIANT
# (https://docs.aws.amazon.com/config/latest/developerguide/sagemaker-endpoint-config-prod-instance-count.html).
MIN_INSTANCES = 2
# The metric SageMaker autoscaling tracks: invocations per instance per minute.
SCALING_METRIC = "SageMakerVariantInvocationsPerInstance"
SCALED_NOTE = (
    "scaled: per-vCPU linear from the measured machine's CPUs, capped at {cap:g}x the measured rate; an assumption, "
    "not a measurement of this instance type"
)

MEASURED_ON_INSTANCE_NOTE = "measured: on this instance type itself ({source}), not scaled"


class CapacityError(MlopsError):
    """A capacity profile, price table or plan request cannot be used."""


@dataclass(frozen=True)
class Price:
    """One instance type's on-demand hourly price and vCPUs in one region."""

    instance_type: str
    vcpus: int
    usd_per_hour: float
    confirmed: bool


@dataclass(frozen=True)
class PriceTable:
    """The dated price table: its source, the date it was read, hours per month, and prices per region."""

    source: str
    retrieved: str
    hours_per_month: float
    regions: dict[str, dict[str, Price]]

    def prices(self, region: str) -> dict[str, Price]:
        """Every instance type priced in `region`, or a clear error naming the regions the table has."""
        if region not in self.regions:
            raise CapacityError(
                f"the price table has no region {region!r} (it has: {', '.join(sorted(self.regions))})",
                hint="add the region's prices to the table (--prices FILE, or inference/deploy/prices/"
                f"{PRICE_TABLE}) with their source",
            )
        return self.regions[region]

    def price(self, region: str, instance_type: str) -> Price:
        """One type's price, or a clear error listing the known types."""
        prices = self.prices(region)
        if instance_type not in prices:
            raise CapacityError(
                f"instance type {instance_type!r} is not in the price table for {region}; known types: "
                f"{', '.join(sorted(prices))}",
                hint="pick a known type, or add its price, vCPUs and source to the table",
            )
        return prices[instance_type]


def load_price_table(path: Path | None = None) -> PriceTable:
    """The price table at `path` (default: the one shipped in inference/deploy/prices/)."""
    if path is None:
        text = resources.files("inference.deploy").joinpath("prices", PRICE_TABLE).read_text()
        where = f"inference/deploy/prices/{PRICE_TABLE}"
    else:
        try:
            text = path.read_text()
        except OSError as exc:
            raise CapacityError(f"cannot read the price table {path}: {exc.strerror}") from None
        where = str(path)
    try:
        raw = json.loads(text)
        regions = {
            region: {
                name: Price(name, int(p["vcpus"]), float(p["usd_per_hour"]), bool(p.get("confirmed", False)))
                for name, p in types.items()
            }
            for region, types in raw["regions"].items()
        }
        table = PriceTable(str(raw["source"]), str(raw["retrieved"]), float(raw["hours_per_month"]), regions)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CapacityError(
            f"{where} is not a price table: {type(exc).__name__}: {exc}",
            hint='expected {"source", "retrieved", "hours_per_month", "regions": {REGION: {TYPE: {"vcpus", '
            '"usd_per_hour", "confirmed"}}}}',
        ) from None
    bad = [p.instance_type for r in regions.values() for p in r.values() if p.vcpus < 1 or p.usd_per_hour <= 0]
    if bad:
        raise CapacityError(f"{where}: vCPUs and prices must be positive ({', '.join(bad)})")
    return table


_PROFILE_KEYS = ("model", "precision", "p95_budget_ms", "rate_at_budget_rps", "single_request", "ramp", "cpus_used")


def check_profile(profile: Any, where: str) -> dict[str, Any]:
    """`profile` if it is a capacity profile this code reads, else a CapacityError saying what is wrong."""
    hint = "write one with `mlops capacity measure --out DIR` (capacity-*.json)"
    if not isinstance(profile, dict) or profile.get("kind") != PROFILE_KIND:
        raise CapacityError(f'{where} is not a capacity profile (no "kind": "{PROFILE_KIND}")', hint=hint)
    if profile.get("schema") != PROFILE_SCHEMA:
        raise CapacityError(f"{where} is a capacity profile of schema {profile.get('schema')!r}, not {PROFILE_SCHEMA}")
    missing = [k for k in _PROFILE_KEYS if k not in profile]
    if missing:
        raise CapacityError(f"{where} is not a complete capacity profile: missing {', '.join(missing)}", hint=hint)
    numbers = {
        "p95_budget_ms": profile["p95_budget_ms"],
        "rate_at_budget_rps": profile["rate_at_budget_rps"],
        "cpus_used": profile["cpus_used"],
        "single_request.p95_ms": (profile["single_request"] or {}).get("p95_ms"),
    }
    bad = [f"{k}={v!r}" for k, v in numbers.items() if not _positive(v)]
    if bad or not isinstance(profile["ramp"], list):
        raise CapacityError(f"{where} has figures that are not positive numbers: {', '.join(bad) or 'ramp'}", hint=hint)
    return profile


def load_profile(path: Path) -> dict[str, Any]:
    """A capacity profile from a JSON file, checked (CapacityError for anything else)."""
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise CapacityError(f"cannot read the capacity profile {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise CapacityError(
            f"{path} is not a capacity profile: not JSON ({exc})",
            hint="write one with `mlops capacity measure --out DIR` (capacity-*.json)",
        ) from None
    return check_profile(data, str(path))


def _positive(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value > 0


def rate_at_budget(profile: dict[str, Any], budget_ms: float) -> tuple[float, str]:
    """The rate one measured server holds within `budget_ms`, and where it comes from.

    At the profile's own budget: its confirmed knee. Above it: still the confirmed knee (the ramp stopped at the
    profile's budget; more may hold, unmeasured). Below it: the highest ramp step, going up from the lowest, that
    held `budget_ms` with no error (not confirmed by a steady run). Below the single-request p95: no rate can hold.
    """
    single = float(profile["single_request"]["p95_ms"])
    if budget_ms < single:
        raise CapacityError(
            f"no plan can hold p95 <= {budget_ms:g} ms with {describe(profile)}: one request at a time already takes "
            f"p95 {single:g} ms there (p50 {profile['single_request'].get('p50_ms')} ms), before any queueing",
            hint="raise --p95-ms above the single-request latency, or measure a faster model, precision or layout",
        )
    budget = float(profile["p95_budget_ms"])
    if budget_ms >= budget:
        note = "measured: the knee confirmed by a steady open-loop run"
        if budget_ms > budget:
            note += f" at the profile's budget {budget:g} ms (a conservative figure for {budget_ms:g} ms)"
        return float(profile["rate_at_budget_rps"]), note
    held = None
    for step in sorted(profile["ramp"], key=lambda s: s["rate_rps"]):
        p95 = step.get("projected_p95_ms", step.get("p95_ms"))  # with its queue's growth, where measured
        if step.get("errors") or p95 is None or p95 > budget_ms:
            break
        held = float(step["rate_rps"])
    if held is None:
        raise CapacityError(
            f"no measured ramp step of {describe(profile)} held p95 <= {budget_ms:g} ms (the ramp began at "
            f"{min(s['rate_rps'] for s in profile['ramp']):g} req/s)",
            hint=f"measure again with --p95-ms {budget_ms:g}",
        )
    return held, f"measured: the highest ramp step within {budget_ms:g} ms (not confirmed by a steady run)"


def describe(profile: dict[str, Any]) -> str:
    """'MODEL int8 2x1' (workers x threads, 'auto' where the server chose; 'default layout' for both)."""
    layout = profile.get("layout") or {}
    workers, threads = layout.get("workers"), layout.get("threads")
    shape = f"{workers or 'auto'}x{threads or 'auto'}" if workers or threads else "default layout"
    if profile.get("instance_type"):
        shape = f"on {profile['instance_type']}"
    model = str(profile["model"])
    if model.startswith("models:/"):
        name = model.removeprefix("models:/")
    elif model.startswith("arn:"):
        name = model.rsplit(":", 1)[-1].removeprefix("model-package/")  # model-package/NAME/VERSION
    else:
        name = Path(model).name
    return f"{name} {profile['precision']} {shape}"


def plan_option(
    profile: dict[str, Any],
    price: Price,
    *,
    rps: float,
    budget_ms: float,
    headroom: float,
    hours_per_month: float,
) -> dict[str, Any]:
    """One row of a plan: a profile on an instance type, with each figure's basis."""
    measured, measured_note = rate_at_budget(profile, budget_ms)
    cpus = float(profile["cpus_used"])
    on_instance = profile.get("instance_type") == price.instance_type
    scale = 1.0 if on_instance else min(price.vcpus / cpus, MAX_SCALE)
    instance_rps = measured * scale
    working_rps = instance_rps * (1 - headroom)
    instances = max(MIN_INSTANCES, math.ceil(rps / working_rps))
    target_per_minute = math.floor(working_rps * 60)
    monthly = instances * price.usd_per_hour * hours_per_month
    per_million = instances * price.usd_per_hour / (rps * 3600) * 1e6
    price_note = "priced: on-demand table" + ("" if price.confirmed else " (UNCONFIRMED price: check it)")
    return {
        "profile": describe(profile),
        "model": profile["model"],
        "precision": profile["precision"],
        "layout": profile.get("layout"),
        "instance_type": price.instance_type,
        "vcpus": price.vcpus,
        "measured_rps_at_budget": round(measured, 2),
        "measured_cpus": profile["cpus_used"],
        "measured_machine": (profile.get("machine") or {}).get("cpu_model"),
        "instance_rps_at_budget": round(instance_rps, 2),
        "scale": round(scale, 3),
        "scale_capped": not on_instance and price.vcpus / cpus > MAX_SCALE,
        "working_rps_per_instance": round(working_rps, 2),
        "instances": instances,
        "autoscaling": {
            "metric": SCALING_METRIC,
            "target_invocations_per_instance_per_minute": target_per_minute,
            "min_instances": MIN_INSTANCES,
            "max_instances": instances,
        },
        "usd_per_hour": price.usd_per_hour,
        "price_confirmed": price.confirmed,
        "monthly_usd": round(monthly, 2),
        "monthly_usd_at_min": round(MIN_INSTANCES * price.usd_per_hour * hours_per_month, 2),
        "usd_per_million": round(per_million, 4),
        "basis": {
            "measured_rps_at_budget": measured_note,
            "instance_rps_at_budget": MEASURED_ON_INSTANCE_NOTE.format(source=profile.get("source", "a load test"))
            if on_instance
            else SCALED_NOTE.format(cap=MAX_SCALE),
            "working_rps_per_instance": f"derived: the scaled rate less {headroom:.0%} headroom",
            "instances": f"derived: ceil(rps / working rate), at least {MIN_INSTANCES}",
            "autoscaling": "derived: target = the working rate per minute, so each instance stays below its knee",
            "monthly_usd": f"{price_note}, {hours_per_month:g} h/month at max instances",
            "usd_per_million": f"{price_note}, at max instances serving exactly the planned rate",
        },
    }


def check_plan_request(rps: float, budget_ms: float, headroom: float) -> None:
    """A CapacityError for a target rate or budget that is not positive, or headroom outside [0, 1)."""
    if not _positive(rps):
        raise CapacityError(
            f"the target rate must be a positive number of requests per second, got {rps:g}", hint="e.g. --rps 10000"
        )
    if not _positive(budget_ms):
        raise CapacityError(f"the p95 budget must be a positive number of milliseconds, got {budget_ms:g}")
    if not 0 <= headroom < 1:
        raise CapacityError(f"headroom is a fraction of each instance's knee in [0, 1), got {headroom:g}")


def plan(
    profiles: list[dict[str, Any]],
    *,
    rps: float,
    budget_ms: float,
    headroom: float = DEFAULT_HEADROOM,
    region: str = DEFAULT_REGION,
    instance_types: list[str] | None = None,
    table: PriceTable | None = None,
) -> dict[str, Any]:
    """Every (profile, instance type) option for `rps` within `budget_ms`, cheapest first, with the assumptions."""
    check_plan_request(rps, budget_ms, headroom)
    if not profiles:
        raise CapacityError("no capacity profile to plan from", hint="give --profile FILE or --model MODEL")
    table = table or load_price_table()
    prices = table.prices(region)
    chosen = [table.price(region, t) for t in instance_types] if instance_types else list(prices.values())
    for profile in profiles:
        if profile.get("instance_type"):
            table.price(region, profile["instance_type"])  # a measured type the table cannot price is an error
    options = [
        plan_option(p, price, rps=rps, budget_ms=budget_ms, headroom=headroom, hours_per_month=table.hours_per_month)
        for p in profiles
        for price in chosen
        if p.get("instance_type") in (None, price.instance_type)  # a profile measured on a type plans only that type
    ]
    if not options:
        raise CapacityError(
            "no option to plan: the profiles were measured on instance types outside --instance-type "
            f"({', '.join(sorted({str(p.get('instance_type')) for p in profiles}))})",
            hint="leave out --instance-type, or name the types the profiles were measured on",
        )
    options.sort(key=lambda o: (o["monthly_usd"], o["instances"], o["instance_type"]))
    return {
        "rps": rps,
        "p95_budget_ms": budget_ms,
        "headroom": headroom,
        "region": region,
        "prices": {"source": table.source, "retrieved": table.retrieved, "hours_per_month": table.hours_per_month},
        "assumptions": [
            SCALED_NOTE.format(cap=MAX_SCALE),
            f"each instance runs at {1 - headroom:.0%} of its scaled knee (headroom {headroom:.0%}); the autoscaling "
            f"target ({SCALING_METRIC}, per minute) is that rate",
            f"at least {MIN_INSTANCES} instances (availability); max instances serve the planned rate",
            "the measured machine ran the load generator too: its knee is a lower bound for a dedicated instance",
            "an instance runs the measured layout scaled to its vCPUs (one single-threaded worker per vCPU by default)",
        ],
        "options": options,
        "cheapest": options[0] if options else None,
    }


def deploy_options(option: dict[str, Any]) -> list[str]:
    """The `mlops endpoint deploy` options that apply one plan option: the fleet for the planned rate to start with,
    autoscaling between the plan's min and max at its target."""
    scaling = option["autoscaling"]
    autoscale = (
        f"{scaling['min_instances']}:{scaling['max_instances']}:{scaling['target_invocations_per_instance_per_minute']}"
    )
    return [
        "--instance-type",
        option["instance_type"],
        "--instance-count",
        str(option["instances"]),
        "--autoscale",
        autoscale,
    ]


def deploy_command(option: dict[str, Any], endpoint: str = "ENDPOINT") -> str:
    """The `mlops endpoint deploy` command line that applies one plan option to a one-variant endpoint."""
    return " ".join(["mlops endpoint deploy", endpoint, *deploy_options(option)])
