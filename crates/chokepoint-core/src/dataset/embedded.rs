//! The repository's `data/` tables, compiled into the binary.
//!
//! A user who installs only the binary has the whole default dataset; tests validate it.

/// Every table of the dataset: (file name, CSV text), in the order they are documented.
pub const EMBEDDED_FILES: &[(&str, &str)] = &[
    ("sources.csv", include_str!("../../../../data/sources.csv")),
    ("units.csv", include_str!("../../../../data/units.csv")),
    (
        "commodities.csv",
        include_str!("../../../../data/commodities.csv"),
    ),
    ("stages.csv", include_str!("../../../../data/stages.csv")),
    (
        "countries.csv",
        include_str!("../../../../data/countries.csv"),
    ),
    (
        "country_aliases.csv",
        include_str!("../../../../data/country_aliases.csv"),
    ),
    ("groups.csv", include_str!("../../../../data/groups.csv")),
    ("sectors.csv", include_str!("../../../../data/sectors.csv")),
    ("supply.csv", include_str!("../../../../data/supply.csv")),
    ("demand.csv", include_str!("../../../../data/demand.csv")),
    ("prices.csv", include_str!("../../../../data/prices.csv")),
    (
        "us_salient.csv",
        include_str!("../../../../data/us_salient.csv"),
    ),
    (
        "import_reliance.csv",
        include_str!("../../../../data/import_reliance.csv"),
    ),
    (
        "governance.csv",
        include_str!("../../../../data/governance.csv"),
    ),
    ("usgs_t5.csv", include_str!("../../../../data/usgs_t5.csv")),
    ("facts.csv", include_str!("../../../../data/facts.csv")),
    (
        "assumptions.csv",
        include_str!("../../../../data/assumptions.csv"),
    ),
    (
        "model/regions.csv",
        include_str!("../../../../data/model/regions.csv"),
    ),
    (
        "model/goods.csv",
        include_str!("../../../../data/model/goods.csv"),
    ),
    (
        "model/inputs.csv",
        include_str!("../../../../data/model/inputs.csv"),
    ),
    (
        "model/base_year.csv",
        include_str!("../../../../data/model/base_year.csv"),
    ),
    (
        "model/demand_overrides.csv",
        include_str!("../../../../data/model/demand_overrides.csv"),
    ),
    (
        "model/stockpiles.csv",
        include_str!("../../../../data/model/stockpiles.csv"),
    ),
    (
        "model/plants.csv",
        include_str!("../../../../data/model/plants.csv"),
    ),
    (
        "model/projects.csv",
        include_str!("../../../../data/model/projects.csv"),
    ),
    (
        "model/end_uses.csv",
        include_str!("../../../../data/model/end_uses.csv"),
    ),
    (
        "model/companies.csv",
        include_str!("../../../../data/model/companies.csv"),
    ),
    (
        "model/criticality_eu.csv",
        include_str!("../../../../data/model/criticality_eu.csv"),
    ),
    (
        "model/criticality_trade.csv",
        include_str!("../../../../data/model/criticality_trade.csv"),
    ),
    (
        "model/criticality_usgs.csv",
        include_str!("../../../../data/model/criticality_usgs.csv"),
    ),
    (
        "model/industry_accounts.csv",
        include_str!("../../../../data/model/industry_accounts.csv"),
    ),
];
