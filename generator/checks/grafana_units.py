"""The unit ids Grafana's panel editor offers, as data: what `dashboard/unit-known` accepts.

Provenance: the `id` of every format in getCategories() of
grafana/grafana packages/grafana-data/src/valueFormats/categories.ts at commit
002fa1b09fd5c809ef370334a20e23ec520ac8e3 (Grafana is AGPL-3.0; only the identifiers, which
are facts of its dashboard format, are listed here), plus the alias `farenheit` and the
custom-unit prefixes that getValueFormat() in valueFormats.ts of the same package
understands. Grafana shows any other string as a literal suffix ("5 percentage"), which is
never what a dashboard author meant, so dashgen refuses it. Refresh from a newer commit when
Grafana adds units; keep the categories in the same order.
"""

from __future__ import annotations

_BY_CATEGORY = {
    "Misc": "none string short percent percentunit humidity dB hex0x hex sci locale pixel",
    "Acceleration": "accMS2 accFS2 accG",
    "Angle": "degree radian grad arcmin arcsec",
    "Area": "areaM2 areaF2 areaMI2",
    "Computation": "flops mflops gflops tflops pflops eflops zflops yflops",
    "Concentration": "ppm conppb conngm3 conngNm3 con\u03bcgm3 con\u03bcgNm3 conmgm3 conmgNm3 congm3 congNm3 "
                     "conmgdL conmmolL",
    "Currency": "currencyUSD currencyGBP currencyEUR currencyJPY currencyRUB currencyUAH currencyBRL currencyDKK "
                "currencyISK currencyNOK currencySEK currencyCZK currencyCHF currencyPLN currencyBTC currencymBTC "
                "currency\u03bcBTC currencyZAR currencyINR currencyKRW",
    "Data (IEC)": "bits bytes kbytes mbytes gbytes tbytes pbytes",
    "Data (metric)": "decbits decbytes deckbytes decmbytes decgbytes dectbytes decpbytes",
    "Data rate": "pps bps Bps KBs Kbits MBs Mbits GBs Gbits TBs Tbits PBs Pbits",
    "Date & time": "dateTimeAsIso dateTimeAsIsoNoDateIfToday dateTimeAsUS dateTimeAsUSNoDateIfToday dateTimeFromNow",
    "Energy": "watt kwatt megwatt gwatt mwatt Wm2 voltamp kvoltamp voltampreact kvoltampreact watth watthperkg "
              "kwatth kwattm amph kamph mamph joule ev amp kamp mamp volt kvolt mvolt dBm ohm kohm Mohm farad "
              "\u00b5farad nfarad pfarad ffarad henry mhenry \u00b5henry lumens",
    "Flow": "flowgpm flowcms flowcfs flowcfm litreh flowlpm flowmlpm lux",
    "Force": "forceNm forcekNm forceN forcekN",
    "Hash rate": "Hs KHs MHs GHs THs PHs EHs",
    "Mass": "massmg massg masskg masst",
    "Length": "lengthmm lengthft lengthm lengthkm lengthmi",
    "Pressure": "pressurembar pressurebar pressurekbar pressurepa pressurehpa pressurekpa pressurehg pressurepsi",
    "Radiation": "radbq radci radgy radrad radsv radmsv radusv radrem radexpckg radr radsvh radmsvh radusvh",
    "Rotational Speed": "rotrpm rothz rotrads rotdegs",
    "Temperature": "celsius fahrenheit kelvin",
    "Time": "hertz ns \u00b5s ms s m h d dtdurationms dtdurations dthms dtdhms timeticks clockms clocks",
    "Throughput": "cps ops reqps rps wps iops cpm opm rpm wpm",
    "Velocity": "velocityms velocitykmh velocitymph velocityknot",
    "Volume": "mlitre litre m3 Nm3 dm3 gallons",
}

#: Every unit id Grafana formats by name.
UNIT_IDS: frozenset[str] = frozenset(u for ids in _BY_CATEGORY.values() for u in ids.split()) | {"farenheit"}

#: `prefix:<text>` etc.: custom units Grafana formats by rule (suffix text, SI scaling, ...).
CUSTOM_PREFIXES = ("prefix:", "suffix:", "time:", "si:", "count:", "currency:", "bool:")


def is_unit(unit: str) -> bool:
    return unit in UNIT_IDS or any(unit.startswith(p) and len(unit) > len(p) for p in CUSTOM_PREFIXES)


def suggestions(unit: str, n: int = 3) -> list[str]:
    """The closest known ids, for the error message ("percentage" -> percent, percentunit)."""
    import difflib

    return difflib.get_close_matches(unit, sorted(UNIT_IDS), n=n, cutoff=0.5)
