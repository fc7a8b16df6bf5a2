//! Dates in scenario files: `2026`, `2026Q1`, `2026-01` or `2026-01-06`, read as decimal years
//! (2026-01-06 is 2026 + 5/365).

/// Reads a date into a decimal year, or says what is wrong with it.
pub fn parse_date(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let bad = || format!("'{t}' is not a date: write 2026, 2026Q1, 2026-01 or 2026-01-06");
    let year = |s: &str| -> Result<i32, String> {
        let y: i32 = s.parse().map_err(|_| bad())?;
        if (1900..=2200).contains(&y) {
            Ok(y)
        } else {
            Err(format!("year {y} is outside 1900–2200"))
        }
    };
    if let Some((y, q)) = t.split_once(['Q', 'q']) {
        let y = year(y)?;
        let q: u32 = q.parse().map_err(|_| bad())?;
        if !(1..=4).contains(&q) {
            return Err(format!("quarter {q} is not 1–4"));
        }
        return Ok(f64::from(y) + f64::from(q - 1) / 4.0);
    }
    let parts: Vec<&str> = t.split('-').collect();
    match parts[..] {
        [y] => Ok(f64::from(year(y)?)),
        [y, m] => {
            let y = year(y)?;
            let m: u32 = m.parse().map_err(|_| bad())?;
            if !(1..=12).contains(&m) {
                return Err(format!("month {m} is not 1–12"));
            }
            Ok(f64::from(y) + f64::from(m - 1) / 12.0)
        }
        [y, m, d] => {
            let y = year(y)?;
            let m: u32 = m.parse().map_err(|_| bad())?;
            let d: u32 = d.parse().map_err(|_| bad())?;
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            let lengths = [
                31,
                if leap { 29 } else { 28 },
                31,
                30,
                31,
                30,
                31,
                31,
                30,
                31,
                30,
                31,
            ];
            if !(1..=12).contains(&m) {
                return Err(format!("month {m} is not 1–12"));
            }
            let len = lengths[(m - 1) as usize];
            if !(1..=len).contains(&d) {
                return Err(format!("day {d} is not in month {m} (1–{len})"));
            }
            let before: u32 = lengths[..(m - 1) as usize].iter().sum();
            let days: u32 = lengths.iter().sum();
            Ok(f64::from(y) + f64::from(before + d - 1) / f64::from(days))
        }
        _ => Err(bad()),
    }
}

/// The quarter label (`2026Q1`) of a decimal year.
pub fn quarter_label(t: f64) -> String {
    let y = t.floor();
    let q = ((t - y) * 4.0).floor() as i32 + 1;
    format!("{}Q{}", y as i32, q.clamp(1, 4))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_as_decimal_years() {
        assert_eq!(parse_date("2026").unwrap(), 2026.0);
        assert_eq!(parse_date("2026Q3").unwrap(), 2026.5);
        assert_eq!(parse_date("2026-07").unwrap(), 2026.5);
        assert!((parse_date("2026-01-06").unwrap() - (2026.0 + 5.0 / 365.0)).abs() < 1e-12);
        assert!((parse_date("2024-03-01").unwrap() - (2024.0 + 60.0 / 366.0)).abs() < 1e-12);
        for bad in [
            "2026Q5",
            "2026-13",
            "2026-02-30",
            "next year",
            "",
            "99999",
            "2026-1-1-1",
        ] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
        assert_eq!(quarter_label(2026.625), "2026Q3");
    }
}
