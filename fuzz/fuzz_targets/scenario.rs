//! Fuzz target for the scenario reader and checker: any input must give a scenario or located
//! diagnostics, never a panic.
#![no_main]

use chokepoint_core::scenario::{Scenario, World, parse_scenario};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = parse_scenario(&text, "fuzz.toml");
    let mut world = World::new(
        &["CHN", "JPN", "USA", "COD"],
        &["dy_oxide", "co_mined"],
        &[260000.0, 33000.0],
    );
    if let Err(e) = Scenario::load(&text, "fuzz.toml", &mut world) {
        // Rendering the diagnostics exercises the source locations (line, column, excerpt).
        let _ = e.to_string();
    }
});
