//! Handles: `@` plus a slug of the name, unique, at most 30 characters after
//! the `@`.

use super::slug;

pub const MAX_LEN: usize = 30;

/// The slug a handle is made from: `user` when the name leaves nothing.
pub fn base(name: &str) -> String {
    let s = slug::slugify(name);
    let s = if s.is_empty() { "user".to_owned() } else { s };
    s[..s.len().min(MAX_LEN)].trim_end_matches('_').to_owned()
}

/// The `n`-th candidate handle for a base (1 is the base itself).
pub fn candidate(base: &str, n: u32) -> String {
    format!("@{}", slug::numbered(base, n, MAX_LEN))
}

/// Every candidate for `base` below this number starts with
/// [`search_prefix`], so one query can find all that are taken.
pub const MAX_SUFFIX: u32 = 99_999;

/// A prefix shared by all candidates of `base` up to [`MAX_SUFFIX`].
pub fn search_prefix(base: &str) -> String {
    let keep = base.len().min(MAX_LEN - 6);
    format!("@{}", base[..keep].trim_end_matches('_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handle_is_at_sign_plus_slug_of_the_name() {
        assert_eq!(candidate(&base("Ada Lovelace"), 1), "@ada_lovelace");
    }

    #[test]
    fn handle_is_user_when_the_name_leaves_nothing() {
        assert_eq!(candidate(&base("日本 !!"), 1), "@user");
    }

    #[test]
    fn handle_is_at_most_30_characters_after_the_at_sign() {
        let name = "a very long name that goes on and on and on";
        for n in [1, 2, 10, 12345] {
            let h = candidate(&base(name), n);
            assert!(h.len() <= MAX_LEN + 1, "{h}");
            assert!(h.starts_with(&search_prefix(&base(name))), "{h}");
        }
    }

    #[test]
    fn handle_suffix_makes_it_unique() {
        assert_eq!(candidate("ada", 2), "@ada_2");
        assert_eq!(candidate("ada", 3), "@ada_3");
    }
}
