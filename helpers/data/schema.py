"""The data contract: one declaration per table, with its rules, used to validate and to write the codebook.

Every table is declared here once: its file, whether a data folder must have
it, its key, columns (type, unit, range, allowed categories, references to
other tables) and the rules that tie columns together: row rules (a numerator
never exceeds its denominator), presence rules (a respondent has a weight, a
nonrespondent has no answers) and consistency with other tables (a
community's district is its sub-district's district).
:mod:`helpers.data.validate` checks a data folder against these declarations
and :mod:`helpers.data.codebook` renders them as ``data/README.md``.

Required and optional tables
----------------------------
The boundaries (districts, sub-districts, communities) and the community
attributes are required (:data:`REQUIRED_TABLES`); every other table is
optional (:data:`OPTIONAL_TABLES`): a city may simply not have it, and the
studies that need it are then skipped.

The study period
----------------
Years are not fixed by the contract: each data folder declares its study
period in ``metadata.json`` (``"study_period": [first, last]``), or the period
is the span of the years present in its yearly tables
(:mod:`helpers.data.period`). Columns of type ``year`` must lie in it; year
columns bounded by :data:`PERIOD_END` must not lie after its last year.

Column types
------------
``str``      text, non-empty unless nullable
``int``      whole number (a value such as ``3.0`` is accepted, ``3.5`` is not)
``float``    real number
``bool``     0 or 1
``year``     calendar year inside the data folder's study period
``category`` one of ``categories``
"""
from __future__ import annotations

from dataclasses import dataclass, field

#: Earliest year an organisation may have been founded, a service point opened or a platform adopted
#: (the city's history starts here); also the earliest plausible value of a ``year`` column.
HISTORY_START: int = 1949
#: Latest plausible value of a ``year`` column (a year after it is a typo, whatever the study period).
YEAR_MAX: int = 2100

#: A column's ``max`` that stands for the last year of the data folder's study period.
PERIOD_END: str = "end of the study period"

#: Polygons may stick out of their parent by at most this area (slivers from rounding to 1 m).
NEST_TOLERANCE_M2: float = 1.0
#: A service point may lie at most this far outside its community polygon.
POINT_TOLERANCE_M: float = 1.0

#: Projected CRS of the shipped geography (CGCS2000 / 3-degree Gauss-Kruger CM 117E, metres).
DEFAULT_CRS: str = "EPSG:4548"

#: The eight-haves checklist (八有) for a service point, as 0/1 columns.
EIGHT_HAVES: tuple[str, ...] = (
    "has_space",        # 有场所
    "has_signage",      # 有标识
    "has_staff",        # 有人员
    "has_hours",        # 有制度/固定开放时间
    "has_activities",   # 有活动
    "has_service_list", # 有服务清单
    "has_records",      # 有台账
    "has_feedback",     # 有反馈渠道
)

#: Likert items on a 1-5 scale in the resident survey.
LIKERT_ITEMS: tuple[str, ...] = ("sat_service", "sat_overall", "trust_committee")
#: Age bands of the population margins and of the survey's ``age_band`` (label, first age, last age).
AGE_BANDS: tuple[tuple[str, int, int], ...] = (
    ("18-29", 18, 29), ("30-44", 30, 44), ("45-59", 45, 59), ("60-74", 60, 74), ("75+", 75, 200))
#: Yes/no items in the resident survey.
BINARY_ITEMS: tuple[str, ...] = ("aware_center", "participated", "complaint_made", "complaint_resolved")


@dataclass(frozen=True)
class Column:
    name: str
    dtype: str
    description: str
    unit: str | None = None
    min: float | None = None
    max: float | str | None = None  # a number, or PERIOD_END
    min_exclusive: bool = False
    categories: tuple[str, ...] | None = None
    nullable: bool = False
    references: str | None = None  # "table.column"


@dataclass(frozen=True)
class RowRule:
    """``left <= right`` must hold on every row where both are present."""

    left: str
    right: str
    description: str
    op: str = "<="


@dataclass(frozen=True)
class PresenceRule:
    """When ``if_column`` is one of ``if_values``, ``then_column`` must be ``"present"`` or ``"empty"``
    (the rules a column description states as "empty if ...")."""

    if_column: str
    if_values: tuple
    then_column: str
    must: str  # "present" | "empty"
    description: str


@dataclass(frozen=True)
class Consistency:
    """``column`` must equal ``via_column`` of the row of table ``via`` with the same ``via_key``."""

    column: str
    via: str
    via_key: str
    via_column: str


@dataclass(frozen=True)
class Table:
    name: str
    file: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    required: bool = False  # a data folder must have the file; optional tables may be absent
    geometry: str | None = None  # "Polygon" or "Point" for GeoJSON files
    rules: tuple[RowRule, ...] = field(default_factory=tuple)
    presence: tuple[PresenceRule, ...] = field(default_factory=tuple)
    consistency: tuple[Consistency, ...] = field(default_factory=tuple)
    parent: str | None = None  # polygons must nest inside this table's polygons
    parent_key: str | None = None

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def yearly(self) -> bool:
        """True for tables with a ``year`` column (rows by year of the study period)."""
        return any(c.dtype == "year" for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name!r} has no column {name!r}")


def _id(name: str, what: str, references: str | None = None) -> Column:
    return Column(name, "str", f"identifier of the {what}", references=references)


def _count(name: str, description: str, unit: str = "count", nullable: bool = False) -> Column:
    return Column(name, "int", description, unit=unit, min=0, nullable=nullable)


def _share(name: str, description: str) -> Column:
    return Column(name, "float", description, unit="share (0-1)", min=0, max=1)


_NAMES = (
    Column("name_en", "str", "name in English or pinyin"),
    Column("name_zh", "str", "name in Chinese characters"),
)

DISTRICTS = Table(
    name="districts",
    file="districts.geojson",
    description="Districts and counties (区/县): boundaries, names and zone.",
    key=("district_id",),
    required=True,
    geometry="Polygon",
    columns=(
        _id("district_id", "district"),
        *_NAMES,
        Column("zone", "category", "urban core, inner suburb or outer county",
               categories=("core", "inner_suburb", "outer_county")),
    ),
)

SUBDISTRICTS = Table(
    name="subdistricts",
    file="subdistricts.geojson",
    description="Sub-districts, towns and townships (街道/镇/乡): boundaries and names.",
    key=("subdistrict_id",),
    required=True,
    geometry="Polygon",
    parent="districts",
    parent_key="district_id",
    columns=(
        _id("subdistrict_id", "sub-district, town or township"),
        _id("district_id", "district it belongs to", references="districts.district_id"),
        *_NAMES,
        Column("kind", "category", "sub-district (街道), town (镇) or township (乡)",
               categories=("street", "town", "township")),
    ),
)

COMMUNITY_BOUNDARIES = Table(
    name="community_boundaries",
    file="communities.geojson",
    description="Communities and villages (社区/村): boundaries and names.",
    key=("community_id",),
    required=True,
    geometry="Polygon",
    parent="subdistricts",
    parent_key="subdistrict_id",
    consistency=(Consistency("district_id", "subdistricts", "subdistrict_id", "district_id"),),
    columns=(
        _id("community_id", "community or village"),
        _id("subdistrict_id", "sub-district it belongs to", references="subdistricts.subdistrict_id"),
        _id("district_id", "district it belongs to", references="districts.district_id"),
        *_NAMES,
    ),
)

COMMUNITIES = Table(
    name="communities",
    file="communities.csv",
    description="Community and village attributes (one row per community).",
    key=("community_id",),
    required=True,
    rules=(RowRule("households", "population", "households cannot exceed residents"),),
    columns=(
        _id("community_id", "community or village", references="community_boundaries.community_id"),
        Column("kind", "category", "urban community (社区) or village (村)", categories=("community", "village")),
        Column("urban", "bool", "1 if urban, 0 if rural"),
        _count("population", "resident population", unit="persons"),
        _count("households", "resident households", unit="households"),
        _share("share_60plus", "share of residents aged 60 or over"),
        _share("migrant_share", "share of residents without local hukou (migrants)"),
        Column("has_college", "bool", "1 if a college or university lies in its jurisdiction"),
        _count("staff", "full-time community workers", unit="persons"),
        Column("funding_10k_yuan", "float", "annual community service funding", unit="10,000 yuan per year", min=0),
    ),
)

PLATFORM = Table(
    name="platform",
    file="platform.csv",
    description="Roll-out of the regional party-building platform (区域化党建平台) by sub-district.",
    key=("subdistrict_id",),
    columns=(
        _id("subdistrict_id", "sub-district", references="subdistricts.subdistrict_id"),
        Column("platform_year", "int", "year the sub-district adopted the regional platform and joint "
               "committee (it may precede the study period); empty if it never did", unit="year",
               min=HISTORY_START, max=PERIOD_END, nullable=True),
    ),
)

ORGANISATIONS = Table(
    name="organisations",
    file="organisations.csv",
    description="Eligible 'two new' organisations (两新组织) and their party organisation.",
    key=("org_id",),
    rules=(
        RowRule("year_founded", "year_closed", "an organisation closes after it is founded"),
        RowRule("party_members", "employees", "party members are among the employees"),
        RowRule("year_founded", "party_org_year", "a party organisation is set up after the organisation is founded"),
        RowRule("party_org_year", "year_closed", "a party organisation is set up before the organisation closes"),
    ),
    presence=(
        PresenceRule("party_org_mode", ("own", "joint"), "party_org_year", "present",
                     "an organisation with a party organisation has the year it was set up"),
        PresenceRule("party_org_mode", ("none",), "party_org_year", "empty",
                     "an organisation without a party organisation has no party_org_year"),
    ),
    columns=(
        _id("org_id", "organisation"),
        _id("community_id", "community where it is located", references="communities.community_id"),
        Column("kind", "category", "non-public enterprise (非公企业) or social organisation (社会组织)",
               categories=("non_public_enterprise", "social_organisation")),
        _count("employees", "employees", unit="persons"),
        _count("party_members", "party members among the employees", unit="persons"),
        Column("year_founded", "int", "year founded", unit="year", min=HISTORY_START, max=PERIOD_END),
        Column("year_closed", "int", "year closed; empty if still open", unit="year",
               min=HISTORY_START, max=PERIOD_END, nullable=True),
        Column("party_org_mode", "category", "own party organisation (单建), joint one (联建) or none",
               categories=("own", "joint", "none")),
        Column("party_org_year", "int", "year its party organisation was set up; empty if none", unit="year",
               min=HISTORY_START, max=PERIOD_END, nullable=True),
        Column("work_coverage", "bool", "1 if it has a party-building instructor or contact (work coverage)"),
    ),
)

SERVICE_POINTS = Table(
    name="service_points",
    file="service_points.geojson",
    description="Party-member and community service centres, stations and points (党群服务中心/站/点).",
    key=("point_id",),
    geometry="Point",
    columns=(
        _id("point_id", "service point"),
        _id("community_id", "community where it stands", references="communities.community_id"),
        Column("level", "category", "district centre, sub-district centre or community station",
               categories=("district_centre", "subdistrict_centre", "community_station")),
        Column("year_opened", "int", "year opened", unit="year", min=HISTORY_START, max=PERIOD_END),
        *(Column(h, "bool", f"eight-haves checklist item: {h.removeprefix('has_').replace('_', ' ')}")
          for h in EIGHT_HAVES),
    ),
)

MEMBERS = Table(
    name="members",
    file="members.csv",
    description="Party members by community and year: in-service registration (在职党员到社区报到), "
                "activity, volunteering and mobile members (流动党员).",
    key=("community_id", "year"),
    rules=(
        RowRule("registered", "in_service_resident", "registered members are among in-service members resident"),
        RowRule("active_registered", "registered", "active registered members are among registered members"),
        RowRule("mobile_organised", "mobile_in", "organised mobile members are among inflowing mobile members"),
    ),
    columns=(
        _id("community_id", "community", references="communities.community_id"),
        Column("year", "year", "calendar year"),
        _count("in_service_resident", "in-service party members living in the community", unit="persons"),
        _count("registered", "in-service members registered in their residence community", unit="persons"),
        _count("active_registered", "registered members with at least four activities in the year", unit="persons"),
        Column("volunteer_hours", "float", "volunteer hours of registered members", unit="hours per year", min=0),
        _count("mobile_in", "mobile party members who moved in", unit="persons"),
        _count("mobile_organised", "inflowing mobile members organised in the community", unit="persons"),
    ),
)

JOINT_BUILDING = Table(
    name="joint_building",
    file="joint_building.csv",
    description="Joint building (共驻共建) between resident units (驻区单位) and communities, by year.",
    key=("community_id", "year"),
    rules=(RowRule("signed_agreements", "resident_units", "agreements are signed by resident units"),),
    columns=(
        _id("community_id", "community", references="communities.community_id"),
        Column("year", "year", "calendar year"),
        _count("resident_units", "resident units in the community", unit="units"),
        _count("signed_agreements", "resident units with a signed joint-building agreement", unit="units"),
        _count("joint_events", "joint events held in the year", unit="events per year"),
    ),
)

ASSESSMENT = Table(
    name="assessment",
    file="assessment.csv",
    description="Top-down annual assessment scores (考核) of communities. Not residents' satisfaction.",
    key=("community_id", "year"),
    columns=(
        _id("community_id", "community", references="communities.community_id"),
        Column("year", "year", "calendar year"),
        Column("score", "float", "assessment score", unit="points (0-100)", min=0, max=100),
    ),
)

SURVEY = Table(
    name="survey",
    file="survey.csv",
    description="Resident survey microdata: a stratified two-stage sample each year (strata = districts, "
                "PSUs = communities drawn with probability proportional to size), including nonrespondents.",
    key=("resp_id",),
    rules=(RowRule("complaint_resolved", "complaint_made", "only a complaint made can be resolved"),),
    presence=(
        PresenceRule("responded", (1,), "weight", "present", "respondents have a design weight"),
        PresenceRule("responded", (0,), "weight", "empty", "nonrespondents have no design weight"),
        PresenceRule("complaint_made", (0,), "complaint_resolved", "empty",
                     "complaint_resolved is empty when no complaint was made"),
        *(PresenceRule("responded", (0,), c, "empty", "nonrespondents have no answers")
          for c in ("age", "age_band", "sex", "migrant", "walk_minutes", *LIKERT_ITEMS, "sat_score", *BINARY_ITEMS)),
    ),
    consistency=(
        Consistency("subdistrict_id", "community_boundaries", "community_id", "subdistrict_id"),
        Consistency("district_id", "community_boundaries", "community_id", "district_id"),
    ),
    columns=(
        _id("resp_id", "sampled resident"),
        Column("year", "year", "survey year"),
        _id("district_id", "district (the stratum)", references="districts.district_id"),
        _id("subdistrict_id", "sub-district", references="subdistricts.subdistrict_id"),
        _id("community_id", "community (the primary sampling unit)", references="communities.community_id"),
        _count("n_psu_stratum", "communities in the stratum (population PSU count, for the finite-population "
               "correction)", unit="communities"),
        Column("psu_prob", "float", "first-stage inclusion probability of the community", unit="probability",
               min=0, max=1, min_exclusive=True),
        Column("responded", "bool", "1 if the sampled resident responded"),
        Column("weight", "float", "design weight adjusted for nonresponse within the PSU; empty for "
               "nonrespondents", unit="residents represented", min=0, min_exclusive=True, nullable=True),
        Column("age", "int", "age in years", unit="years", min=18, max=100, nullable=True),
        Column("age_band", "category", "age band of `age`, as in the population margins",
               categories=tuple(b[0] for b in AGE_BANDS), nullable=True),
        Column("sex", "category", "sex", categories=("female", "male"), nullable=True),
        Column("migrant", "bool", "1 if without local hukou", nullable=True),
        Column("walk_minutes", "float", "reported walking time to the nearest service point",
               unit="minutes", min=0, nullable=True),
        *(Column(i, "int", f"{i.replace('_', ' ')} on a 1-5 scale (5 = best)", unit="1-5", min=1, max=5,
                 nullable=True) for i in LIKERT_ITEMS),
        Column("sat_score", "float", "overall satisfaction thermometer", unit="points (0-100)", min=0, max=100,
               nullable=True),
        Column("aware_center", "bool", "1 if aware of the community's service centre", nullable=True),
        Column("participated", "bool", "1 if took part in a community activity in the last 12 months",
               nullable=True),
        Column("complaint_made", "bool", "1 if made a complaint in the last 12 months", nullable=True),
        Column("complaint_resolved", "bool", "1 if the complaint was resolved; empty if none made", nullable=True),
    ),
)

POPULATION = Table(
    name="population",
    file="population.csv",
    description="Population margins from the census (2020): residents aged 18 and over by district, "
                "age band and sex, the totals a statistics bureau publishes, for calibrating the survey weights.",
    key=("district_id", "age_band", "sex"),
    columns=(
        _id("district_id", "district", references="districts.district_id"),
        Column("age_band", "category", "age band (years)", categories=tuple(b[0] for b in AGE_BANDS)),
        Column("sex", "category", "sex", categories=("female", "male")),
        _count("residents", "residents aged 18 and over in the district, age band and sex", unit="persons"),
    ),
)

#: Every table, in load order (a table only references tables before it).
TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        DISTRICTS, SUBDISTRICTS, COMMUNITY_BOUNDARIES, COMMUNITIES, PLATFORM, ORGANISATIONS,
        SERVICE_POINTS, MEMBERS, JOINT_BUILDING, ASSESSMENT, SURVEY, POPULATION,
    )
}

#: Tables a data folder must have: the boundaries and the community attributes.
REQUIRED_TABLES: tuple[str, ...] = tuple(n for n, t in TABLES.items() if t.required)
#: Tables a data folder may lack (the studies that need them are then skipped).
OPTIONAL_TABLES: tuple[str, ...] = tuple(n for n, t in TABLES.items() if not t.required)

#: The data folder's description (optional): ``study_period``, ``synthetic``, ``description``, file checksums.
METADATA_FILE = "metadata.json"
#: The planted effects of the synthetic data (not a table).
GROUND_TRUTH_FILE = "ground_truth.json"


# ----------------------------------------------------------------------------------------------
# Naming the rules (shared by the validator's messages and the codebook)
# ----------------------------------------------------------------------------------------------
def fmt_num(x: float) -> str:
    """A number as a rule or message shows it: ``3`` for 3.0, else the shortest ``%g`` form."""
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return f"{x:g}"


def bounds(col: Column, period=None) -> tuple[float | None, float | None, bool]:
    """``(low, high, low_exclusive)`` of a column's values; ``period`` (a
    :class:`helpers.data.period.StudyPeriod` or None when unknown) bounds ``year`` columns and
    :data:`PERIOD_END`. Without a period, ``year`` columns are bounded by
    :data:`HISTORY_START`-:data:`YEAR_MAX`."""
    if col.dtype == "year":
        if period is None:
            return float(HISTORY_START), float(YEAR_MAX), False
        return float(period.first), float(period.last), False
    hi = col.max
    if hi == PERIOD_END:
        hi = None if period is None else period.last
    return (None if col.min is None else float(col.min), None if hi is None else float(hi), col.min_exclusive)


def range_rule(col: Column, period=None) -> str | None:
    """The rule name of a column's range, e.g. ``range 1-5``, ``>= 0``, ``range 0 < x <= 1``,
    ``study period 2018-2024`` (see :func:`bounds` for ``period``)."""
    lo, hi, excl = bounds(col, period)
    if col.dtype == "year":
        return f"study period {period.first}-{period.last}" if period is not None else \
            f"range {HISTORY_START}-{YEAR_MAX}"
    if lo is None and hi is None:
        return None
    if lo is not None and hi is not None:
        if excl:
            return f"range {fmt_num(lo)} < x <= {fmt_num(hi)}"
        return f"range {fmt_num(lo)}-{fmt_num(hi)}"
    if lo is not None:
        return f"{'>' if excl else '>='} {fmt_num(lo)}"
    return f"<= {fmt_num(hi)}"
