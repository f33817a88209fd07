//! Plain integers: written as decimal text (what redis-py sends for a Python `int`), read back
//! with Python's `int()` rules (what django-cachex's `decode` tries first). And bare float text
//! (what `INCRBYFLOAT`/`HINCRBYFLOAT` store), read with Python's `float()` rules (what
//! django-cachex 0.14.1's `decode` tries next).

use std::fmt;

use serde::de::value::Error as ValueError;
use serde::de::{DeserializeOwned, IntoDeserializer};
use serde::ser::{self, Impossible, Serialize};

/// The decimal text of `value` when it serializes as a plain integer (any Rust integer type,
/// also through `Some` and newtype structs), `None` for anything else, bools included.
pub(super) fn integer_text<V: Serialize + ?Sized>(value: &V) -> Option<String> {
    value.serialize(IntegerText).ok()
}

/// A parsed integer, as wide as Rust can hold it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Int {
    /// Anything from `i128::MIN` to `i128::MAX`.
    Signed(i128),
    /// Above `i128::MAX`.
    Unsigned(u128),
}

impl fmt::Display for Int {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Signed(n) => n.fmt(f),
            Self::Unsigned(n) => n.fmt(f),
        }
    }
}

/// Whether `bytes` may be number text for [`parse_python_int`] or [`parse_python_float`]: its
/// first byte after ASCII whitespace can start one (a digit, a sign, a point, or the `i` or `n`
/// of `inf` and `nan`). Anything else (a JSON string, object or array, a MessagePack or pickle
/// payload, compressed bytes) is settled by this one look, without either parser.
#[inline]
pub(super) fn may_be_number(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))
        .is_some_and(|b| {
            matches!(
                b,
                b'0'..=b'9' | b'+' | b'-' | b'.' | b'i' | b'I' | b'n' | b'N'
            )
        })
}

/// Parses `bytes` as Python's `int(bytes)` does in base 10: surrounding ASCII whitespace, an
/// optional sign, ASCII digits with single underscores between them, leading zeros allowed.
/// `None` if that fails, or if the number does not fit an `i128`/`u128` (Python has no limit).
pub(super) fn parse_python_int(bytes: &[u8]) -> Option<Int> {
    let is_space = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r');
    let start = bytes.iter().position(|b| !is_space(b))?;
    let end = bytes.iter().rposition(|b| !is_space(b))?;
    let text = bytes.get(start..=end)?;
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, text),
    };
    if !digits.first()?.is_ascii_digit() || !digits.last()?.is_ascii_digit() {
        return None;
    }
    let mut magnitude: u128 = 0;
    let mut after_underscore = false;
    for &byte in digits {
        if byte == b'_' {
            if after_underscore {
                return None;
            }
            after_underscore = true;
            continue;
        }
        if !byte.is_ascii_digit() {
            return None;
        }
        after_underscore = false;
        magnitude = magnitude
            .checked_mul(10)?
            .checked_add(u128::from(byte - b'0'))?;
    }
    if negative {
        0i128.checked_sub_unsigned(magnitude).map(Int::Signed)
    } else {
        Some(match i128::try_from(magnitude) {
            Ok(n) => Int::Signed(n),
            Err(_) => Int::Unsigned(magnitude),
        })
    }
}

/// Parses `bytes` as Python's `float(bytes)` does: surrounding ASCII whitespace, an optional
/// sign, decimal digits with single underscores between digits, an optional fraction and
/// exponent, or `inf`, `infinity`, `nan` in any case. `None` if that fails.
pub(super) fn parse_python_float(bytes: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(bytes)
        .ok()?
        .trim_matches(|c: char| matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r'));
    if !text.contains('_') {
        return text.parse().ok();
    }
    // An underscore only between two digits, as Python allows in numeric literals.
    let chars = text.as_bytes();
    let between_digits = |i: usize| {
        i > 0 && chars[i - 1].is_ascii_digit() && chars.get(i + 1).is_some_and(u8::is_ascii_digit)
    };
    if (0..chars.len()).any(|i| chars[i] == b'_' && !between_digits(i)) {
        return None;
    }
    text.replace('_', "").parse().ok()
}

/// `V` built from the float through serde, or `None` if `V` does not take a float.
pub(super) fn from_float<V: DeserializeOwned>(x: f64) -> Option<V> {
    let result: Result<V, ValueError> = V::deserialize(x.into_deserializer());
    result.ok()
}

/// `V` built from the integer through serde, or `None` if `V` does not take that integer.
/// Values in the `i64`/`u64` range are offered as such, since most types (serde_json's `Value`,
/// the narrower integers) handle those best.
pub(super) fn from_int<V: DeserializeOwned>(n: Int) -> Option<V> {
    let result: Result<V, ValueError> = match n {
        Int::Signed(n) => {
            if let Ok(n) = i64::try_from(n) {
                V::deserialize(n.into_deserializer())
            } else if let Ok(n) = u64::try_from(n) {
                V::deserialize(n.into_deserializer())
            } else {
                V::deserialize(n.into_deserializer())
            }
        }
        Int::Unsigned(n) => V::deserialize(n.into_deserializer()),
    };
    result.ok()
}

/// The integer that Redis' `INCR`/`INCRBY` sees in `bytes`: an optional `-`, then `0` alone or
/// a digit 1-9 followed by digits, in the `i64` range; no sign `+`, no whitespace, no leading
/// zeros (Redis' `string2ll`). `None` otherwise.
pub(super) fn redis_integer(bytes: &[u8]) -> Option<i64> {
    if bytes == b"0" {
        return Some(0);
    }
    if bytes.len() > 20 {
        return None;
    }
    let digits = match bytes.split_first() {
        Some((b'-', rest)) => rest,
        _ => bytes,
    };
    if !matches!(digits.first(), Some(b'1'..=b'9')) || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(bytes).ok()?.parse().ok()
}

/// Why [`IntegerText`] refused a value: it is not a plain integer.
#[derive(Debug)]
pub(super) struct NotInteger;

impl fmt::Display for NotInteger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a plain integer")
    }
}

impl std::error::Error for NotInteger {}

impl ser::Error for NotInteger {
    fn custom<T: fmt::Display>(_msg: T) -> Self {
        Self
    }
}

/// A serde serializer that accepts integers only, and writes their decimal text.
struct IntegerText;

macro_rules! integer {
    ($($method:ident: $ty:ty),* $(,)?) => {
        $(fn $method(self, value: $ty) -> Result<String, NotInteger> {
            Ok(value.to_string())
        })*
    };
}

macro_rules! refuse {
    ($($method:ident $(: $ty:ty)?),* $(,)?) => {
        $(fn $method(self $(, _value: $ty)?) -> Result<String, NotInteger> {
            Err(NotInteger)
        })*
    };
}

impl ser::Serializer for IntegerText {
    type Ok = String;
    type Error = NotInteger;
    type SerializeSeq = Impossible<String, NotInteger>;
    type SerializeTuple = Impossible<String, NotInteger>;
    type SerializeTupleStruct = Impossible<String, NotInteger>;
    type SerializeTupleVariant = Impossible<String, NotInteger>;
    type SerializeMap = Impossible<String, NotInteger>;
    type SerializeStruct = Impossible<String, NotInteger>;
    type SerializeStructVariant = Impossible<String, NotInteger>;

    integer!(
        serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
        serialize_i128: i128, serialize_u8: u8, serialize_u16: u16, serialize_u32: u32,
        serialize_u64: u64, serialize_u128: u128,
    );

    refuse!(
        serialize_bool: bool, serialize_f32: f32, serialize_f64: f64, serialize_char: char,
        serialize_str: &str, serialize_bytes: &[u8], serialize_none, serialize_unit,
    );

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<String, NotInteger> {
        value.serialize(self)
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<String, NotInteger> {
        Err(NotInteger)
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
    ) -> Result<String, NotInteger> {
        Err(NotInteger)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<String, NotInteger> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<String, NotInteger> {
        Err(NotInteger)
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, NotInteger> {
        Err(NotInteger)
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, NotInteger> {
        Err(NotInteger)
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, NotInteger> {
        Err(NotInteger)
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, NotInteger> {
        Err(NotInteger)
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, NotInteger> {
        Err(NotInteger)
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, NotInteger> {
        Err(NotInteger)
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, NotInteger> {
        Err(NotInteger)
    }

    fn collect_str<T: fmt::Display + ?Sized>(self, _value: &T) -> Result<String, NotInteger> {
        Err(NotInteger)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_int_grammar() {
        let ok: &[(&[u8], i128)] = &[
            (b"12", 12),
            (b" 12\n", 12),
            (b"\t\x0b\x0c\r 7 ", 7),
            (b"1_2", 12),
            (b"+5", 5),
            (b"007", 7),
            (b"-0", 0),
            (b"-170141183460469231731687303715884105728", i128::MIN),
        ];
        for (text, n) in ok {
            assert_eq!(parse_python_int(text), Some(Int::Signed(*n)), "{text:?}");
        }
        assert_eq!(
            parse_python_int(b"340282366920938463463374607431768211455"),
            Some(Int::Unsigned(u128::MAX))
        );
        let refused: &[&[u8]] = &[
            b"",
            b" ",
            b"-",
            b"+",
            b"1__2",
            b"_12",
            b"12_",
            b"1 2",
            b"\x0012",
            b"1\x00",
            b"\x1c12",
            b"1.0",
            b"1e3",
            b"0x10",
            b"\"1\"",
            b"true",
            b"--1",
            b"\xd9\xa1",
            // beyond u128 / i128
            b"340282366920938463463374607431768211456",
            b"-170141183460469231731687303715884105729",
        ];
        for text in refused {
            assert_eq!(parse_python_int(text), None, "{text:?}");
        }
    }

    #[test]
    fn python_float_grammar() {
        let ok: &[(&[u8], f64)] = &[
            (b"10.25", 10.25),
            (b"-0.5", -0.5),
            (b" 2.5\n", 2.5),
            (b"+1e3", 1000.0),
            (b"1E-2", 0.01),
            (b".5", 0.5),
            (b"5.", 5.0),
            (b"1_000.2_5", 1000.25),
            (b"1e1_0", 1e10),
            (b"3", 3.0),
            (b"17.300000000000001", 17.3),
        ];
        for (text, x) in ok {
            assert_eq!(parse_python_float(text), Some(*x), "{text:?}");
        }
        assert!(parse_python_float(b"-Infinity").is_some_and(|x| x == f64::NEG_INFINITY));
        assert!(parse_python_float(b"nan").is_some_and(f64::is_nan));
        assert!(parse_python_float(b" INF").is_some_and(|x| x == f64::INFINITY));
        assert!(parse_python_float(b"NaN").is_some_and(f64::is_nan));
        let refused: &[&[u8]] = &[
            b"",
            b" ",
            b".",
            b"1__0.5",
            b"_1.5",
            b"1.5_",
            b"1_.5",
            b"1._5",
            b"1_e5",
            b"1.5.5",
            b"0x1p3",
            b"\"1.5\"",
            b"1.5 x",
            b"\xcb\x3f\xf8\x00\x00\x00\x00\x00\x00",
        ];
        for text in refused {
            assert_eq!(parse_python_float(text), None, "{text:?}");
        }
    }

    #[test]
    fn what_may_not_be_a_number_parses_as_neither() {
        for first in 0..=u8::MAX {
            for rest in [&b""[..], b"1", b"nf", b"nfinity", b"an", b"5e3", b".5"] {
                let text = [&[first][..], rest].concat();
                if !may_be_number(&text) {
                    assert_eq!(parse_python_int(&text), None, "{text:?}");
                    assert_eq!(parse_python_float(&text), None, "{text:?}");
                }
            }
        }
        assert!(may_be_number(b" \t-1"));
        assert!(!may_be_number(b"\"1\""));
        assert!(!may_be_number(b"  "));
    }

    #[test]
    fn redis_integer_grammar() {
        assert_eq!(redis_integer(b"0"), Some(0));
        assert_eq!(redis_integer(b"-12"), Some(-12));
        assert_eq!(redis_integer(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(redis_integer(b"-9223372036854775808"), Some(i64::MIN));
        for text in [
            &b""[..],
            b"-",
            b"-0",
            b"007",
            b"+1",
            b" 1",
            b"1 ",
            b"1_0",
            b"9223372036854775808",
            b"-9223372036854775809",
            b"1.5",
        ] {
            assert_eq!(redis_integer(text), None, "{text:?}");
        }
    }
}
