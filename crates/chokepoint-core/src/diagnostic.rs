//! Located diagnostics: what is wrong, where (file:line:col), and a hint for the fix.

use std::fmt;

/// A place in an input file. Lines and columns are 1-based; columns count characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Location {
    /// The file as the user would name it (a path, or `<embedded>/table.csv`).
    pub file: String,
    /// 1-based line number.
    pub line: u32,
    /// 1-based character column.
    pub col: u32,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.col)
    }
}

/// One problem found in an input, with its place and a hint.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    /// Where the problem is.
    pub location: Location,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: error: {}\n  hint: {}",
            self.location, self.message, self.hint
        )
    }
}

/// The 1-based character column at which field `field` (0-based) starts in a CSV `line`.
///
/// Quotes are honoured, so a comma inside a quoted field does not start a new field. A field
/// index past the end of the line gives the column just after the line.
pub(crate) fn field_column(line: &str, field: usize) -> u32 {
    let mut current = 0usize;
    let mut in_quotes = false;
    for (chars, (_, c)) in line.char_indices().enumerate() {
        if current == field {
            return chars as u32 + 1;
        }
        match c {
            '"' => in_quotes = !in_quotes,
            ',' if !in_quotes => current += 1,
            _ => {}
        }
    }
    line.chars().count() as u32 + 1
}

/// Words from `known` close to `wanted` (by normalised Levenshtein similarity), best first.
pub fn nearest<'a, I>(wanted: &str, known: I) -> Vec<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let wanted = wanted.to_lowercase();
    let mut scored: Vec<(f64, &str)> = known
        .into_iter()
        .map(|k| {
            let lower = k.to_lowercase();
            let mut score = strsim::normalized_levenshtein(&wanted, &lower);
            if lower.starts_with(&wanted) || wanted.starts_with(&lower) {
                score = score.max(0.75);
            }
            (score, k)
        })
        .filter(|(score, _)| *score >= 0.5)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().take(3).map(|(_, k)| k).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_honour_quotes() {
        let line = r#"a,"b, still b",c"#;
        assert_eq!(field_column(line, 0), 1);
        assert_eq!(field_column(line, 1), 3);
        assert_eq!(field_column(line, 2), 16);
        assert_eq!(field_column(line, 9), 17);
    }

    #[test]
    fn nearest_finds_typos() {
        let known = ["cobalt", "copper", "lithium", "rare_earths"];
        assert_eq!(nearest("cobalot", known)[0], "cobalt");
        assert_eq!(nearest("rare_earth", known)[0], "rare_earths");
        assert!(nearest("zzzzzz", known).is_empty());
    }
}
