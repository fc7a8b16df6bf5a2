//! Helpers shared by the core's integration tests.
#![allow(dead_code)]

use std::path::Path;

use chokepoint_core::Dataset;
use chokepoint_core::dataset::EMBEDDED_FILES;

/// Writes the embedded tables into `dir` (an editable copy, as `chokepoint data export` does).
pub fn export_to(dir: &Path) {
    for (file, text) in EMBEDDED_FILES {
        let path = dir.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

/// The dataset with the coarse region file `model/regions_minimal.csv`: the same data, fewer
/// routes, quick solves.
pub fn minimal_dataset() -> Dataset {
    let dir = tempfile::tempdir().unwrap();
    export_to(dir.path());
    let minimal = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/model/regions_minimal.csv"),
    )
    .unwrap();
    std::fs::write(dir.path().join("model/regions.csv"), minimal).unwrap();
    Dataset::load_dir(dir.path()).unwrap()
}
