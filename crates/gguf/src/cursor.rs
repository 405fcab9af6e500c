//! A bounds-checked little-endian reader over the file's bytes.
//!
//! Every read goes through [`Cursor::take`], so a truncated file becomes an
//! [`ErrorKind::Truncated`] that names what was being read, never a panic. The cursor also
//! carries that "what" ([`Cursor::context`]) so callers need not thread it through each read.

use crate::error::ErrorKind;

pub(crate) struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// What is being read, for error messages (e.g. `metadata value 'general.name'`).
    pub context: String,
}

impl<'a> Cursor<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            pos: 0,
            context: "the header".to_owned(),
        }
    }

    /// Byte offset of the next read.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Bytes left after the cursor.
    pub fn remaining(&self) -> u64 {
        (self.bytes.len() - self.pos) as u64
    }

    /// The next `n` bytes, or a truncation error if fewer are left.
    pub fn take(&mut self, n: u64) -> Result<&'a [u8], ErrorKind> {
        let available = self.remaining();
        if n > available {
            return Err(ErrorKind::Truncated {
                context: self.context.clone(),
                offset: self.pos as u64,
                needed: n,
                available,
            });
        }
        // n <= remaining <= usize::MAX, so the cast and the slice are in bounds.
        let n = n as usize;
        let out = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], ErrorKind> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N as u64)?);
        Ok(out)
    }

    pub fn u8(&mut self) -> Result<u8, ErrorKind> {
        Ok(self.array::<1>()?[0])
    }
    pub fn i8(&mut self) -> Result<i8, ErrorKind> {
        Ok(i8::from_le_bytes(self.array()?))
    }
    pub fn u16(&mut self) -> Result<u16, ErrorKind> {
        Ok(u16::from_le_bytes(self.array()?))
    }
    pub fn i16(&mut self) -> Result<i16, ErrorKind> {
        Ok(i16::from_le_bytes(self.array()?))
    }
    pub fn u32(&mut self) -> Result<u32, ErrorKind> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    pub fn i32(&mut self) -> Result<i32, ErrorKind> {
        Ok(i32::from_le_bytes(self.array()?))
    }
    pub fn u64(&mut self) -> Result<u64, ErrorKind> {
        Ok(u64::from_le_bytes(self.array()?))
    }
    pub fn i64(&mut self) -> Result<i64, ErrorKind> {
        Ok(i64::from_le_bytes(self.array()?))
    }
    pub fn f32(&mut self) -> Result<f32, ErrorKind> {
        Ok(f32::from_le_bytes(self.array()?))
    }
    pub fn f64(&mut self) -> Result<f64, ErrorKind> {
        Ok(f64::from_le_bytes(self.array()?))
    }

    /// A bool byte; anything but 0 or 1 is rejected rather than guessed at.
    pub fn bool(&mut self) -> Result<bool, ErrorKind> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            value => Err(ErrorKind::InvalidBool {
                context: self.context.clone(),
                value,
            }),
        }
    }

    /// A GGUF string: u64 byte length, then UTF-8 bytes (no terminator).
    pub fn string(&mut self) -> Result<String, ErrorKind> {
        let len = self.u64()?;
        self.check_count(len, 1, "bytes")?;
        let bytes = self.take(len)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| ErrorKind::InvalidUtf8 {
            context: self.context.clone(),
        })
    }

    /// Rejects `count` items of at least `min_size` bytes each when the rest of the file
    /// cannot hold them, so that `Vec::with_capacity(count)` is safe afterwards.
    pub fn check_count(
        &self,
        count: u64,
        min_size: u64,
        unit: &'static str,
    ) -> Result<usize, ErrorKind> {
        let available = self.remaining();
        match count.checked_mul(min_size) {
            Some(total) if total <= available => Ok(count as usize),
            _ => Err(ErrorKind::TooLarge {
                context: self.context.clone(),
                count,
                unit,
                available,
            }),
        }
    }
}
