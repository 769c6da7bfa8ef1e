"""Facts both directions share: enum spellings, and how a field that v2 always holds comes back.

v2 requires many fields the classic model leaves optional (a variable's `hide`, `multi`,
`includeAll`; a link's `icon`), so after classic -> v2 it is unknown whether the classic
dashboard spelled the value out or left it to Grafana's default. `Emit` says what v2 -> classic
writes for each such field, chosen to match how Grafana and dashgen's own renderer write
dashboards; classic -> v2 uses the same table to name, as CHANGED, every field whose spelling
will not survive (a default written out, or an explicit default left out).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ALWAYS = "always"  # v2 -> classic writes the field whatever its value
UNLESS_DEFAULT = "unless-default"  # ... writes it only when it differs from `default`
IF_SET = "if-set"  # optional on both sides: present exactly when it was present


@dataclass(frozen=True)
class Emit:
    classic: str
    v2: str
    rule: str
    default: Any = None


# Grafana's enums, classic number <-> v2 name (the v1 <-> v2 conversion in Grafana's
# apps/dashboard/pkg/migration/conversion maps them the same way).
CURSOR_SYNC = {0: "Off", 1: "Crosshair", 2: "Tooltip"}
VARIABLE_HIDE = {0: "dontHide", 1: "hideLabel", 2: "hideVariable", 3: "inControlsMenu"}
VARIABLE_REFRESH = {0: "never", 1: "onDashboardLoad", 2: "onTimeRangeChanged"}
VARIABLE_SORT = {0: "disabled", 1: "alphabeticalAsc", 2: "alphabeticalDesc", 3: "numericalAsc", 4: "numericalDesc",
                 5: "alphabeticalCaseInsensitiveAsc", 6: "alphabeticalCaseInsensitiveDesc", 7: "naturalAsc",
                 8: "naturalDesc"}

#: Grafana's default refresh picker choices (v2 timeSettings.autoRefreshIntervals' default).
DEFAULT_REFRESH_INTERVALS = ["5s", "10s", "30s", "1m", "5m", "15m", "30m", "1h", "2h", "1d"]
DEFAULT_TIME = {"from": "now-6h", "to": "now"}

#: The classic variable type of each v2 variable kind.
VARIABLE_KINDS = {
    "QueryVariable": "query", "CustomVariable": "custom", "DatasourceVariable": "datasource",
    "ConstantVariable": "constant", "IntervalVariable": "interval", "TextVariable": "textbox",
    "AdhocVariable": "adhoc", "GroupByVariable": "groupby", "SwitchVariable": "switch",
}
CLASSIC_VARIABLE_KINDS = {v: k for k, v in VARIABLE_KINDS.items()}

_EMPTY_OPTION = {"text": "", "value": ""}

_COMMON = (
    Emit("name", "name", ALWAYS, ""),
    Emit("label", "label", IF_SET),
    Emit("description", "description", IF_SET),
    Emit("hide", "hide", ALWAYS, 0),
    Emit("skipUrlSync", "skipUrlSync", UNLESS_DEFAULT, False),
)
_CURRENT = Emit("current", "current", UNLESS_DEFAULT, _EMPTY_OPTION)
_OPTIONS = Emit("options", "options", UNLESS_DEFAULT, [])
_MULTI = (Emit("multi", "multi", ALWAYS, False), Emit("includeAll", "includeAll", ALWAYS, False),
          Emit("allValue", "allValue", IF_SET))
_CUSTOM_VALUE = Emit("allowCustomValue", "allowCustomValue", UNLESS_DEFAULT, True)

#: The plainly copied fields of each classic variable type (its data source, query and the
#: switch's values are converted by hand). A classic key missing here has no place in v2.
VARIABLE_FIELDS: dict[str, tuple[Emit, ...]] = {
    "query": (*_COMMON, _CURRENT, _OPTIONS, *_MULTI, _CUSTOM_VALUE,
              Emit("refresh", "refresh", ALWAYS, 0), Emit("sort", "sort", ALWAYS, 0),
              Emit("regex", "regex", UNLESS_DEFAULT, ""), Emit("regexApplyTo", "regexApplyTo", IF_SET),
              Emit("definition", "definition", IF_SET), Emit("placeholder", "placeholder", IF_SET),
              Emit("staticOptions", "staticOptions", IF_SET),
              Emit("staticOptionsOrder", "staticOptionsOrder", IF_SET)),
    "datasource": (*_COMMON, _CURRENT, Emit("options", "options", UNLESS_DEFAULT, []), *_MULTI, _CUSTOM_VALUE,
                   Emit("query", "pluginId", ALWAYS, ""), Emit("refresh", "refresh", ALWAYS, 0),
                   Emit("regex", "regex", UNLESS_DEFAULT, "")),
    "custom": (*_COMMON, _CURRENT, _OPTIONS, *_MULTI, _CUSTOM_VALUE, Emit("query", "query", ALWAYS, ""),
               Emit("valuesFormat", "valuesFormat", IF_SET)),
    "constant": (*_COMMON, _CURRENT, Emit("query", "query", ALWAYS, "")),
    "interval": (*_COMMON, _CURRENT, _OPTIONS, Emit("query", "query", ALWAYS, ""),
                 Emit("auto", "auto", ALWAYS, False), Emit("auto_min", "auto_min", ALWAYS, ""),
                 Emit("auto_count", "auto_count", ALWAYS, 0), Emit("refresh", "refresh", ALWAYS, 2)),
    "textbox": (*_COMMON, _CURRENT, Emit("query", "query", ALWAYS, "")),
    "adhoc": (*_COMMON, _CUSTOM_VALUE, Emit("filters", "filters", UNLESS_DEFAULT, []),
              Emit("baseFilters", "baseFilters", UNLESS_DEFAULT, []),
              Emit("defaultKeys", "defaultKeys", UNLESS_DEFAULT, []),
              Emit("enableGroupBy", "enableGroupBy", IF_SET)),
    "groupby": (*_COMMON, _CURRENT, _OPTIONS, Emit("multi", "multi", ALWAYS, False),
                Emit("defaultValue", "defaultValue", IF_SET)),
    "switch": _COMMON,
}
#: Classic keys converted by hand, per type (not "lost" although VARIABLE_FIELDS lacks them).
VARIABLE_SPECIAL = {"query": {"type", "datasource", "query"}, "adhoc": {"type", "datasource"},
                    "groupby": {"type", "datasource"}, "switch": {"type", "current", "options", "query"}}

#: Dashboard-level fields copied into the spec (title and the time settings are done by hand).
DASHBOARD_FIELDS = (
    Emit("description", "description", IF_SET),
    Emit("tags", "tags", UNLESS_DEFAULT, []),
    Emit("editable", "editable", IF_SET),
    Emit("liveNow", "liveNow", IF_SET),
    Emit("preload", "preload", UNLESS_DEFAULT, False),
)
TIME_FIELDS = (
    Emit("timezone", "timezone", IF_SET),
    Emit("refresh", "autoRefresh", ALWAYS, ""),
    Emit("fiscalYearStartMonth", "fiscalYearStartMonth", UNLESS_DEFAULT, 0),
    Emit("weekStart", "weekStart", UNLESS_DEFAULT, ""),
)
TIMEPICKER_FIELDS = (
    Emit("refresh_intervals", "autoRefreshIntervals", ALWAYS, DEFAULT_REFRESH_INTERVALS),
    Emit("hidden", "hideTimepicker", UNLESS_DEFAULT, False),
    Emit("nowDelay", "nowDelay", IF_SET),
    Emit("quick_ranges", "quickRanges", IF_SET),
)
LINK_FIELDS = (
    Emit("title", "title", ALWAYS, ""), Emit("type", "type", ALWAYS, "link"), Emit("icon", "icon", ALWAYS, ""),
    Emit("tooltip", "tooltip", ALWAYS, ""), Emit("tags", "tags", ALWAYS, []),
    Emit("asDropdown", "asDropdown", ALWAYS, False), Emit("targetBlank", "targetBlank", ALWAYS, False),
    Emit("includeVars", "includeVars", ALWAYS, False), Emit("keepTime", "keepTime", ALWAYS, False),
    Emit("url", "url", IF_SET), Emit("placement", "placement", IF_SET),
)
ANNOTATION_FIELDS = (
    Emit("name", "name", ALWAYS, ""), Emit("enable", "enable", ALWAYS, False), Emit("hide", "hide", ALWAYS, False),
    Emit("iconColor", "iconColor", ALWAYS, ""), Emit("placement", "placement", IF_SET),
)
#: A panel's query options: the same names on both sides, each optional.
QUERY_OPTIONS = ("maxDataPoints", "interval", "timeFrom", "timeShift", "cacheTimeout", "hideTimeOverride",
                 "queryCachingTTL", "timeCompare")
#: Panel keys the converter maps to v2 fields; any other key rides in options.__angularMigration.
PANEL_KEYS = {"type", "id", "title", "description", "links", "transparent", "datasource", "targets",
              "transformations", "gridPos", "repeat", "repeatDirection", "maxPerRow", "libraryPanel", "options",
              "fieldConfig", "pluginVersion", *QUERY_OPTIONS}
#: Grafana's own catch-all for panel keys v2 has no field for (its v1 -> v2 conversion puts them
#: there and its frontend reads them back).
ANGULAR_MIGRATION = "__angularMigration"
#: How a classic variable's query string is held in a v2 DataQuery spec (Grafana's convention).
LEGACY_STRING_VALUE = "__legacyStringValue"
#: The classic reference of a panel whose queries use different data sources.
MIXED_DATASOURCE = {"type": "datasource", "uid": "-- Mixed --"}


def panel_datasource(refs: list) -> dict | None:
    """A classic panel's data source, given its queries' ones (v2 keeps them on queries only):
    theirs when they agree, the mixed data source when they do not, none without queries."""
    if not refs:
        return None
    first = refs[0]
    if all(r == first for r in refs):
        return dict(first) if first else None
    return dict(MIXED_DATASOURCE)




def is_default(value: Any, default: Any) -> bool:
    """Whether `value` is `default` (same type too: 0 is not False); a variable's current value
    is compared by its text and value only."""
    if isinstance(default, dict) and isinstance(value, dict) and set(default) == {"text", "value"}:
        return {k: value.get(k) for k in ("text", "value")} == default
    return value == default and type(value) is type(default)


def classic_ref(group: str, name: str | None) -> dict | None:
    """The classic data source reference of a v2 DataQuery's `group` (the data source type)
    and `datasource.name` (its uid)."""
    ref = {}
    if group:
        ref["type"] = group
    if name:
        ref["uid"] = name
    return ref or None


def switch_classic(spec: dict) -> dict:
    """A v2 switch variable's classic current value, options and query (Grafana's layout:
    the enabled value first, then the disabled one)."""
    enabled, disabled = spec.get("enabledValue", "true"), spec.get("disabledValue", "false")
    current = spec.get("current", disabled)
    return {
        "current": {"text": current, "value": current},
        "options": [{"selected": current == enabled, "text": enabled, "value": enabled},
                    {"selected": current == disabled, "text": disabled, "value": disabled}],
        "query": "",
    }


__all__ = [
    "ALWAYS",
    "ANGULAR_MIGRATION",
    "ANNOTATION_FIELDS",
    "CLASSIC_VARIABLE_KINDS",
    "CURSOR_SYNC",
    "DASHBOARD_FIELDS",
    "DEFAULT_REFRESH_INTERVALS",
    "DEFAULT_TIME",
    "IF_SET",
    "LEGACY_STRING_VALUE",
    "LINK_FIELDS",
    "MIXED_DATASOURCE",
    "PANEL_KEYS",
    "QUERY_OPTIONS",
    "TIMEPICKER_FIELDS",
    "TIME_FIELDS",
    "UNLESS_DEFAULT",
    "VARIABLE_FIELDS",
    "VARIABLE_HIDE",
    "VARIABLE_KINDS",
    "VARIABLE_REFRESH",
    "VARIABLE_SORT",
    "VARIABLE_SPECIAL",
    "Emit",
    "classic_ref",
    "is_default",
    "panel_datasource",
    "switch_classic",
]
