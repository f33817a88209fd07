//! Python's pickle, for plain data only: what django-cachex's default `PickleSerializer` writes
//! for None, bools, numbers, str, bytes, lists, tuples, dicts and sets.
//!
//! Reading is two steps. First [`check_plain_data`] walks the opcode stream and refuses, before
//! anything is decoded, every opcode that names a global, calls one, or builds an object: a
//! pickle is a program for Python's unpickler, and only the opcodes that push plain data are let
//! through (plus the three globals `set`, `frozenset` and `_codecs.encode` that protocols 2 and 3
//! use to spell sets and bytes, and only as arguments-to-data calls). The walk also bounds the
//! nesting depth. Then serde-pickle decodes the checked stream into the requested type; it never
//! runs Python code, but on its own it would turn a class instance into a dict of its state,
//! which is exactly the silent acceptance the check exists to refuse.
//!
//! Writing is serde-pickle's protocol 3, which every Python 3 reads; it only ever writes data
//! opcodes (sets as `builtins.set`, the one global it uses).

use std::collections::HashMap;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// Deepest nesting of containers read, as the JSON and MessagePack readers.
const MAX_DEPTH: u32 = 128;

/// The globals a plain-data pickle of protocol 2 or 3 uses: sets and frozensets are
/// `set([items])`, bytes under protocol 2 are `_codecs.encode(text, "latin1")`.
const ALLOWED_GLOBALS: &[(&[u8], &[u8])] = &[
    (b"builtins", b"set"),
    (b"builtins", b"frozenset"),
    (b"__builtin__", b"set"),
    (b"__builtin__", b"frozenset"),
    (b"_codecs", b"encode"),
];

/// The opcodes refused by name: each names, calls or builds something other than plain data.
const REFUSED: &[(u8, &str)] = &[
    (b'R', "REDUCE"),
    (b'b', "BUILD"),
    (b'i', "INST"),
    (b'o', "OBJ"),
    (0x81, "NEWOBJ"),
    (0x92, "NEWOBJ_EX"),
    (0x93, "STACK_GLOBAL"),
    (b'P', "PERSID"),
    (b'Q', "BINPERSID"),
    (0x82, "EXT1"),
    (0x83, "EXT2"),
    (0x84, "EXT4"),
    (b'2', "DUP"),
    (0x97, "NEXT_BUFFER"),
    (0x98, "READONLY_BUFFER"),
];

/// `value` as a pickle (protocol 3).
pub(super) fn to_vec<V: Serialize + ?Sized>(value: &V) -> Result<Vec<u8>, String> {
    // PROTO 3, the value, STOP: serde-pickle's `to_vec` without its `Sized` bound.
    let mut out = vec![0x80, 3];
    let mut serializer = serde_pickle::Serializer::new(&mut out, serde_pickle::SerOptions::new());
    value
        .serialize(&mut serializer)
        .map_err(|e| e.to_string())?;
    out.push(b'.');
    Ok(out)
}

/// The value a plain-data pickle holds; anything else is refused with the reason.
pub(super) fn from_slice<V: DeserializeOwned>(payload: &[u8]) -> Result<V, String> {
    check_plain_data(payload)?;
    serde_pickle::from_slice(payload, serde_pickle::DeOptions::new()).map_err(|e| e.to_string())
}

/// What the walk knows of one entry of the unpickler's stack.
#[derive(Debug, Clone, Copy)]
enum Slot {
    /// A MARK.
    Mark,
    /// A value: its nesting depth (0 for a scalar), and for a list, dict or set, its index in
    /// [`Walk::objects`] (the only values that opcodes change after they are made).
    Value { depth: u32, object: Option<usize> },
    /// One of the [`ALLOWED_GLOBALS`], waiting for its REDUCE.
    Global,
}

/// A list, dict or set being filled.
#[derive(Debug)]
struct Object {
    depth: u32,
    /// Fetched from the memo (so maybe inside another container): it may no longer change, or
    /// the depth of the containers holding it would be out of date.
    shared: bool,
}

/// The walk over a pickle's opcodes.
struct Walk<'a> {
    input: &'a [u8],
    at: usize,
    stack: Vec<Slot>,
    objects: Vec<Object>,
    memo: HashMap<u64, Slot>,
}

/// Refuses a pickle that is anything but plain data, or nested deeper than [`MAX_DEPTH`].
pub(super) fn check_plain_data(payload: &[u8]) -> Result<(), String> {
    Walk {
        input: payload,
        at: 0,
        stack: Vec::new(),
        objects: Vec::new(),
        memo: HashMap::new(),
    }
    .run()
}

impl<'a> Walk<'a> {
    fn run(&mut self) -> Result<(), String> {
        loop {
            let opcode = self.take(1)?[0];
            match opcode {
                b'.' => return Ok(()),
                b'(' => self.stack.push(Slot::Mark),
                b'0' => drop(self.pop()?),
                b'1' => drop(self.pop_mark()?),
                // NONE, NEWTRUE, NEWFALSE; FLOAT, INT, LONG, STRING, UNICODE; BININT1,
                // BININT2, BININT, BINFLOAT.
                b'N' | 0x88 | 0x89 => self.push_scalar(),
                b'F' | b'I' | b'L' | b'S' | b'V' => {
                    self.line()?;
                    self.push_scalar();
                }
                b'K' | b'M' | b'J' | b'G' => {
                    let width = match opcode {
                        b'K' => 1,
                        b'M' => 2,
                        b'J' => 4,
                        _ => 8,
                    };
                    self.take(width)?;
                    self.push_scalar();
                }
                // Counted strings, bytes, bytearrays and long integers: the count's width.
                b'U' | b'C' | 0x8c | 0x8a => self.counted(1)?,
                b'T' | b'X' | b'B' | 0x8b => self.counted(4)?,
                0x8d | 0x8e | 0x96 => self.counted(8)?,
                // EMPTY_LIST, EMPTY_DICT, EMPTY_SET, EMPTY_TUPLE.
                b']' | b'}' | 0x8f => self.push_object(1)?,
                b')' => self.push_value(1)?,
                // LIST, DICT from the items above the mark; TUPLE, FROZENSET likewise.
                b'l' | b'd' => {
                    let depth = self.pop_mark()? + 1;
                    self.push_object(depth)?;
                }
                b't' | 0x91 => {
                    let depth = self.pop_mark()? + 1;
                    self.push_value(depth)?;
                }
                // TUPLE1, TUPLE2, TUPLE3.
                0x85..=0x87 => {
                    let mut depth = 0;
                    for _ in 0..=opcode - 0x85 {
                        depth = depth.max(self.pop_depth()?);
                    }
                    self.push_value(depth + 1)?;
                }
                // APPEND, SETITEM: one item or pair into the container below; APPENDS,
                // SETITEMS, ADDITEMS: the items above the mark.
                b'a' => {
                    let item = self.pop_depth()?;
                    self.fill(item)?;
                }
                b's' => {
                    let item = self.pop_depth()?.max(self.pop_depth()?);
                    self.fill(item)?;
                }
                b'e' | b'u' | 0x90 => {
                    let items = self.pop_mark()?;
                    self.fill(items)?;
                }
                // PUT, BINPUT, LONG_BINPUT, MEMOIZE.
                b'p' => {
                    let id = self.line_id()?;
                    self.memoize(id)?;
                }
                b'q' => {
                    let id = self.take(1)?[0].into();
                    self.memoize(id)?;
                }
                b'r' => {
                    let id = self.le(4)?;
                    self.memoize(id)?;
                }
                0x94 => self.memoize(self.memo.len() as u64)?,
                // GET, BINGET, LONG_BINGET.
                b'g' => {
                    let id = self.line_id()?;
                    self.get(id)?;
                }
                b'h' => {
                    let id = self.take(1)?[0].into();
                    self.get(id)?;
                }
                b'j' => {
                    let id = self.le(4)?;
                    self.get(id)?;
                }
                // PROTO, FRAME: no data.
                0x80 => drop(self.take(1)?),
                0x95 => drop(self.take(8)?),
                b'c' => {
                    let module = self.line()?;
                    let name = self.line()?;
                    if !ALLOWED_GLOBALS.contains(&(module, name)) {
                        return Err(format!(
                            "refused the opcode GLOBAL {}.{}: only plain data is read, never \
                             classes or callables",
                            String::from_utf8_lossy(module),
                            String::from_utf8_lossy(name)
                        ));
                    }
                    self.stack.push(Slot::Global);
                }
                b'R' => {
                    let arguments = self.pop_depth()?;
                    match self.pop()? {
                        Slot::Global => self.push_value(arguments)?,
                        _ => return Err(refused(opcode)),
                    }
                }
                _ => return Err(refused(opcode)),
            }
        }
    }

    /// The next `n` bytes.
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .at
            .checked_add(n)
            .filter(|end| *end <= self.input.len())
            .ok_or("truncated pickle")?;
        let input = self.input;
        let bytes = &input[self.at..end];
        self.at = end;
        Ok(bytes)
    }

    /// A little-endian unsigned integer of `width` bytes.
    fn le(&mut self, width: usize) -> Result<u64, String> {
        let bytes = self.take(width)?;
        Ok(bytes
            .iter()
            .rev()
            .fold(0, |n, byte| (n << 8) | u64::from(*byte)))
    }

    /// The bytes up to the next newline, which is skipped.
    fn line(&mut self) -> Result<&'a [u8], String> {
        let input = self.input;
        let rest = &input[self.at..];
        let end = rest
            .iter()
            .position(|byte| *byte == b'\n')
            .ok_or("truncated pickle")?;
        self.at += end + 1;
        Ok(&rest[..end])
    }

    /// A memo id written as decimal text on its own line (protocol 0).
    fn line_id(&mut self) -> Result<u64, String> {
        std::str::from_utf8(self.line()?)
            .ok()
            .and_then(|text| text.parse().ok())
            .ok_or_else(|| "a memo id that is not a number".to_owned())
    }

    /// Skips a counted string (the count `width` bytes wide), then pushes it.
    fn counted(&mut self, width: usize) -> Result<(), String> {
        let len = usize::try_from(self.le(width)?).map_err(|_| "truncated pickle")?;
        self.take(len)?;
        self.push_scalar();
        Ok(())
    }

    fn push_scalar(&mut self) {
        self.stack.push(Slot::Value {
            depth: 0,
            object: None,
        });
    }

    /// Pushes an immutable container (tuple, frozenset, a REDUCE's result) `depth` deep.
    fn push_value(&mut self, depth: u32) -> Result<(), String> {
        check_depth(depth)?;
        self.stack.push(Slot::Value {
            depth,
            object: None,
        });
        Ok(())
    }

    /// Pushes a new list, dict or set, `depth` deep.
    fn push_object(&mut self, depth: u32) -> Result<(), String> {
        check_depth(depth)?;
        self.objects.push(Object {
            depth,
            shared: false,
        });
        self.stack.push(Slot::Value {
            depth,
            object: Some(self.objects.len() - 1),
        });
        Ok(())
    }

    fn pop(&mut self) -> Result<Slot, String> {
        self.stack.pop().ok_or_else(|| "stack underflow".to_owned())
    }

    /// The depth of the value on top, popped; a mark or a bare global is refused.
    fn pop_depth(&mut self) -> Result<u32, String> {
        match self.pop()? {
            Slot::Value { depth, object } => Ok(self.current_depth(depth, object)),
            Slot::Mark => Err("a MARK where a value was expected".to_owned()),
            Slot::Global => Err("a global used as data".to_owned()),
        }
    }

    /// Pops the values down to the topmost mark (and it); their greatest depth.
    fn pop_mark(&mut self) -> Result<u32, String> {
        let mut depth = 0;
        loop {
            match self.stack.last() {
                None => return Err("no MARK".to_owned()),
                Some(Slot::Mark) => {
                    self.stack.pop();
                    return Ok(depth);
                }
                Some(_) => depth = depth.max(self.pop_depth()?),
            }
        }
    }

    fn current_depth(&self, depth: u32, object: Option<usize>) -> u32 {
        object
            .and_then(|index| self.objects.get(index))
            .map_or(depth, |object| object.depth)
    }

    /// Puts items at most `items` deep into the list, dict or set on top of the stack.
    fn fill(&mut self, items: u32) -> Result<(), String> {
        let target = match self.stack.last() {
            Some(Slot::Value {
                object: Some(index),
                ..
            }) => self.objects.get_mut(*index),
            _ => None,
        };
        let Some(target) = target else {
            return Err("items added to something that is not a list, dict or set".to_owned());
        };
        if target.shared {
            return Err("items added to a container already referenced elsewhere".to_owned());
        }
        target.depth = target.depth.max(items + 1);
        check_depth(target.depth)
    }

    fn memoize(&mut self, id: u64) -> Result<(), String> {
        let top = *self.stack.last().ok_or("stack underflow")?;
        if matches!(top, Slot::Mark) {
            return Err("a memo entry for a MARK".to_owned());
        }
        self.memo.insert(id, top);
        Ok(())
    }

    fn get(&mut self, id: u64) -> Result<(), String> {
        let slot = *self
            .memo
            .get(&id)
            .ok_or_else(|| format!("memo entry {id} is not set"))?;
        if let Slot::Value {
            object: Some(index),
            ..
        } = slot
            && let Some(object) = self.objects.get_mut(index)
        {
            object.shared = true;
        }
        self.stack.push(slot);
        Ok(())
    }
}

fn check_depth(depth: u32) -> Result<(), String> {
    if depth > MAX_DEPTH {
        Err(format!("nested deeper than {MAX_DEPTH} levels"))
    } else {
        Ok(())
    }
}

/// The refusal of `opcode`, by name when it is one that builds or calls something.
fn refused(opcode: u8) -> String {
    match REFUSED.iter().find(|(code, _)| *code == opcode) {
        Some((_, name)) => format!(
            "refused the opcode {name}: only plain data is read, never classes, callables or \
             objects"
        ),
        None => format!("refused the unknown opcode 0x{opcode:02x}"),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize};

    use super::*;
    use crate::Error;
    use crate::codec::{Codec, Serializer as CodecSerializer};

    /// The plain data of [`PYTHON_PICKLES`], as Rust reads it.
    #[derive(Debug, PartialEq, Deserialize, Serialize)]
    struct Plain {
        text: String,
        int: i64,
        big: i64,
        float: f64,
        yes: bool,
        no: Option<i64>,
        list: (i64, String, f64),
        tuple: (i64, i64),
        set: Vec<i64>,
        frozen: Vec<i64>,
        bytes: Bytes,
        nested: BTreeMap<String, Vec<Vec<i64>>>,
    }

    /// Python's bytes (serde's byte buffers).
    #[derive(Debug, PartialEq)]
    struct Bytes(Vec<u8>);

    impl<'de> Deserialize<'de> for Bytes {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct Visitor;
            impl serde::de::Visitor<'_> for Visitor {
                type Value = Bytes;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("bytes")
                }
                fn visit_byte_buf<E>(self, bytes: Vec<u8>) -> Result<Bytes, E> {
                    Ok(Bytes(bytes))
                }
            }
            deserializer.deserialize_byte_buf(Visitor)
        }
    }

    impl Serialize for Bytes {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.serialize_bytes(&self.0)
        }
    }

    fn plain() -> Plain {
        Plain {
            text: "héllo".into(),
            int: 7,
            big: 1 << 40,
            float: 1.5,
            yes: true,
            no: None,
            list: (1, "two".into(), 3.5),
            tuple: (1, 2),
            set: vec![3],
            frozen: vec![4],
            bytes: Bytes(vec![0, 255]),
            nested: BTreeMap::from([("k".to_owned(), vec![vec![]])]),
        }
    }

    /// `PLAIN` pickled by Python 3.12 with protocols 0 to 5 (`pickle.dumps(value, protocol)`).
    const PYTHON_PICKLES: [&[u8]; 6] = [
        b"(dp0\x0aVtext\x0ap1\x0aVh\xe9llo\x0ap2\x0asVint\x0ap3\x0aI7\x0asVbig\x0ap4\x0aL1099511627776L\x0asVfloat\x0ap5\x0aF1.5\x0asVyes\x0ap6\x0aI01\x0asVno\x0ap7\x0aNsVlist\x0ap8\x0a(lp9\x0aI1\x0aaVtwo\x0ap10\x0aaF3.5\x0aasVtuple\x0ap11\x0a(I1\x0aI2\x0atp12\x0asVset\x0ap13\x0ac__builtin__\x0aset\x0ap14\x0a((lp15\x0aI3\x0aatp16\x0aRp17\x0asVfrozen\x0ap18\x0ac__builtin__\x0afrozenset\x0ap19\x0a((lp20\x0aI4\x0aatp21\x0aRp22\x0asVbytes\x0ap23\x0ac_codecs\x0aencode\x0ap24\x0a(V\x5cu0000\xff\x0ap25\x0aVlatin1\x0ap26\x0atp27\x0aRp28\x0asVnested\x0ap29\x0a(dp30\x0aVk\x0ap31\x0a(lp32\x0a(lp33\x0aass.",
        b"}q\x00(X\x04\x00\x00\x00textq\x01X\x06\x00\x00\x00h\xc3\xa9lloq\x02X\x03\x00\x00\x00intq\x03K\x07X\x03\x00\x00\x00bigq\x04L1099511627776L\x0aX\x05\x00\x00\x00floatq\x05G?\xf8\x00\x00\x00\x00\x00\x00X\x03\x00\x00\x00yesq\x06I01\x0aX\x02\x00\x00\x00noq\x07NX\x04\x00\x00\x00listq\x08]q\x09(K\x01X\x03\x00\x00\x00twoq\x0aG@\x0c\x00\x00\x00\x00\x00\x00eX\x05\x00\x00\x00tupleq\x0b(K\x01K\x02tq\x0cX\x03\x00\x00\x00setq\x0dc__builtin__\x0aset\x0aq\x0e(]q\x0fK\x03atq\x10Rq\x11X\x06\x00\x00\x00frozenq\x12c__builtin__\x0afrozenset\x0aq\x13(]q\x14K\x04atq\x15Rq\x16X\x05\x00\x00\x00bytesq\x17c_codecs\x0aencode\x0aq\x18(X\x03\x00\x00\x00\x00\xc3\xbfq\x19X\x06\x00\x00\x00latin1q\x1atq\x1bRq\x1cX\x06\x00\x00\x00nestedq\x1d}q\x1eX\x01\x00\x00\x00kq\x1f]q ]q!asu.",
        b"\x80\x02}q\x00(X\x04\x00\x00\x00textq\x01X\x06\x00\x00\x00h\xc3\xa9lloq\x02X\x03\x00\x00\x00intq\x03K\x07X\x03\x00\x00\x00bigq\x04\x8a\x06\x00\x00\x00\x00\x00\x01X\x05\x00\x00\x00floatq\x05G?\xf8\x00\x00\x00\x00\x00\x00X\x03\x00\x00\x00yesq\x06\x88X\x02\x00\x00\x00noq\x07NX\x04\x00\x00\x00listq\x08]q\x09(K\x01X\x03\x00\x00\x00twoq\x0aG@\x0c\x00\x00\x00\x00\x00\x00eX\x05\x00\x00\x00tupleq\x0bK\x01K\x02\x86q\x0cX\x03\x00\x00\x00setq\x0dc__builtin__\x0aset\x0aq\x0e]q\x0fK\x03a\x85q\x10Rq\x11X\x06\x00\x00\x00frozenq\x12c__builtin__\x0afrozenset\x0aq\x13]q\x14K\x04a\x85q\x15Rq\x16X\x05\x00\x00\x00bytesq\x17c_codecs\x0aencode\x0aq\x18X\x03\x00\x00\x00\x00\xc3\xbfq\x19X\x06\x00\x00\x00latin1q\x1a\x86q\x1bRq\x1cX\x06\x00\x00\x00nestedq\x1d}q\x1eX\x01\x00\x00\x00kq\x1f]q ]q!asu.",
        b"\x80\x03}q\x00(X\x04\x00\x00\x00textq\x01X\x06\x00\x00\x00h\xc3\xa9lloq\x02X\x03\x00\x00\x00intq\x03K\x07X\x03\x00\x00\x00bigq\x04\x8a\x06\x00\x00\x00\x00\x00\x01X\x05\x00\x00\x00floatq\x05G?\xf8\x00\x00\x00\x00\x00\x00X\x03\x00\x00\x00yesq\x06\x88X\x02\x00\x00\x00noq\x07NX\x04\x00\x00\x00listq\x08]q\x09(K\x01X\x03\x00\x00\x00twoq\x0aG@\x0c\x00\x00\x00\x00\x00\x00eX\x05\x00\x00\x00tupleq\x0bK\x01K\x02\x86q\x0cX\x03\x00\x00\x00setq\x0dcbuiltins\x0aset\x0aq\x0e]q\x0fK\x03a\x85q\x10Rq\x11X\x06\x00\x00\x00frozenq\x12cbuiltins\x0afrozenset\x0aq\x13]q\x14K\x04a\x85q\x15Rq\x16X\x05\x00\x00\x00bytesq\x17C\x02\x00\xffq\x18X\x06\x00\x00\x00nestedq\x19}q\x1aX\x01\x00\x00\x00kq\x1b]q\x1c]q\x1dasu.",
        b"\x80\x04\x95\xaf\x00\x00\x00\x00\x00\x00\x00}\x94(\x8c\x04text\x94\x8c\x06h\xc3\xa9llo\x94\x8c\x03int\x94K\x07\x8c\x03big\x94\x8a\x06\x00\x00\x00\x00\x00\x01\x8c\x05float\x94G?\xf8\x00\x00\x00\x00\x00\x00\x8c\x03yes\x94\x88\x8c\x02no\x94N\x8c\x04list\x94]\x94(K\x01\x8c\x03two\x94G@\x0c\x00\x00\x00\x00\x00\x00e\x8c\x05tuple\x94K\x01K\x02\x86\x94\x8c\x03set\x94\x8f\x94(K\x03\x90\x8c\x06frozen\x94(K\x04\x91\x94\x8c\x05bytes\x94C\x02\x00\xff\x94\x8c\x06nested\x94}\x94\x8c\x01k\x94]\x94]\x94asu.",
        b"\x80\x05\x95\xaf\x00\x00\x00\x00\x00\x00\x00}\x94(\x8c\x04text\x94\x8c\x06h\xc3\xa9llo\x94\x8c\x03int\x94K\x07\x8c\x03big\x94\x8a\x06\x00\x00\x00\x00\x00\x01\x8c\x05float\x94G?\xf8\x00\x00\x00\x00\x00\x00\x8c\x03yes\x94\x88\x8c\x02no\x94N\x8c\x04list\x94]\x94(K\x01\x8c\x03two\x94G@\x0c\x00\x00\x00\x00\x00\x00e\x8c\x05tuple\x94K\x01K\x02\x86\x94\x8c\x03set\x94\x8f\x94(K\x03\x90\x8c\x06frozen\x94(K\x04\x91\x94\x8c\x05bytes\x94C\x02\x00\xff\x94\x8c\x06nested\x94}\x94\x8c\x01k\x94]\x94]\x94asu.",
    ];

    fn pickle_codec() -> Codec {
        Codec::builder()
            .serializer(CodecSerializer::Pickle)
            .build()
            .expect("a pickle codec")
    }

    #[test]
    fn reads_plain_data_of_every_protocol() {
        let codec = pickle_codec();
        for (protocol, bytes) in PYTHON_PICKLES.iter().enumerate() {
            let read: Plain = codec
                .decode("plain", bytes)
                .unwrap_or_else(|e| panic!("protocol {protocol}: {e}"));
            assert_eq!(read, plain(), "protocol {protocol}");
        }
    }

    #[test]
    fn what_it_writes_reads_back() {
        let codec = pickle_codec();
        let bytes = codec.encode(&plain()).expect("encoded");
        assert!(bytes.starts_with(&[0x80, 3]), "protocol 3");
        let read: Plain = codec.decode("plain", &bytes).expect("decoded");
        assert_eq!(read, plain());
        // Integers stay decimal text, whatever the serializer.
        assert_eq!(codec.encode(&42).expect("encoded"), b"42");
    }

    /// Pickles that would run or build something in Python: `os.system("echo pwned")` through
    /// REDUCE (protocols 0, 2 and 5), a `datetime.date`, a class instance (NEWOBJ, BUILD).
    const HOSTILE: &[(&str, &[u8], &str)] = &[
        (
            "os.system, protocol 0",
            b"cposix\nsystem\np0\n(Vecho pwned\np1\ntp2\nRp3\n.",
            "GLOBAL posix.system",
        ),
        (
            "os.system, protocol 2",
            b"\x80\x02cposix\nsystem\nq\x00X\n\x00\x00\x00echo pwnedq\x01\x85q\x02Rq\x03.",
            "GLOBAL posix.system",
        ),
        (
            "os.system, protocol 5",
            b"\x80\x05\x95%\x00\x00\x00\x00\x00\x00\x00\x8c\x05posix\x94\x8c\x06system\x94\x93\
              \x94\x8c\necho pwned\x94\x85\x94R\x94.",
            "STACK_GLOBAL",
        ),
        (
            "datetime.date, protocol 5",
            b"\x80\x05\x95 \x00\x00\x00\x00\x00\x00\x00\x8c\x08datetime\x94\x8c\x04date\x94\x93\
              \x94C\x04\x07\xe4\x01\x02\x94\x85\x94R\x94.",
            "STACK_GLOBAL",
        ),
        (
            "a class instance, protocol 5",
            b"\x80\x05\x95\x1f\x00\x00\x00\x00\x00\x00\x00\x8c\x08__main__\x94\x8c\x01C\x94\x93\
              \x94)\x81\x94}\x94\x8c\x01a\x94K\x01sb.",
            "STACK_GLOBAL",
        ),
        (
            "a class instance, protocol 0",
            b"(i__main__\nC\np0\n(dp1\nVa\np2\nI1\nsb.",
            "INST",
        ),
        (
            "set() called on a tuple",
            b"c__builtin__\nset\n)R.",
            "set() arg",
        ),
    ];

    #[test]
    fn refuses_pickles_that_name_classes_or_callables() {
        let codec = pickle_codec();
        for (what, bytes, opcode) in HOSTILE {
            let error = codec
                .decode::<serde_json::Value>("evil", bytes)
                .expect_err(what);
            let Error::Decode { key, reason } = &error else {
                panic!("{what}: expected Error::Decode, got {error:?}");
            };
            assert_eq!(key, "evil");
            assert!(reason.contains(opcode), "{what}: {reason}");
        }
    }

    #[test]
    fn refuses_nesting_deeper_than_the_other_readers() {
        // 200 lists inside one another, by APPEND (no marks), and through the memo: each list
        // filled after the one it holds was put in it.
        let mut direct = b"\x80\x04".to_vec();
        direct.extend([b']'; 200]);
        direct.extend([b'a'; 199]);
        direct.push(b'.');
        let mut memo = b"\x80\x04".to_vec();
        for id in 0..200u8 {
            memo.extend([b']', b'q', id, b'0']);
        }
        for id in (1..200u8).rev() {
            memo.extend([b'h', id, b'h', id - 1, b'a', b'0']);
        }
        memo.extend(b"h\xc7.");
        for (what, bytes) in [("direct", direct), ("memo", memo)] {
            let reason = check_plain_data(&bytes).expect_err(what);
            assert!(
                reason.contains("deeper") || reason.contains("referenced elsewhere"),
                "{what}: {reason}"
            );
        }
        let mut shallow = b"\x80\x04".to_vec();
        shallow.extend([b']'; 100]);
        shallow.extend([b'a'; 99]);
        shallow.push(b'.');
        check_plain_data(&shallow).expect("100 levels are read");
    }
}
