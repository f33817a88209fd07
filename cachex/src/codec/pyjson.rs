//! JSON text exactly as Python's `json.dumps` writes it with its defaults, which is what
//! django-cachex's `JSONSerializer` stores: `", "` and `": "` separators, every character
//! outside printable ASCII escaped as `\uXXXX` (UTF-16 surrogate pairs above U+FFFF), and
//! floats in `repr` form (`1e+16`, `1e-05`, `100.0`).

use std::io;

use serde::Serialize;
use serde_json::ser::Formatter;

/// `value` as Python's `json.dumps(value)` would write it (for plain data; non-finite floats,
/// which serde_json refuses to write as numbers, become `null`).
pub(super) fn to_vec<V: Serialize + ?Sized>(value: &V) -> serde_json::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(128);
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, PythonFormatter);
    value.serialize(&mut serializer)?;
    Ok(out)
}

/// serde_json formatter producing Python's default `json.dumps` layout.
struct PythonFormatter;

impl Formatter for PythonFormatter {
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }

    fn write_f32<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f32) -> io::Result<()> {
        writer.write_all(python_float(&format!("{value:e}")).as_bytes())
    }

    fn write_f64<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f64) -> io::Result<()> {
        writer.write_all(python_float(&format!("{value:e}")).as_bytes())
    }

    /// serde_json escapes `"`, `\` and the controls below U+0020 itself (as Python does, with
    /// lowercase hex); the fragments between them still hold DEL and non-ASCII characters,
    /// which Python's `ensure_ascii` escapes.
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        // The usual fragment is printable ASCII (serde_json escaped the controls): written as
        // it is, after two word-at-a-time scans (no per-character decoding).
        if fragment.is_ascii() && !fragment.contains('\x7f') {
            return writer.write_all(fragment.as_bytes());
        }
        let mut start = 0;
        for (index, c) in fragment.char_indices() {
            if (' '..='~').contains(&c) {
                continue;
            }
            writer.write_all(fragment.as_bytes().get(start..index).unwrap_or_default())?;
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                write!(writer, "\\u{unit:04x}")?;
            }
            start = index + c.len_utf8();
        }
        writer.write_all(fragment.as_bytes().get(start..).unwrap_or_default())
    }
}

/// Python's `repr(float)` from Rust's shortest round-trip scientific form (`{:e}`: `1.5e-7`,
/// `-1e16`, `0e0`). Both pick the shortest digit string that reads back to the same float;
/// Python then writes positional notation when the decimal exponent is in `-4..16`, and
/// otherwise `d.ddde±XX` with at least two exponent digits.
fn python_float(scientific: &str) -> String {
    let (negative, unsigned) = match scientific.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, scientific),
    };
    let (mantissa, exponent) = unsigned.split_once('e').unwrap_or((unsigned, "0"));
    let exponent: i64 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let mut out = String::with_capacity(digits.len() + 8);
    if negative {
        out.push('-');
    }
    if !(-4..16).contains(&exponent) {
        let (first, rest) = digits.split_at(1.min(digits.len()));
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        out.push_str(if exponent < 0 { "e-" } else { "e+" });
        out.push_str(&format!("{:02}", exponent.unsigned_abs()));
    } else if exponent < 0 {
        out.push_str("0.");
        for _ in 1..exponent.unsigned_abs() {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        // The decimal point goes after `exponent + 1` digits.
        let point = usize::try_from(exponent + 1).unwrap_or(0);
        if point >= digits.len() {
            out.push_str(&digits);
            for _ in digits.len()..point {
                out.push('0');
            }
            out.push_str(".0");
        } else {
            let (whole, fraction) = digits.split_at(point);
            out.push_str(whole);
            out.push('.');
            out.push_str(fraction);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn py(value: f64) -> String {
        python_float(&format!("{value:e}"))
    }

    #[test]
    fn floats_as_python_repr() {
        let cases = [
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (-2.25, "-2.25"),
            (0.1, "0.1"),
            (100.0, "100.0"),
            (123456789.125, "123456789.125"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (0.0001, "0.0001"),
            (0.00012, "0.00012"),
            (1e-5, "1e-05"),
            (-1.25e-7, "-1.25e-07"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
            (123456789012345680.0, "1.2345678901234568e+17"),
        ];
        for (value, text) in cases {
            assert_eq!(py(value), text, "{value:?}");
        }
    }

    #[test]
    fn layout_and_escapes_as_python() {
        let value = serde_json::json!({"a": [1, 2.5, "é😀\u{7f}\u{1}\n\"\\/"], "b": {}, "c": []});
        let text = String::from_utf8(to_vec(&value).expect("serializes")).expect("utf-8");
        assert_eq!(
            text,
            r#"{"a": [1, 2.5, "\u00e9\ud83d\ude00\u007f\u0001\n\"\\/"], "b": {}, "c": []}"#
        );
    }
}
