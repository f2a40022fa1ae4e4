//! Scenario-id globs: `*` any run of characters, `?` one character.

/// Whether `id` matches `pattern`.
pub fn matches(pattern: &str, id: &str) -> bool {
    let (p, s): (Vec<char>, Vec<char>) = (pattern.chars().collect(), id.chars().collect());
    // Classic two-pointer wildcard matching with backtracking to the last `*`.
    let (mut i, mut j, mut star, mut mark) = (0, 0, None, 0);
    while j < s.len() {
        if i < p.len() && (p[i] == '?' || p[i] == s[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some(i);
            i += 1;
            mark = j;
        } else if let Some(st) = star {
            i = st + 1;
            mark += 1;
            j = mark;
        } else {
            return false;
        }
    }
    p[i..].iter().all(|c| *c == '*')
}

/// Whether `id` matches any of the comma-separated patterns (empty: everything).
pub fn matches_any(patterns: &[String], id: &str) -> bool {
    patterns.is_empty() || patterns.iter().any(|p| matches(p, id))
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn globs() {
        assert!(matches("login.*", "login.code-flow"));
        assert!(matches("*.alg-*", "idtoken.alg-none"));
        assert!(matches("idtoken.alg-non?", "idtoken.alg-none"));
        assert!(!matches("login.*", "idtoken.alg-none"));
        assert!(!matches("login", "login.scopes"));
        assert!(matches("*", ""));
    }
}
