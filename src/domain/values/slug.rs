//! Slugs made from free text, shared by handles and workspace aliases.

/// Lower-case ASCII letters and digits are kept; every run of anything else
/// becomes one `_`; leading and trailing `_` are dropped.
pub fn slugify(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    out
}

/// `base` made unique by a number: the first candidate is `base` itself,
/// then `base_2`, `base_3`, ... with `base` cut so the whole stays within
/// `max` characters. `base` must be ASCII.
pub fn numbered(base: &str, n: u32, max: usize) -> String {
    if n <= 1 {
        return base[..base.len().min(max)].to_owned();
    }
    let suffix = format!("_{n}");
    let keep = max.saturating_sub(suffix.len()).min(base.len());
    let stem = base[..keep].trim_end_matches('_');
    format!("{stem}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slug_keeps_ascii_alphanumerics_and_joins_the_rest_with_underscores() {
        assert_eq!(slugify("Ada Lovelace"), "ada_lovelace");
        assert_eq!(slugify("  José--María!! "), "jos_mar_a");
        assert_eq!(slugify("R2-D2"), "r2_d2");
        assert_eq!(slugify("日本"), "");
    }

    #[test]
    fn numbered_candidates_stay_within_the_limit() {
        assert_eq!(numbered("ada", 1, 30), "ada");
        assert_eq!(numbered("ada", 2, 30), "ada_2");
        let long = "a".repeat(30);
        assert_eq!(numbered(&long, 12, 30).len(), 30);
        assert!(numbered(&long, 12, 30).ends_with("_12"));
    }
}
