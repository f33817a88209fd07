//! The text of cache URLs, shared by the cache layer (query options) and the server backend
//! (user names, passwords, socket paths, service names): percent-decoding that refuses broken
//! escapes, percent-encoding for showing a value again, and the closest known name to a
//! misspelled one. No knowledge of any option or scheme here.

/// Decodes the `%XX` escapes of `text` (RFC 3986; a `+` stays a `+`). `Err` says why the text
/// is refused, without quoting it (it may be a password): a `%` not followed by two hex digits,
/// or bytes that are not UTF-8 once decoded.
pub(crate) fn percent_decode(text: &str) -> Result<String, &'static str> {
    if !text.contains('%') {
        return Ok(text.to_owned());
    }
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        if byte != b'%' {
            decoded.push(byte);
            index += 1;
            continue;
        }
        let escaped = bytes
            .get(index + 1..index + 3)
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .filter(|hex| hex.bytes().all(|digit| digit.is_ascii_hexdigit()))
            .and_then(|hex| u8::from_str_radix(hex, 16).ok())
            .ok_or("has a broken %-escape (a % must be followed by two hex digits; %25 is a %)")?;
        decoded.push(escaped);
        index += 3;
    }
    String::from_utf8(decoded).map_err(|_| "is not UTF-8 once its %-escapes are decoded")
}

/// The characters besides letters and digits that a URL's userinfo keeps unescaped: RFC 3986's
/// unreserved ones.
#[cfg(feature = "redis")]
pub(crate) const UNRESERVED: &[u8] = b"-._~";

/// The characters besides letters and digits that a path keeps unescaped.
#[cfg(feature = "redis")]
pub(crate) const PATH: &[u8] = b"-._~/";

/// The characters besides letters and digits that a query's values keep unescaped: all that
/// RFC 3986 allows there but `&`, `=`, `+` (a space in HTML forms) and `#`.
pub(crate) const QUERY_VALUE: &[u8] = b"-._~:/@!$'()*,;?";

/// `text` with every character but letters, digits and `keep` escaped as `%XX` (UTF-8), so
/// that [`percent_decode`] gives `text` back.
pub(crate) fn percent_encode(text: &str, keep: &[u8]) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || keep.contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// A database number, as a URL's path or its `db` option writes it: digits only. `Err` names
/// the bad text.
#[cfg(feature = "redis")]
pub(crate) fn database(text: &str) -> Result<i64, String> {
    text.parse::<i64>()
        .ok()
        .filter(|_| text.bytes().all(|byte| byte.is_ascii_digit()))
        .ok_or_else(|| format!("the database {text:?} is not a number (0, 1, ...)"))
}

/// The name of `known` closest to `name`, if one is close enough to be what was meant: at most
/// a third of its letters changed (an insertion, a deletion, a substitution or two swapped
/// neighbours count one each, letter case aside), and never more than three. Among names
/// equally close, the one closest in case wins, then the first.
pub(crate) fn closest<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lowercase = name.to_ascii_lowercase();
    known
        .into_iter()
        .map(|candidate| {
            let distance = edit_distance(&lowercase, &candidate.to_ascii_lowercase());
            (distance, candidate)
        })
        .filter(|(distance, candidate)| {
            *distance <= 3 && *distance * 3 <= name.len().max(candidate.len())
        })
        // Case decides between names equally close but for it.
        .min_by_key(|(distance, candidate)| (*distance, edit_distance(name, candidate)))
        .map(|(_, candidate)| candidate)
}

/// The edit distance between `a` and `b` (optimal string alignment: insertions, deletions,
/// substitutions and transpositions of neighbours, on bytes).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    // Three rows of the table: two rows back (for transpositions), the last, the current.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut last: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, &a_byte) in a.iter().enumerate() {
        current[0] = i + 1;
        for (j, &b_byte) in b.iter().enumerate() {
            let substitution = last[j] + usize::from(a_byte != b_byte);
            let mut best = substitution.min(last[j + 1] + 1).min(current[j] + 1);
            if i > 0 && j > 0 && a_byte == b[j - 1] && a[i - 1] == b_byte {
                best = best.min(before[j - 1] + 1);
            }
            current[j + 1] = best;
        }
        std::mem::swap(&mut before, &mut last);
        std::mem::swap(&mut last, &mut current);
    }
    last[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding_refuses_broken_escapes() {
        assert_eq!(percent_decode("%7Bapp%7D").as_deref(), Ok("{app}"));
        assert_eq!(percent_decode("caf%C3%A9").as_deref(), Ok("café"));
        assert_eq!(percent_decode("a+b%2b").as_deref(), Ok("a+b+"));
        assert_eq!(percent_decode("plain").as_deref(), Ok("plain"));
        for broken in ["%zz", "app%", "%4", "%+1", "%C3"] {
            assert!(percent_decode(broken).is_err(), "{broken}");
        }
    }

    #[test]
    fn encoding_round_trips() {
        for text in [
            "{app}",
            "shop:eu",
            "café",
            "a&b=c d+e%f#g",
            "/etc/ca.pem",
            "",
        ] {
            let encoded = percent_encode(text, QUERY_VALUE);
            assert!(
                !encoded.contains(['&', '=', '+', '#', ' ', '{']),
                "{encoded}"
            );
            assert_eq!(percent_decode(&encoded).as_deref(), Ok(text));
        }
        assert_eq!(percent_encode("{app}", QUERY_VALUE), "%7Bapp%7D");
        #[cfg(feature = "redis")]
        {
            assert_eq!(percent_encode("u:s@r/", UNRESERVED), "u%3As%40r%2F");
            assert_eq!(
                percent_encode("/run/my redis.sock", PATH),
                "/run/my%20redis.sock"
            );
        }
    }

    #[test]
    fn the_closest_name_is_suggested_when_close_enough() {
        let known = ["prefix", "timeout", "serializer", "response_timeout", "db"];
        for (typo, meant) in [
            ("prefx", Some("prefix")),
            ("timout", Some("timeout")),
            ("serialiser", Some("serializer")),
            ("respone_timeout", Some("response_timeout")),
            ("TIMEOUT", Some("timeout")),
            ("perfix", Some("prefix")),
            ("colour", None),
            ("x", None),
        ] {
            assert_eq!(closest(typo, known), meant, "{typo}");
        }
        assert_eq!(edit_distance("ab", "ba"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
