//! Reading JSON with floats rounded correctly.
//!
//! serde_json, as this workspace builds it (without its `float_roundtrip` feature), may read a
//! float one unit in the last place off when it has 16 or more significant digits, which
//! Python's `repr` writes routinely (`0.30000000000000004`): a value Django stored would come
//! back as a different float. This parser reads JSON text into a [`serde_json::Value`] with
//! numbers parsed by the standard library (correctly rounded), then builds the requested type
//! from that value.
//!
//! It accepts what Python's `json.loads` accepts for plain data, except the `NaN`,
//! `Infinity` and `-Infinity` tokens and lone UTF-16 surrogates, which Rust values cannot
//! hold, and nesting deeper than 128 levels (serde_json's limit).

use serde::de::DeserializeOwned;
use serde_json::{Map, Number, Value};

use super::MAX_DEPTH;

/// `V` from the JSON text in `bytes`.
pub(super) fn from_slice<V: DeserializeOwned>(bytes: &[u8]) -> Result<V, String> {
    // Python decodes the whole payload as UTF-8 before parsing, so does this.
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8: {e}"))?;
    let mut parser = Parser {
        text: text.as_bytes(),
        at: 0,
        depth: 0,
    };
    parser.skip_whitespace();
    let value = parser.value()?;
    parser.skip_whitespace();
    if parser.at != parser.text.len() {
        return Err(parser.error("trailing characters"));
    }
    serde_json::from_value(value).map_err(|e| e.to_string())
}

struct Parser<'a> {
    /// Valid UTF-8: string contents are sliced at ASCII delimiters only.
    text: &'a [u8],
    at: usize,
    depth: usize,
}

impl Parser<'_> {
    fn error(&self, what: &str) -> String {
        format!("{what} at byte {}", self.at)
    }

    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn literal(&mut self, word: &[u8], value: Value) -> Result<Value, String> {
        if self.text.get(self.at..self.at + word.len()) == Some(word) {
            self.at += word.len();
            Ok(value)
        } else {
            Err(self.error("expected a value"))
        }
    }

    fn value(&mut self) -> Result<Value, String> {
        match self.peek() {
            Some(b'{') => self.nested(Self::object),
            Some(b'[') => self.nested(Self::array),
            Some(b'"') => self.string().map(Value::String),
            Some(b't') => self.literal(b"true", Value::Bool(true)),
            Some(b'f') => self.literal(b"false", Value::Bool(false)),
            Some(b'n') => self.literal(b"null", Value::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.error("expected a value")),
            None => Err(self.error("EOF while parsing a value")),
        }
    }

    fn nested(&mut self, parse: fn(&mut Self) -> Result<Value, String>) -> Result<Value, String> {
        if self.depth == MAX_DEPTH {
            return Err(self.error("recursion limit exceeded"));
        }
        self.depth += 1;
        let value = parse(self);
        self.depth -= 1;
        value
    }

    fn array(&mut self) -> Result<Value, String> {
        self.at += 1; // [
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.at += 1;
            return Ok(Value::Array(items));
        }
        loop {
            self.skip_whitespace();
            items.push(self.value()?);
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b']') => {
                    self.at += 1;
                    return Ok(Value::Array(items));
                }
                _ => return Err(self.error("expected `,` or `]`")),
            }
        }
    }

    fn object(&mut self) -> Result<Value, String> {
        self.at += 1; // {
        let mut map = Map::new();
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Ok(Value::Object(map));
        }
        loop {
            self.skip_whitespace();
            if self.peek() != Some(b'"') {
                return Err(self.error("expected a string key"));
            }
            let key = self.string()?;
            self.skip_whitespace();
            if self.peek() != Some(b':') {
                return Err(self.error("expected `:`"));
            }
            self.at += 1;
            self.skip_whitespace();
            // A repeated key keeps its last value, as in Python.
            map.insert(key, self.value()?);
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b'}') => {
                    self.at += 1;
                    return Ok(Value::Object(map));
                }
                _ => return Err(self.error("expected `,` or `}`")),
            }
        }
    }

    fn string(&mut self) -> Result<String, String> {
        self.at += 1; // "
        let mut out = String::new();
        loop {
            let start = self.at;
            while let Some(byte) = self.peek() {
                if byte == b'"' || byte == b'\\' || byte < 0x20 {
                    break;
                }
                self.at += 1;
            }
            let run = self.text.get(start..self.at).unwrap_or_default();
            out.push_str(std::str::from_utf8(run).map_err(|e| e.to_string())?);
            match self.peek() {
                Some(b'"') => {
                    self.at += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.at += 1;
                    self.escape(&mut out)?;
                }
                Some(_) => return Err(self.error("control character in a string")),
                None => return Err(self.error("EOF while parsing a string")),
            }
        }
    }

    fn escape(&mut self, out: &mut String) -> Result<(), String> {
        let Some(code) = self.peek() else {
            return Err(self.error("EOF while parsing a string"));
        };
        self.at += 1;
        let c = match code {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let first = self.hex4()?;
                let unit = if (0xD800..0xDC00).contains(&first) {
                    if self.text.get(self.at..self.at + 2) != Some(b"\\u") {
                        return Err(self.error("lone leading surrogate"));
                    }
                    self.at += 2;
                    let second = self.hex4()?;
                    if !(0xDC00..0xE000).contains(&second) {
                        return Err(self.error("invalid trailing surrogate"));
                    }
                    0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                } else {
                    first
                };
                char::from_u32(unit).ok_or_else(|| self.error("lone trailing surrogate"))?
            }
            _ => return Err(self.error("invalid escape")),
        };
        out.push(c);
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let digits = self
            .text
            .get(self.at..self.at + 4)
            .and_then(|d| std::str::from_utf8(d).ok())
            .filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| self.error("invalid \\u escape"))?;
        let unit = u32::from_str_radix(digits, 16).map_err(|e| e.to_string())?;
        self.at += 4;
        Ok(unit)
    }

    fn digits(&mut self) -> usize {
        let start = self.at;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.at += 1;
        }
        self.at - start
    }

    fn number(&mut self) -> Result<Value, String> {
        let start = self.at;
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.peek() {
            Some(b'0') => self.at += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.error("invalid number")),
        }
        let mut float = false;
        if self.peek() == Some(b'.') {
            self.at += 1;
            float = true;
            if self.digits() == 0 {
                return Err(self.error("invalid number"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            float = true;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.at += 1;
            }
            if self.digits() == 0 {
                return Err(self.error("invalid number"));
            }
        }
        let token = self.text.get(start..self.at).unwrap_or_default();
        let token = std::str::from_utf8(token).map_err(|e| e.to_string())?;
        if !float {
            if let Ok(n) = token.parse::<u64>() {
                return Ok(Value::Number(n.into()));
            }
            if let Ok(n) = token.parse::<i64>() {
                return Ok(Value::Number(n.into()));
            }
            // Beyond 64 bits: a float, as serde_json reads it.
        }
        let n: f64 = token.parse().map_err(|e| format!("{e} in {token:?}"))?;
        Number::from_f64(n)
            .map(Value::Number)
            .ok_or_else(|| self.error("number out of range"))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(text: &str) -> Result<Value, String> {
        from_slice(text.as_bytes())
    }

    #[test]
    fn reads_plain_data() {
        let text = r#" {"a": [1, -2, 2.5, -0.0, 1e+16, 1E-5, true, false, null, "x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"], "b": {}, "c": [], "a": 3}"#;
        let value = parse(text).expect("parses");
        assert_eq!(value, json!({"a": 3, "b": {}, "c": []}));
        let value = parse(&text.replace(r#", "a": 3"#, "")).expect("parses");
        assert_eq!(
            value["a"],
            json!([
                1,
                -2,
                2.5,
                -0.0,
                1e16,
                1e-5,
                true,
                false,
                null,
                "x\"\\/\u{8}\u{c}\n\r\té😀"
            ])
        );
        assert_eq!(parse("18446744073709551615").ok(), Some(json!(u64::MAX)));
        assert_eq!(parse("-9223372036854775808").ok(), Some(json!(i64::MIN)));
        assert_eq!(
            parse("18446744073709551616").ok(),
            Some(json!(18446744073709551616.0))
        );
        assert_eq!(parse("\"é 😀\"").ok(), Some(json!("é 😀")));
    }

    #[test]
    fn floats_are_correctly_rounded() {
        for text in [
            "0.30000000000000004",
            "944083.6814873276",
            "202240.70999763903",
            "6.63799322458435e-30",
            "1.7976931348623157e+308",
            "5e-324",
            "2.2250738585072011e-308",
        ] {
            let expected: f64 = text.parse().expect("a float");
            assert_eq!(
                parse(text).ok().and_then(|v| v.as_f64()),
                Some(expected),
                "{text}"
            );
        }
    }

    #[test]
    fn refuses_what_python_refuses_or_rust_cannot_hold() {
        for text in [
            "",
            " ",
            "01",
            "+1",
            ".5",
            "5.",
            "1e",
            "-",
            "[1,]",
            "[1 2]",
            "{\"a\" 1}",
            "{1: 2}",
            "{\"a\": 1,}",
            "\"a",
            "\"\\x\"",
            "\"\u{1}\"",
            "tru",
            "nul",
            "[1] x",
            "NaN",
            "Infinity",
            "-Infinity",
            "1e400",
            "\"\\ud800\"",
            "\"\\udc00\"",
            "\"\\ud800\\u0041\"",
            "\"\\u12g4\"",
        ] {
            assert!(parse(text).is_err(), "{text:?}");
        }
        assert!(from_slice::<Value>(b"\"\xff\"").is_err());
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert!(parse(&deep).is_err());
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(parse(&ok).is_ok());
    }
}
