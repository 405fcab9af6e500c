//! GGUF metadata values and their parsing.
//!
//! Arrays keep their element type ([`MetadataArray`] holds a typed `Vec`), so an empty array
//! still says what it is and a 49k-entry token list is one `Vec<String>`, not 49k enums.

use crate::cursor::Cursor;
use crate::error::ErrorKind;

/// Deepest array-of-array nesting accepted. Real files nest at most once; the bound keeps a
/// hostile file from overflowing the stack through recursion.
pub const MAX_ARRAY_NESTING: usize = 16;

/// One metadata value.
#[derive(Debug, Clone, PartialEq)]
pub enum MetadataValue {
    U8(u8),
    I8(i8),
    U16(u16),
    I16(i16),
    U32(u32),
    I32(i32),
    F32(f32),
    Bool(bool),
    String(String),
    Array(MetadataArray),
    U64(u64),
    I64(i64),
    F64(f64),
}

/// A homogeneous metadata array (arrays of arrays may mix inner element types).
#[derive(Debug, Clone, PartialEq)]
pub enum MetadataArray {
    U8(Vec<u8>),
    I8(Vec<i8>),
    U16(Vec<u16>),
    I16(Vec<i16>),
    U32(Vec<u32>),
    I32(Vec<i32>),
    F32(Vec<f32>),
    Bool(Vec<bool>),
    String(Vec<String>),
    Array(Vec<MetadataArray>),
    U64(Vec<u64>),
    I64(Vec<i64>),
    F64(Vec<f64>),
}

// GGUF value type ids (gguf.h `enum gguf_type`).
const T_U8: u32 = 0;
const T_I8: u32 = 1;
const T_U16: u32 = 2;
const T_I16: u32 = 3;
const T_U32: u32 = 4;
const T_I32: u32 = 5;
const T_F32: u32 = 6;
const T_BOOL: u32 = 7;
const T_STRING: u32 = 8;
const T_ARRAY: u32 = 9;
const T_U64: u32 = 10;
const T_I64: u32 = 11;
const T_F64: u32 = 12;

/// Smallest encoding of one value of a type: bounds how many can fit in the bytes left.
fn min_size(type_id: u32) -> u64 {
    match type_id {
        T_U8 | T_I8 | T_BOOL => 1,
        T_U16 | T_I16 => 2,
        T_U32 | T_I32 | T_F32 => 4,
        T_STRING | T_U64 | T_I64 | T_F64 => 8,
        // element type (u32) + length (u64)
        _ => 12,
    }
}

fn type_name(type_id: u32) -> &'static str {
    match type_id {
        T_U8 => "u8",
        T_I8 => "i8",
        T_U16 => "u16",
        T_I16 => "i16",
        T_U32 => "u32",
        T_I32 => "i32",
        T_F32 => "f32",
        T_BOOL => "bool",
        T_STRING => "string",
        T_ARRAY => "array",
        T_U64 => "u64",
        T_I64 => "i64",
        T_F64 => "f64",
        _ => "unknown",
    }
}

/// Reads one value of type `type_id`; `depth` counts enclosing arrays.
pub(crate) fn read_value(
    cur: &mut Cursor,
    type_id: u32,
    depth: usize,
) -> Result<MetadataValue, ErrorKind> {
    Ok(match type_id {
        T_U8 => MetadataValue::U8(cur.u8()?),
        T_I8 => MetadataValue::I8(cur.i8()?),
        T_U16 => MetadataValue::U16(cur.u16()?),
        T_I16 => MetadataValue::I16(cur.i16()?),
        T_U32 => MetadataValue::U32(cur.u32()?),
        T_I32 => MetadataValue::I32(cur.i32()?),
        T_F32 => MetadataValue::F32(cur.f32()?),
        T_BOOL => MetadataValue::Bool(cur.bool()?),
        T_STRING => MetadataValue::String(cur.string()?),
        T_ARRAY => MetadataValue::Array(read_array(cur, depth + 1)?),
        T_U64 => MetadataValue::U64(cur.u64()?),
        T_I64 => MetadataValue::I64(cur.i64()?),
        T_F64 => MetadataValue::F64(cur.f64()?),
        _ => return Err(unknown_type(cur, type_id)),
    })
}

fn unknown_type(cur: &Cursor, type_id: u32) -> ErrorKind {
    ErrorKind::UnknownValueType {
        context: cur.context.clone(),
        type_id,
    }
}

/// Reads an array body (element type, u64 length, elements). The length is checked against
/// the bytes left before anything is allocated.
fn read_array(cur: &mut Cursor, depth: usize) -> Result<MetadataArray, ErrorKind> {
    if depth > MAX_ARRAY_NESTING {
        return Err(ErrorKind::NestingTooDeep {
            context: cur.context.clone(),
            max: MAX_ARRAY_NESTING,
        });
    }
    let elem = cur.u32()?;
    if elem > T_F64 {
        return Err(unknown_type(cur, elem));
    }
    let len = cur.u64()?;
    let n = cur.check_count(len, min_size(elem), "array elements")?;

    fn many<'a, T>(
        cur: &mut Cursor<'a>,
        n: usize,
        read: impl Fn(&mut Cursor<'a>) -> Result<T, ErrorKind>,
    ) -> Result<Vec<T>, ErrorKind> {
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(read(cur)?);
        }
        Ok(out)
    }

    Ok(match elem {
        T_U8 => MetadataArray::U8(many(cur, n, Cursor::u8)?),
        T_I8 => MetadataArray::I8(many(cur, n, Cursor::i8)?),
        T_U16 => MetadataArray::U16(many(cur, n, Cursor::u16)?),
        T_I16 => MetadataArray::I16(many(cur, n, Cursor::i16)?),
        T_U32 => MetadataArray::U32(many(cur, n, Cursor::u32)?),
        T_I32 => MetadataArray::I32(many(cur, n, Cursor::i32)?),
        T_F32 => MetadataArray::F32(many(cur, n, Cursor::f32)?),
        T_BOOL => MetadataArray::Bool(many(cur, n, Cursor::bool)?),
        T_STRING => MetadataArray::String(many(cur, n, Cursor::string)?),
        T_ARRAY => MetadataArray::Array(many(cur, n, |c| read_array(c, depth + 1))?),
        T_U64 => MetadataArray::U64(many(cur, n, Cursor::u64)?),
        T_I64 => MetadataArray::I64(many(cur, n, Cursor::i64)?),
        _ => MetadataArray::F64(many(cur, n, Cursor::f64)?),
    })
}

impl MetadataValue {
    /// The GGUF type name, e.g. `"u32"` or `"array of string"` (used in error messages).
    pub fn type_name(&self) -> String {
        match self {
            MetadataValue::Array(a) => format!("array of {}", a.element_type_name()),
            other => type_name(other.type_id()).to_owned(),
        }
    }

    fn type_id(&self) -> u32 {
        match self {
            MetadataValue::U8(_) => T_U8,
            MetadataValue::I8(_) => T_I8,
            MetadataValue::U16(_) => T_U16,
            MetadataValue::I16(_) => T_I16,
            MetadataValue::U32(_) => T_U32,
            MetadataValue::I32(_) => T_I32,
            MetadataValue::F32(_) => T_F32,
            MetadataValue::Bool(_) => T_BOOL,
            MetadataValue::String(_) => T_STRING,
            MetadataValue::Array(_) => T_ARRAY,
            MetadataValue::U64(_) => T_U64,
            MetadataValue::I64(_) => T_I64,
            MetadataValue::F64(_) => T_F64,
        }
    }

    /// Any integer type, widened; `None` for non-integers. Writers disagree on integer widths
    /// (a token id may be u32 or i32), so callers ask for a range, not a storage type.
    pub fn as_i128(&self) -> Option<i128> {
        Some(match *self {
            MetadataValue::U8(v) => v.into(),
            MetadataValue::I8(v) => v.into(),
            MetadataValue::U16(v) => v.into(),
            MetadataValue::I16(v) => v.into(),
            MetadataValue::U32(v) => v.into(),
            MetadataValue::I32(v) => v.into(),
            MetadataValue::U64(v) => v.into(),
            MetadataValue::I64(v) => v.into(),
            _ => return None,
        })
    }

    /// An `f32` value (only `f32`: widening an `f64` would silently round).
    pub fn as_f32(&self) -> Option<f32> {
        match *self {
            MetadataValue::F32(v) => Some(v),
            _ => None,
        }
    }

    /// An `f32` or `f64` value, as `f64` (exact for both).
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            MetadataValue::F32(v) => Some(v.into()),
            MetadataValue::F64(v) => Some(v),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            MetadataValue::Bool(v) => Some(v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            MetadataValue::String(v) => Some(v),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&MetadataArray> {
        match self {
            MetadataValue::Array(v) => Some(v),
            _ => None,
        }
    }
}

impl MetadataArray {
    pub fn len(&self) -> usize {
        match self {
            MetadataArray::U8(v) => v.len(),
            MetadataArray::I8(v) => v.len(),
            MetadataArray::U16(v) => v.len(),
            MetadataArray::I16(v) => v.len(),
            MetadataArray::U32(v) => v.len(),
            MetadataArray::I32(v) => v.len(),
            MetadataArray::F32(v) => v.len(),
            MetadataArray::Bool(v) => v.len(),
            MetadataArray::String(v) => v.len(),
            MetadataArray::Array(v) => v.len(),
            MetadataArray::U64(v) => v.len(),
            MetadataArray::I64(v) => v.len(),
            MetadataArray::F64(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The element type name, e.g. `"string"`.
    pub fn element_type_name(&self) -> &'static str {
        type_name(match self {
            MetadataArray::U8(_) => T_U8,
            MetadataArray::I8(_) => T_I8,
            MetadataArray::U16(_) => T_U16,
            MetadataArray::I16(_) => T_I16,
            MetadataArray::U32(_) => T_U32,
            MetadataArray::I32(_) => T_I32,
            MetadataArray::F32(_) => T_F32,
            MetadataArray::Bool(_) => T_BOOL,
            MetadataArray::String(_) => T_STRING,
            MetadataArray::Array(_) => T_ARRAY,
            MetadataArray::U64(_) => T_U64,
            MetadataArray::I64(_) => T_I64,
            MetadataArray::F64(_) => T_F64,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_sizes_cover_every_type() {
        for t in 0..=T_F64 {
            assert_ne!(type_name(t), "unknown");
            assert!(min_size(t) >= 1);
        }
        assert_eq!(type_name(T_F64 + 1), "unknown");
    }
}
