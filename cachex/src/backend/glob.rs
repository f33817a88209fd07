//! Redis's glob matching (`KEYS`, `SCAN MATCH`), byte for byte, so that the in-memory backend
//! selects exactly the keys a server would: `*`, `?`, `[abc]`, `[^a]`, `[a-z]`, `\x`.

/// Whether `text` matches the Redis glob `pattern`.
pub(crate) fn matches(pattern: &[u8], text: &[u8]) -> bool {
    // Backtracking point of the last `*`: where the pattern resumes, and where the text does.
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match step(pattern, p, text[t]) {
            Step::Star => {
                star = Some((p + 1, t));
                p += 1;
                continue;
            }
            Step::Matched(next) => {
                p = next;
                t += 1;
                continue;
            }
            Step::Failed => {}
        }
        match star {
            Some((resume, from)) => {
                p = resume;
                t = from + 1;
                star = Some((resume, from + 1));
            }
            None => return false,
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

enum Step {
    /// A `*` at this position.
    Star,
    /// The byte matched; the pattern goes on at this position.
    Matched(usize),
    Failed,
}

/// Matches one byte of text against the pattern element at `p`.
fn step(pattern: &[u8], p: usize, byte: u8) -> Step {
    match pattern.get(p) {
        None => Step::Failed,
        Some(b'*') => Step::Star,
        Some(b'?') => Step::Matched(p + 1),
        Some(b'[') => class(pattern, p + 1, byte),
        Some(b'\\') if p + 1 < pattern.len() => {
            if pattern[p + 1] == byte {
                Step::Matched(p + 2)
            } else {
                Step::Failed
            }
        }
        Some(&literal) if literal == byte => Step::Matched(p + 1),
        Some(_) => Step::Failed,
    }
}

/// A `[...]` class starting after its `[`; as in Redis, an unclosed class runs to the end.
fn class(pattern: &[u8], mut p: usize, byte: u8) -> Step {
    let negated = pattern.get(p) == Some(&b'^');
    if negated {
        p += 1;
    }
    let mut hit = false;
    loop {
        match pattern.get(p) {
            None => break,
            Some(b']') => {
                p += 1;
                break;
            }
            Some(b'\\') if p + 1 < pattern.len() => {
                hit |= pattern[p + 1] == byte;
                p += 2;
            }
            Some(&low) if pattern.get(p + 1) == Some(&b'-') && p + 2 < pattern.len() => {
                let high = pattern[p + 2];
                let (low, high) = if low <= high {
                    (low, high)
                } else {
                    (high, low)
                };
                hit |= (low..=high).contains(&byte);
                p += 3;
            }
            Some(&c) => {
                hit |= c == byte;
                p += 1;
            }
        }
    }
    if hit != negated {
        Step::Matched(p)
    } else {
        Step::Failed
    }
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn redis_glob_semantics() {
        let cases: &[(&str, &str, bool)] = &[
            ("*", "", true),
            ("*", "anything", true),
            ("h?llo", "hello", true),
            ("h?llo", "hllo", false),
            ("h*llo", "heeeello", true),
            ("h*llo", "hllo", true),
            ("h[ae]llo", "hallo", true),
            ("h[ae]llo", "hillo", false),
            ("h[^e]llo", "hallo", true),
            ("h[^e]llo", "hello", false),
            ("h[a-b]llo", "hbllo", true),
            ("h[b-a]llo", "hallo", true),
            ("h[a-b]llo", "hcllo", false),
            (r"h\*llo", "h*llo", true),
            (r"h\*llo", "hello", false),
            (r"p\[x\]:1:*", "p[x]:1:k", true),
            (r"p\[x\]:1:*", "px:1:k", false),
            ("a*b*c", "axxbyyc", true),
            ("a*b*c", "axxbyy", false),
            ("*:1:*", "p:1:k", true),
            ("[\\]]", "]", true),
        ];
        for (pattern, text, expected) in cases {
            assert_eq!(
                matches(pattern.as_bytes(), text.as_bytes()),
                *expected,
                "{pattern:?} ~ {text:?}"
            );
        }
    }
}
