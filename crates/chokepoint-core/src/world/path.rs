//! Piecewise-linear growth indices over years.

use crate::dataset::tables::DemandOverride;

/// A piecewise-linear index through (year, value) points, relative to `base_year`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Path {
    /// (year, value), in year order.
    pub(crate) points: Vec<(f64, f64)>,
}

impl Path {
    pub(crate) fn value(&self, year: f64) -> f64 {
        let p = &self.points;
        if p.is_empty() {
            return 1.0;
        }
        if year <= p[0].0 {
            return p[0].1;
        }
        for w in p.windows(2) {
            if year <= w[1].0 {
                let t = (year - w[0].0) / (w[1].0 - w[0].0);
                return w[0].1 + t * (w[1].1 - w[0].1);
            }
        }
        p[p.len() - 1].1
    }

    /// The path divided by its value at `year` (so it is 1 there).
    pub(crate) fn relative_to(mut self, year: f64) -> Self {
        let v = self.value(year);
        if v > 0.0 {
            for point in &mut self.points {
                point.1 /= v;
            }
        }
        self
    }
}

impl Path {
    /// Sets the value at `year` (replacing a point of that year).
    pub(crate) fn set(&mut self, year: f64, value: f64) {
        self.points.retain(|p| p.0 != year);
        self.points.push((year, value));
        self.points.sort_by(|a, b| a.0.total_cmp(&b.0));
    }

    /// Applies `model/demand_overrides.csv` rows (in year order): `level` sets the year's
    /// value, `growth` sets it to the previous year's value times the ratio.
    pub(crate) fn apply(&mut self, rules: &[&DemandOverride]) {
        let mut rules: Vec<&&DemandOverride> = rules.iter().collect();
        rules.sort_by_key(|o| o.year);
        for o in rules {
            let year = f64::from(o.year);
            let value = if o.rule == "growth" {
                self.value(year - 1.0) * o.value
            } else {
                o.value
            };
            self.set(year, value);
        }
    }
}
