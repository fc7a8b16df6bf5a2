//! Linear inverse demand and supply curves and the clearing of one isolated market.

/// A curve parameter that cannot describe a market.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CurveError {
    /// A parameter is NaN or infinite.
    #[error("{name} must be a finite number, got {value}")]
    NotFinite {
        /// Parameter name.
        name: &'static str,
        /// The offending value.
        value: f64,
    },
    /// A slope or capacity is negative.
    #[error("{name} must be non-negative, got {value}")]
    Negative {
        /// Parameter name.
        name: &'static str,
        /// The offending value.
        value: f64,
    },
}

fn finite(name: &'static str, value: f64) -> Result<f64, CurveError> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(CurveError::NotFinite { name, value })
    }
}

fn non_negative(name: &'static str, value: f64) -> Result<f64, CurveError> {
    let value = finite(name, value)?;
    if value < 0.0 {
        Err(CurveError::Negative { name, value })
    } else {
        Ok(value)
    }
}

/// Linear inverse demand `p = a − b·q` (price in currency per unit, quantity in units).
///
/// `b = 0` is perfectly elastic demand at price `a`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinearDemand {
    /// Choke price `a`: the price at which demand falls to zero.
    pub intercept: f64,
    /// Slope `b ≥ 0`: price fall per extra unit demanded.
    pub slope: f64,
}

impl LinearDemand {
    /// A demand curve `p = intercept − slope·q`; the slope must be non-negative and finite.
    pub fn new(intercept: f64, slope: f64) -> Result<Self, CurveError> {
        Ok(Self {
            intercept: finite("demand intercept", intercept)?,
            slope: non_negative("demand slope", slope)?,
        })
    }

    /// Willingness to pay for the marginal unit at quantity `q`.
    pub fn price(&self, q: f64) -> f64 {
        self.intercept - self.slope * q
    }
}

/// Linear inverse supply `p = c + d·q`, optionally capped at a capacity.
///
/// `d = 0` is perfectly elastic supply at price `c` (up to the capacity).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinearSupply {
    /// Price `c` at which the first unit is offered.
    pub intercept: f64,
    /// Slope `d ≥ 0`: price rise per extra unit supplied.
    pub slope: f64,
    /// Maximum quantity that can be supplied, if any.
    pub capacity: Option<f64>,
}

impl LinearSupply {
    /// A supply curve `p = intercept + slope·q` with an optional capacity.
    pub fn new(intercept: f64, slope: f64, capacity: Option<f64>) -> Result<Self, CurveError> {
        Ok(Self {
            intercept: finite("supply intercept", intercept)?,
            slope: non_negative("supply slope", slope)?,
            capacity: capacity
                .map(|c| non_negative("supply capacity", c))
                .transpose()?,
        })
    }

    /// Marginal cost of the unit at quantity `q`.
    pub fn price(&self, q: f64) -> f64 {
        self.intercept + self.slope * q
    }
}

/// The clearing point of one isolated market.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IsolatedEquilibrium {
    /// Quantity traded, in the curves' quantity unit.
    pub quantity: f64,
    /// Price paid by buyers, in the curves' price unit.
    pub price: f64,
    /// Scarcity rent per unit when the capacity binds (price minus marginal cost), else 0.
    pub capacity_rent: f64,
}

/// Clears one market without trade: the quantity where demand price equals supply price,
/// or zero when the choke price is below the first unit's cost, or the capacity when it binds.
///
/// When both curves are flat at the same price the quantity is not determined; the smallest
/// market-clearing quantity (zero) is returned.
pub fn clear_isolated(demand: &LinearDemand, supply: &LinearSupply) -> IsolatedEquilibrium {
    let gap = demand.intercept - supply.intercept;
    if gap <= 0.0 {
        return IsolatedEquilibrium {
            quantity: 0.0,
            // Any price between the choke price and the first unit's cost clears an empty
            // market; report the supply side's reservation price.
            price: supply.intercept,
            capacity_rent: 0.0,
        };
    }
    let slopes = demand.slope + supply.slope;
    let unconstrained = if slopes > 0.0 {
        gap / slopes
    } else {
        f64::INFINITY
    };
    match supply.capacity {
        Some(cap) if cap < unconstrained => {
            let price = demand.price(cap);
            IsolatedEquilibrium {
                quantity: cap,
                price,
                capacity_rent: price - supply.price(cap),
            }
        }
        _ => IsolatedEquilibrium {
            quantity: unconstrained,
            price: demand.price(unconstrained),
            capacity_rent: 0.0,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn textbook_market_clears_where_curves_cross() {
        // Pindyck & Rubinfeld style: Qd = 20 - 2P and Qs = -4 + 2P cross at P = 6, Q = 8.
        // Inverse: p = 10 - 0.5 q and p = 2 + 0.5 q.
        let d = LinearDemand::new(10.0, 0.5).unwrap();
        let s = LinearSupply::new(2.0, 0.5, None).unwrap();
        let eq = clear_isolated(&d, &s);
        assert!((eq.quantity - 8.0).abs() < 1e-12);
        assert!((eq.price - 6.0).abs() < 1e-12);
        assert_eq!(eq.capacity_rent, 0.0);
    }

    #[test]
    fn binding_capacity_raises_price_and_earns_rent() {
        let d = LinearDemand::new(10.0, 0.5).unwrap();
        let s = LinearSupply::new(2.0, 0.5, Some(6.0)).unwrap();
        let eq = clear_isolated(&d, &s);
        assert!((eq.quantity - 6.0).abs() < 1e-12);
        assert!((eq.price - 7.0).abs() < 1e-12);
        assert!((eq.capacity_rent - 2.0).abs() < 1e-12);
    }

    #[test]
    fn no_trade_when_choke_price_below_cost() {
        let d = LinearDemand::new(5.0, 1.0).unwrap();
        let s = LinearSupply::new(6.0, 1.0, None).unwrap();
        let eq = clear_isolated(&d, &s);
        assert_eq!(eq.quantity, 0.0);
    }

    #[test]
    fn perfectly_elastic_supply_sets_the_price() {
        let d = LinearDemand::new(10.0, 1.0).unwrap();
        let s = LinearSupply::new(4.0, 0.0, None).unwrap();
        let eq = clear_isolated(&d, &s);
        assert!((eq.price - 4.0).abs() < 1e-12);
        assert!((eq.quantity - 6.0).abs() < 1e-12);
    }

    #[test]
    fn rejects_negative_slopes_and_nan() {
        assert!(matches!(
            LinearDemand::new(1.0, -1.0),
            Err(CurveError::Negative { .. })
        ));
        assert!(matches!(
            LinearSupply::new(f64::NAN, 1.0, None),
            Err(CurveError::NotFinite { .. })
        ));
    }
}
